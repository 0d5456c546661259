// The digests and sizes a package records about itself, and their verification: header digests
// at once (the header is in memory), payload digests and sizes while the payload streams past.
// Which tag covers what follows rpm's lib/signature.c (rpmSigInfoParse) and lib/rpmvs.c:
//   SHA1HEADER 269, SHA256HEADER 273, SHA3_256HEADER 279: the main header (magic to end of data)
//   MD5 1004, SIZE 1000, LONGSIZE 270: main header + payload (legacy, absent from v6 and nfpm)
//   PAYLOADDIGEST 5092 (SHA-256: rpm 4 ignores PAYLOADDIGESTALGO 5093, which rpmbuild sets to 8),
//   PAYLOADSHA512 5121, PAYLOADSHA3_256 5123, PAYLOADSIZE 5112: the payload as stored (compressed)
//   PAYLOADDIGESTALT 5097, PAYLOADSHA512ALT 5122, PAYLOADSHA3_256ALT 5124: the uncompressed payload;
//   recorded but not verified (that needs every decompressor rpm knows), except PAYLOADDIGESTALT
//   without PAYLOADDIGEST: rpm 4 then checks it against the payload as stored, as rpmgate does.
import { createHash, type Hash } from 'node:crypto';
import { RpmFormatError } from '../errors.ts';
import type { RpmHeader } from './header.ts';
import {
  describeTag,
  RPMSIGTAG_LONGSIZE,
  RPMSIGTAG_MD5,
  RPMSIGTAG_SHA1,
  RPMSIGTAG_SHA256,
  RPMSIGTAG_SHA3_256,
  RPMSIGTAG_SIZE,
  RPMTAG_PAYLOADDIGEST,
  RPMTAG_PAYLOADDIGESTALGO,
  RPMTAG_PAYLOADDIGESTALT,
  RPMTAG_PAYLOADSHA3_256,
  RPMTAG_PAYLOADSHA3_256ALT,
  RPMTAG_PAYLOADSHA512,
  RPMTAG_PAYLOADSHA512ALT,
  RPMTAG_PAYLOADSIZE,
} from './tags.ts';

export type DigestAlgorithm = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';

/** What a digest is computed over. */
export type DigestRange = 'header' | 'header+payload' | 'payload' | 'uncompressed-payload';

export interface RpmDigest {
  /** Which header holds it. */
  header: 'signature' | 'main';
  tag: number;
  /** rpm's tag name: SHA256HEADER, MD5, PAYLOADDIGEST, ... */
  name: string;
  algorithm: DigestAlgorithm;
  range: DigestRange;
  /** Lowercase hex. */
  hex: string;
}

/** Sizes recorded for checking: SIZE/LONGSIZE (header + payload) and rpm 6's PAYLOADSIZE (stored payload). */
export interface RecordedSizes {
  headerAndPayload: number | null;
  payload: number | null;
}

/** PGPHASHALGO_SHA256 (rpmpgp.h): the only payload digest algorithm rpm 4 writes and reads. */
const PGPHASHALGO_SHA256 = 8;

const hexLengths: Readonly<Record<DigestAlgorithm, number>> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
  'sha3-256': 64,
  'sha3-512': 128,
};

/** Every digest the two headers record, in a stable order (signature header first). */
export function collectDigests(signature: RpmHeader, main: RpmHeader): RpmDigest[] {
  const digests: RpmDigest[] = [];
  const sigString = (tag: number, name: string, algorithm: DigestAlgorithm): void => {
    const value = signature.string(tag);
    if (value !== undefined) digests.push({ header: 'signature', tag, name, algorithm, range: 'header', hex: checkHex(value, algorithm, signature, tag) });
  };
  sigString(RPMSIGTAG_SHA1, 'SHA1HEADER', 'sha1');
  sigString(RPMSIGTAG_SHA256, 'SHA256HEADER', 'sha256');
  sigString(RPMSIGTAG_SHA3_256, 'SHA3_256HEADER', 'sha3-256');
  const md5 = signature.binary(RPMSIGTAG_MD5);
  if (md5) digests.push({ header: 'signature', tag: RPMSIGTAG_MD5, name: 'MD5', algorithm: 'md5', range: 'header+payload', hex: Buffer.from(md5).toString('hex') });

  const payloadDigests = main.strings(RPMTAG_PAYLOADDIGEST);
  const payloadDigestsAlt = main.strings(RPMTAG_PAYLOADDIGESTALT);
  if (payloadDigests || payloadDigestsAlt) {
    const algorithm = payloadAlgorithm(main);
    for (const value of payloadDigests ?? []) {
      digests.push({ header: 'main', tag: RPMTAG_PAYLOADDIGEST, name: 'PAYLOADDIGEST', algorithm, range: 'payload', hex: checkHex(value, algorithm, main, RPMTAG_PAYLOADDIGEST) });
    }
    for (const value of payloadDigestsAlt ?? []) {
      digests.push({ header: 'main', tag: RPMTAG_PAYLOADDIGESTALT, name: 'PAYLOADDIGESTALT', algorithm, range: 'uncompressed-payload', hex: checkHex(value, algorithm, main, RPMTAG_PAYLOADDIGESTALT) });
    }
  }
  const mainString = (tag: number, name: string, algorithm: DigestAlgorithm, range: DigestRange): void => {
    const value = main.string(tag);
    if (value !== undefined) digests.push({ header: 'main', tag, name, algorithm, range, hex: checkHex(value, algorithm, main, tag) });
  };
  mainString(RPMTAG_PAYLOADSHA512, 'PAYLOADSHA512', 'sha512', 'payload');
  mainString(RPMTAG_PAYLOADSHA512ALT, 'PAYLOADSHA512ALT', 'sha512', 'uncompressed-payload');
  mainString(RPMTAG_PAYLOADSHA3_256, 'PAYLOADSHA3_256', 'sha3-256', 'payload');
  mainString(RPMTAG_PAYLOADSHA3_256ALT, 'PAYLOADSHA3_256ALT', 'sha3-256', 'uncompressed-payload');
  return digests;
}

export function collectRecordedSizes(signature: RpmHeader, main: RpmHeader): RecordedSizes {
  return {
    headerAndPayload: signature.number(RPMSIGTAG_LONGSIZE) ?? signature.number(RPMSIGTAG_SIZE) ?? null,
    payload: main.number(RPMTAG_PAYLOADSIZE) ?? null,
  };
}

/**
 * Checks the digests over the main header bytes (magic through end of data). Returns the names of
 * the digests checked; throws on the first mismatch.
 */
export function verifyHeaderDigests(digests: readonly RpmDigest[], mainHeader: Uint8Array): string[] {
  const checked: string[] = [];
  for (const digest of digests) {
    if (digest.range !== 'header') continue;
    const actual = createHash(digest.algorithm).update(mainHeader).digest('hex');
    if (actual !== digest.hex) throw mismatch(digest, actual);
    checked.push(digest.name);
  }
  return checked;
}

/**
 * Hashes a payload as it streams past and checks, at the end, every payload and header+payload
 * digest and every recorded size. Feed it the payload bytes in order, then call finish().
 */
export class PayloadVerifier {
  private readonly hashes: { digest: RpmDigest; hash: Hash }[] = [];
  private payloadBytes = 0;

  constructor(
    private readonly digests: readonly RpmDigest[],
    private readonly sizes: RecordedSizes,
    private readonly mainHeader: Uint8Array,
  ) {
    // One hash object per algorithm and range: v4 packages often repeat nothing, but a
    // PAYLOADDIGEST array may hold the same digest more than once.
    const byKey = new Map<string, Hash>();
    for (const digest of digests) {
      if (!checksRange(digest, digests)) continue;
      const key = hashKey(digest);
      let hash = byKey.get(key);
      if (!hash) {
        hash = createHash(digest.algorithm);
        if (digest.range === 'header+payload') hash.update(mainHeader);
        byKey.set(key, hash);
        this.hashes.push({ digest, hash });
      }
    }
  }

  update(chunk: Uint8Array): void {
    this.payloadBytes += chunk.length;
    for (const { hash } of this.hashes) hash.update(chunk);
  }

  /** Throws RpmFormatError on any mismatch; returns what was checked (digest names, then SIZE/PAYLOADSIZE). */
  finish(): string[] {
    const checked: string[] = [];
    if (this.payloadBytes === 0) {
      throw new RpmFormatError('truncated RPM: the file ends where the payload should begin (no payload)');
    }
    const headerAndPayload = this.mainHeader.length + this.payloadBytes;
    if (this.sizes.headerAndPayload !== null && this.sizes.headerAndPayload !== headerAndPayload) {
      throw new RpmFormatError(
        `size mismatch: the signature header records ${this.sizes.headerAndPayload} bytes of header and payload but the file has ${headerAndPayload}`,
      );
    }
    if (this.sizes.payload !== null && this.sizes.payload !== this.payloadBytes) {
      throw new RpmFormatError(`size mismatch: PAYLOADSIZE records ${this.sizes.payload} payload bytes but the file has ${this.payloadBytes}`);
    }
    const results = new Map<string, string>();
    for (const { digest, hash } of this.hashes) results.set(hashKey(digest), hash.digest('hex'));
    for (const digest of this.digests) {
      const actual = checksRange(digest, this.digests) ? results.get(hashKey(digest)) : undefined;
      if (actual === undefined) continue;
      if (actual !== digest.hex) throw digest.name === 'PAYLOADDIGESTALT' ? altMismatch(digest, actual) : mismatch(digest, actual);
      if (!checked.includes(digest.name)) checked.push(digest.name);
    }
    if (this.sizes.headerAndPayload !== null) checked.push('SIZE');
    if (this.sizes.payload !== null) checked.push('PAYLOADSIZE');
    return checked;
  }
}

/**
 * Whether the payload verifier checks this digest: those over the payload as stored or header and
 * payload, and PAYLOADDIGESTALT when PAYLOADDIGEST is missing. rpm 4 hashes the payload as read
 * from the file for both tags; while PAYLOADDIGEST verifies, the failure of its alternative is
 * ignored (rpmvsVerify, getAlt), and without it PAYLOADDIGESTALT verifies only an uncompressed payload.
 */
function checksRange(digest: RpmDigest, all: readonly RpmDigest[]): boolean {
  if (digest.range === 'payload' || digest.range === 'header+payload') return true;
  return digest.name === 'PAYLOADDIGESTALT' && !all.some((other) => other.name === 'PAYLOADDIGEST');
}

/** Digests hashed over the same bytes with the same algorithm share one hash. */
function hashKey(digest: RpmDigest): string {
  const range = digest.name === 'PAYLOADDIGESTALT' ? 'payload' : digest.range;
  return `${digest.algorithm}:${range}`;
}

function payloadAlgorithm(main: RpmHeader): DigestAlgorithm {
  const id = main.number(RPMTAG_PAYLOADDIGESTALGO);
  // rpm 4's rpmvfyitems verify PAYLOADDIGEST as SHA-256 whatever this tag says: another algorithm
  // would fail on every host running rpm 4.
  if (id !== undefined && id !== PGPHASHALGO_SHA256) {
    throw new RpmFormatError(`Payload SHA256 digest: BAD (${describeTag(RPMTAG_PAYLOADDIGESTALGO)} names hash algorithm ${id}, but rpm 4 computes PAYLOADDIGEST as SHA-256)`);
  }
  return 'sha256';
}

function checkHex(value: string, algorithm: DigestAlgorithm, header: RpmHeader, tag: number): string {
  if (value.length !== hexLengths[algorithm] || !/^[0-9a-fA-F]+$/.test(value)) {
    throw new RpmFormatError(`${header.describe(tag)} is not a ${algorithm} hex digest: ${JSON.stringify(value.slice(0, 140))}`);
  }
  return value.toLowerCase();
}

function altMismatch(digest: RpmDigest, actual: string): RpmFormatError {
  return new RpmFormatError(
    `Payload SHA256 ALT digest: BAD (without PAYLOADDIGEST, rpm 4 checks PAYLOADDIGESTALT against the payload as stored, which hashes to ${actual}, but the package records ${digest.hex})`,
  );
}

function mismatch(digest: RpmDigest, actual: string): RpmFormatError {
  return new RpmFormatError(
    `${digest.name} digest mismatch: the ${digest.range} hashes to ${digest.algorithm} ${actual} but the package records ${digest.hex}`,
  );
}
