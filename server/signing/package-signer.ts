// Signs packages on the fly as they enter: the served copy of an upload carries rpmgate's header
// signature in place of whatever signatures it came with (the original upload is kept as it was).
// Only the lead and headers are held in memory; the payload streams from the upload to the signed
// copy, hashed on the way. Same input, same key → same bytes, so concurrent uploads of one file
// produce one signed file.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { RpmgateError } from '../../common/errors.ts';
import type { ParsedRpm } from '../../common/rpm/reader.ts';
import { resignSignatureHeader } from '../../common/rpm/signature-header.ts';
import { RPMTAG_PAYLOADDIGEST, RPMTAG_PAYLOADDIGESTALT } from '../../common/rpm/tags.ts';
import type { WrittenFile } from '../store/store.ts';
import type { SigningKey, SigningKeySource } from './keyring.ts';
import type { PackageSigner, ServedFile } from './signer.ts';

const LEAD_SIZE = 96;
const COPY_CHUNK = 1 << 20;

export interface SignedFile extends ServedFile {
  /** Fingerprint of the key whose signature the served file carries (store it with the row: rotation looks for other values). */
  signedBy: string;
}

export interface SignRpmOptions {
  /** Where to write the signed copy (must not exist); default: a fresh name next to the input. */
  outputPath?: string;
  /** Signature date; default: signatureDate(package build time, key, now). */
  date?: Date;
  now?: () => Date;
}

/** A PackageSigner whose served files say which key signed them. */
export interface KeyringPackageSigner extends PackageSigner {
  prepareServedFile(upload: WrittenFile, parsed: ParsedRpm): Promise<SignedFile>;
}

/** A PackageSigner that signs every upload with the keyring's current key. */
export function createPackageSigner(keys: SigningKeySource, options: { now?: () => Date } = {}): KeyringPackageSigner {
  return {
    async prepareServedFile(upload: WrittenFile, parsed: ParsedRpm): Promise<SignedFile> {
      return signRpmFile(upload, parsed, keys.current(), { now: options.now });
    },
  };
}

/**
 * The signature date: the package's build time when the key already existed then (and it is not in
 * the future), else the first instant the key could sign. Both are fixed for a given package and
 * key, which keeps the signed bytes deterministic; a date before the key's creation would be
 * refused by Sequoia-based rpm (≥ 4.19) and by gpg.
 */
export function signatureDate(buildtime: number, key: SigningKey, now: Date): Date {
  const built = buildtime * 1000;
  if (built >= key.validFrom.getTime() && built <= now.getTime()) return new Date(built);
  return key.validFrom;
}

/**
 * Writes a signed copy of the RPM at `input.path` (parsed as `parsed`), or returns the input itself
 * when it already carries exactly the signature this key would write.
 */
export async function signRpmFile(input: WrittenFile, parsed: ParsedRpm, key: SigningKey, options: SignRpmOptions = {}): Promise<SignedFile> {
  if (parsed.isDeltaRpm) throw new RpmgateError('unprocessable', 'a delta RPM (drpm) cannot be signed: it is not a package');
  if (parsed.format === 'v3') {
    // rpmsign refuses too ("Cannot sign RPM v3 packages"): without an immutable region there is
    // no header blob for a header-only signature to cover.
    throw new RpmgateError('unprocessable', 'cannot sign an RPM v3 package (its main header has no immutable region): rebuild it with rpm ≥ 4');
  }
  const now = options.now?.() ?? new Date();
  const date = options.date ?? signatureDate(parsed.package.buildtime, key, now);
  const main = parsed.mainHeader.header;
  const headerSignature = await key.sign(parsed.mainHeader.bytes, date);
  // rpmsign's rule: without a payload digest the header signature does not vouch for the payload,
  // so a header+payload signature is added (v4 packages only; v6 always has payload digests).
  const needsPayloadSignature = parsed.format === 'v4' && !main.has(RPMTAG_PAYLOADDIGEST) && !main.has(RPMTAG_PAYLOADDIGESTALT);
  const headerPayloadSignature = needsPayloadSignature ? await key.sign(fileStream(input.path, parsed.mainHeader.offset), date) : undefined;
  const signature = resignSignatureHeader(parsed.signatureHeader.header, {
    headerSignature,
    headerPayloadSignature,
    format: parsed.format,
  });
  const signedBy = key.info.fingerprint;
  if (sameBytes(signature.bytes, parsed.signatureHeader.bytes)) {
    return { ...input, headerRange: { ...parsed.package.headerRange }, signedBy };
  }
  const outputPath = options.outputPath ?? path.join(path.dirname(input.path), `${path.basename(input.path)}.signed-${randomBytes(6).toString('hex')}`);
  const written = await writeSignedCopy(input.path, parsed, signature.bytes, signature.paddedSize, outputPath);
  const start = LEAD_SIZE + signature.paddedSize;
  return { ...written, headerRange: { start, end: start + parsed.mainHeader.size }, signedBy };
}

/** Lead as it was, the new signature header and its padding, then main header and payload copied through. */
async function writeSignedCopy(inputPath: string, parsed: ParsedRpm, signatureHeader: Uint8Array, paddedSize: number, outputPath: string): Promise<WrittenFile> {
  const hash = createHash('sha256');
  let size = 0;
  const input = await fs.open(inputPath, 'r');
  try {
    const output = await fs.open(outputPath, 'wx', 0o644);
    try {
      const write = async (bytes: Uint8Array): Promise<void> => {
        hash.update(bytes);
        size += bytes.length;
        let done = 0;
        while (done < bytes.length) done += (await output.write(bytes, done, bytes.length - done)).bytesWritten;
      };
      const lead = Buffer.alloc(LEAD_SIZE);
      if ((await input.read(lead, 0, LEAD_SIZE, 0)).bytesRead !== LEAD_SIZE) throw new RpmgateError('internal', `${inputPath} lost its lead`);
      await write(lead);
      await write(signatureHeader);
      await write(new Uint8Array(paddedSize - signatureHeader.length));
      const { size: inputSize } = await input.stat();
      const chunk = Buffer.allocUnsafe(COPY_CHUNK);
      let position = parsed.mainHeader.offset;
      for (;;) {
        const { bytesRead } = await input.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        await write(chunk.subarray(0, bytesRead));
        position += bytesRead;
      }
      if (position !== inputSize) throw new RpmgateError('internal', `${inputPath} changed while it was signed`);
      await output.sync();
    } finally {
      await output.close();
    }
  } catch (error) {
    await fs.rm(outputPath, { force: true });
    throw error;
  } finally {
    await input.close();
  }
  return { path: outputPath, sha256: hash.digest('hex'), size };
}

function fileStream(file: string, start: number): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(file, { start, highWaterMark: COPY_CHUNK })) as unknown as ReadableStream<Uint8Array>;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
