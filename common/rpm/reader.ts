// Reads an RPM file: lead, signature header, main header, then (for files) the payload streamed
// through its digests. parseRpm works on bytes in memory; readRpmFile reads only the headers into
// memory and never holds the payload. Both refuse damaged input with RpmFormatError and nothing else,
// and refuse whatever rpm 4.18's `rpm -K` or `rpm -qp` refuses (rpm-verification.ts), so that every
// package read here installs with dnf.
import { open, type FileHandle } from 'node:fs/promises';
import { RpmFormatError } from '../errors.ts';
import {
  collectDigests,
  collectRecordedSizes,
  PayloadVerifier,
  verifyHeaderDigests,
  type RecordedSizes,
  type RpmDigest,
} from './digests.ts';
import { HEADER_INTRO_SIZE, readHeaderIntro, RpmHeader } from './header.ts';
import { LEAD_SIZE, parseLead, type RpmLead } from './lead.ts';
import { packageFromHeaders } from './package-from-header.ts';
import type { RpmPackage } from './package.ts';
import { checkHeaderSignatures, checkSignatureTags, requireRpmDigests } from './rpm-verification.ts';
import { collectSignatures, type RpmSignature } from './signatures.ts';
import { RPMTAG_PAYLOADCOMPRESSOR, RPMTAG_PAYLOADFORMAT, RPMTAG_RPMFORMAT } from './tags.ts';

export type { RpmDigest, RpmSignature, RpmLead };
export { RpmHeader };

/** A header's place in the file, with its parsed index and values. */
export interface HeaderSection {
  /** File offset of the header magic. */
  offset: number;
  /** 16 + 16 * index entries + data bytes. */
  size: number;
  /** size rounded up to 8 for the signature header (the padding rpm writes after it), else size. */
  paddedSize: number;
  /** The header bytes, magic through end of data, without padding (a view into the parsed bytes). */
  bytes: Uint8Array;
  header: RpmHeader;
}

export interface ParsedRpm {
  package: RpmPackage;
  lead: RpmLead;
  /** The signature header: always at byte 96. */
  signatureHeader: HeaderSection;
  /** The main header: starts at package.headerRange.start. */
  mainHeader: HeaderSection;
  /** File offset of the (usually compressed) payload: the end of the main header. */
  payloadOffset: number;
  /** v3: no immutable header region; v6: RPMFORMAT 6 (rpm 6); v4: everything else. */
  format: 'v3' | 'v4' | 'v6';
  /** PAYLOADFORMAT "drpm": a delta RPM (makedeltarpm), which rpm queries but nothing can install. */
  isDeltaRpm: boolean;
  /** PAYLOADFORMAT ("cpio", "drpm"), null when absent. */
  payloadFormat: string | null;
  /** PAYLOADCOMPRESSOR ("gzip", "xz", "zstd", ...), null when absent (then the payload is uncompressed cpio, or gzip in very old packages). */
  payloadCompressor: string | null;
  /** Every digest the package records, verified or not (see `verified`). */
  digests: RpmDigest[];
  /** Recorded sizes checked against the file when the payload is verified. */
  recordedSizes: RecordedSizes;
  /** OpenPGP signatures present in the signature header, unverified. */
  signatures: RpmSignature[];
  /** What was checked: header digests always; payload digests and sizes by readRpmFile or { verifyPayload: true }. */
  verified: { header: string[]; payload: string[] };
  /** Main header tags the model reads whose text was not valid UTF-8 and was repaired (see header-strings.ts). */
  nonUtf8Tags: number[];
}

export interface ParseOptions {
  /** Size of the whole file when `bytes` holds only its beginning (at least lead and headers). Default: bytes.length. */
  packageSize?: number;
  /** Check the payload digests and recorded sizes too; `bytes` must then hold the whole file. */
  verifyPayload?: boolean;
}

/**
 * Parses an RPM from bytes holding at least its lead and both headers; the payload may follow or
 * not. Checks the structure like rpm and the header digests; the payload only with verifyPayload.
 * The returned header bytes are views into `bytes`.
 */
export function parseRpm(bytes: Uint8Array, options: ParseOptions = {}): ParsedRpm {
  const packageSize = options.packageSize ?? bytes.length;
  if (packageSize < bytes.length) throw new RangeError(`packageSize ${packageSize} is smaller than the ${bytes.length} bytes given`);
  if (options.verifyPayload && packageSize !== bytes.length) {
    throw new RangeError('verifyPayload needs the whole file in bytes');
  }
  return guard(() => {
    const parsed = parseHeaders(bytes, packageSize);
    if (!options.verifyPayload) return parsed;
    const verifier = new PayloadVerifier(parsed.digests, parsed.recordedSizes, parsed.mainHeader.bytes);
    verifier.update(bytes.subarray(parsed.payloadOffset));
    return { ...parsed, verified: { header: parsed.verified.header, payload: verifier.finish() } };
  });
}

/**
 * Reads an RPM file: the lead and headers into memory (bounded by rpm's header limits), then the
 * payload in 1 MiB chunks through every payload digest and recorded size. File system errors
 * (missing file, permissions) are passed through as they are.
 */
export async function readRpmFile(path: string): Promise<ParsedRpm> {
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const prefix = await readHeaderBytes(file, fileSize);
    const parsed = parseRpm(prefix, { packageSize: fileSize });
    const verifier = new PayloadVerifier(parsed.digests, parsed.recordedSizes, parsed.mainHeader.bytes);
    const chunk = Buffer.allocUnsafe(1 << 20);
    let position = parsed.payloadOffset;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      verifier.update(chunk.subarray(0, bytesRead));
      position += bytesRead;
    }
    if (position !== fileSize) {
      throw new RpmFormatError(`the file changed while it was read: ${position} bytes read, ${fileSize} expected`);
    }
    const payload = guard(() => verifier.finish());
    return { ...parsed, verified: { header: parsed.verified.header, payload } };
  } finally {
    await file.close();
  }
}

function parseHeaders(bytes: Uint8Array, packageSize: number): ParsedRpm {
  const lead = parseLead(bytes);
  const signature = RpmHeader.parse(bytes, LEAD_SIZE, 'signature', packageSize);
  const main = RpmHeader.parse(bytes, signature.end, 'main', packageSize);
  const payloadOffset = main.offset + main.intro.size;
  checkSignatureTags(signature, main);
  const digests = collectDigests(signature, main);
  requireRpmDigests(digests);
  const verifiedHeader = verifyHeaderDigests(digests, main.bytes);
  checkHeaderSignatures(signature, main.bytes);
  const pkg = packageFromHeaders(lead, signature, main, packageSize);
  const payloadFormat = main.string(RPMTAG_PAYLOADFORMAT) ?? null;
  const format = main.regionTag === null ? 'v3' : main.number(RPMTAG_RPMFORMAT) === 6 ? 'v6' : 'v4';
  return {
    package: pkg,
    lead,
    signatureHeader: section(signature),
    mainHeader: section(main),
    payloadOffset,
    format,
    isDeltaRpm: payloadFormat === 'drpm',
    payloadFormat,
    payloadCompressor: main.string(RPMTAG_PAYLOADCOMPRESSOR) ?? null,
    digests,
    recordedSizes: collectRecordedSizes(signature, main),
    signatures: collectSignatures(signature),
    verified: { header: verifiedHeader, payload: [] },
    nonUtf8Tags: main.repairedTags,
  };
}

function section(header: RpmHeader): HeaderSection {
  return { offset: header.offset, size: header.intro.size, paddedSize: header.intro.paddedSize, bytes: header.bytes, header };
}

/**
 * Reads lead, signature header (with padding) and main header, sizing each read from the intro
 * before it, so a header's declared size is checked against rpm's limits before it is read. Reads
 * stop at the end of the file; parseRpm then reports what is missing.
 */
async function readHeaderBytes(file: FileHandle, fileSize: number): Promise<Buffer> {
  let bytes = await readAt(file, 0, Math.min(fileSize, LEAD_SIZE + HEADER_INTRO_SIZE));
  if (bytes.length < LEAD_SIZE + HEADER_INTRO_SIZE) return bytes;
  parseLead(bytes);
  const signature = readHeaderIntro(bytes, LEAD_SIZE, 'signature', fileSize);
  const mainOffset = LEAD_SIZE + signature.paddedSize;
  bytes = await extendTo(file, bytes, Math.min(fileSize, mainOffset + HEADER_INTRO_SIZE));
  if (bytes.length < mainOffset + HEADER_INTRO_SIZE) return bytes;
  const main = readHeaderIntro(bytes, mainOffset, 'main', fileSize);
  return extendTo(file, bytes, Math.min(fileSize, mainOffset + main.size));
}

async function extendTo(file: FileHandle, bytes: Buffer, length: number): Promise<Buffer> {
  if (length <= bytes.length) return bytes;
  const rest = await readAt(file, bytes.length, length - bytes.length);
  return Buffer.concat([bytes, rest]);
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Keeps the promise that bad input yields RpmFormatError only, even if a check was missed. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RpmFormatError) throw error;
    throw new RpmFormatError(`unreadable RPM (unexpected reader failure: ${error instanceof Error ? error.message : String(error)})`);
  }
}
