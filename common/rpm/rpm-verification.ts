// What rpm 4.18 demands of a package beyond the structure of its headers, so that rpmgate takes only
// what `rpm -K`, `rpm -qp` and dnf take, and refuses the rest for the reason rpm gives:
// - rpmvs.c (rpmvfytags, rpmsinfoInit): the digest and signature tags rpm verifies must have their
//   type, count and size, digests must be hex, header signatures must parse (pgpPrtParams);
// - package.c (headerMergeLegacySigs, run by every rpm -qp and every install): the signature tags
//   rpm copies into the main header must have the main header's type and count for them, and the
//   main header must not hold them itself ("invalid signature tag");
// - rpmvsVerify at %_pkgverify_level digest (rpm -K, rpm -i, dnf): the header and the payload must
//   each be covered by a digest rpm 4 knows, else "no digest";
// - rpmKeyringVerifySig without a key (rpm -qp): a header signature's quick-check bytes must match
//   the header, else the signature is BAD.
// The payload digests themselves are checked while the payload streams (digests.ts).
import { createHash } from 'node:crypto';
import { RpmFormatError } from '../errors.ts';
import type { RpmDigest } from './digests.ts';
import type { HeaderEntry, RpmHeader } from './header.ts';
import { parseSignaturePacket } from './signatures.ts';
import { rpm418Tags } from './tag-table.ts';
import {
  describeTag,
  describeType,
  RPM_BIN_TYPE,
  RPM_STRING_ARRAY_TYPE,
  RPM_STRING_TYPE,
  RPMSIGTAG_DSA,
  RPMSIGTAG_FILESIGNATURELENGTH,
  RPMSIGTAG_FILESIGNATURES,
  RPMSIGTAG_GPG,
  RPMSIGTAG_LONGARCHIVESIZE,
  RPMSIGTAG_LONGSIZE,
  RPMSIGTAG_MD5,
  RPMSIGTAG_OPENPGP,
  RPMSIGTAG_PAYLOADSIZE,
  RPMSIGTAG_PGP,
  RPMSIGTAG_PGP5,
  RPMSIGTAG_RESERVEDSPACE,
  RPMSIGTAG_RSA,
  RPMSIGTAG_SHA1,
  RPMSIGTAG_SHA256,
  RPMSIGTAG_SHA3_256,
  RPMSIGTAG_SIZE,
  RPMSIGTAG_VERITYSIGNATUREALGO,
  RPMSIGTAG_VERITYSIGNATURES,
  RPMTAG_ARCHIVESIZE,
  RPMTAG_PAYLOADDIGEST,
  RPMTAG_PAYLOADDIGESTALT,
} from './tags.ts';

/** One verifiable entry of rpmvfytags/rpmvfyitems: what rpmsinfoInit demands, and how rpm names it. */
interface VerifiedTag {
  tag: number;
  type: number;
  count?: number;
  /** Data bytes (strings with their NUL). */
  size?: number;
  kind: 'digest' | 'signature';
  /** rpmsinfoDescr: "Header SHA256 digest", "MD5 digest", "Header RSA signature", ... */
  description: string;
}

const signatureHeaderTags: readonly VerifiedTag[] = [
  { tag: RPMSIGTAG_PGP, type: RPM_BIN_TYPE, kind: 'signature', description: 'RSA signature' },
  { tag: RPMSIGTAG_MD5, type: RPM_BIN_TYPE, size: 16, kind: 'digest', description: 'MD5 digest' },
  { tag: RPMSIGTAG_GPG, type: RPM_BIN_TYPE, kind: 'signature', description: 'DSA signature' },
  { tag: RPMSIGTAG_DSA, type: RPM_BIN_TYPE, kind: 'signature', description: 'Header DSA signature' },
  { tag: RPMSIGTAG_RSA, type: RPM_BIN_TYPE, kind: 'signature', description: 'Header RSA signature' },
  { tag: RPMSIGTAG_SHA1, type: RPM_STRING_TYPE, count: 1, size: 41, kind: 'digest', description: 'Header SHA1 digest' },
  { tag: RPMSIGTAG_SHA256, type: RPM_STRING_TYPE, count: 1, size: 65, kind: 'digest', description: 'Header SHA256 digest' },
];

/** rpmvsAppendTag: the two main header tags rpm verifies, over the payload as stored. */
const mainHeaderTags: readonly VerifiedTag[] = [
  { tag: RPMTAG_PAYLOADDIGEST, type: RPM_STRING_ARRAY_TYPE, kind: 'digest', description: 'Payload SHA256 digest' },
  { tag: RPMTAG_PAYLOADDIGESTALT, type: RPM_STRING_ARRAY_TYPE, kind: 'digest', description: 'Payload SHA256 ALT digest' },
];

/** The header signatures rpm -qp checks (the header+payload ones, PGP and GPG, it leaves to rpm -K). */
const headerSignatureTags = signatureHeaderTags.filter((rule) => rule.tag === RPMSIGTAG_RSA || rule.tag === RPMSIGTAG_DSA);

/**
 * xlateTags of headerMergeLegacySigs: signature tag, the main header tag it becomes, the count it
 * must have (0: any), and whether the main header may hold that tag when the signature header
 * lacks the signature tag (quirk).
 */
const legacySignatureTags: readonly (readonly [signatureTag: number, mainTag: number, count: number, quirk: boolean])[] = [
  [RPMSIGTAG_SIZE, 257, 1, false],
  [RPMSIGTAG_PGP, 259, 0, false],
  [RPMSIGTAG_MD5, 261, 16, false],
  [RPMSIGTAG_GPG, 262, 0, false],
  [RPMSIGTAG_PAYLOADSIZE, RPMTAG_ARCHIVESIZE, 1, true],
  [RPMSIGTAG_FILESIGNATURES, 5090, 0, true],
  [RPMSIGTAG_FILESIGNATURELENGTH, 5091, 1, true],
  [RPMSIGTAG_VERITYSIGNATURES, 276, 0, false],
  [RPMSIGTAG_VERITYSIGNATUREALGO, 277, 1, false],
  [RPMSIGTAG_SHA1, 269, 1, false],
  [RPMSIGTAG_SHA256, 273, 1, false],
  [RPMSIGTAG_DSA, 267, 0, false],
  [RPMSIGTAG_RSA, 268, 0, false],
  [RPMSIGTAG_LONGSIZE, 270, 1, false],
  [RPMSIGTAG_LONGARCHIVESIZE, 271, 1, false],
];
/** headerMergeLegacySigs: "td.count < 1 || td.count > 16*1024*1024". */
const LEGACY_MAX_COUNT = 16 * 1024 * 1024;

/**
 * Signature tags rpm 4.18 ignores but rpmgate reads (rpm 6's OPENPGP and SHA3_256HEADER) or rewrites
 * (the reserved space, the legacy PGP5): held to the types rpm 6's rpmSigInfoParse gives them.
 */
const rpmgateSignatureTags: readonly VerifiedTag[] = [
  { tag: RPMSIGTAG_OPENPGP, type: RPM_STRING_ARRAY_TYPE, kind: 'signature', description: 'OpenPGP signatures' },
  { tag: RPMSIGTAG_SHA3_256, type: RPM_STRING_TYPE, count: 1, size: 65, kind: 'digest', description: 'Header SHA3-256 digest' },
  { tag: RPMSIGTAG_PGP5, type: RPM_BIN_TYPE, kind: 'signature', description: 'PGP5 signature' },
  { tag: RPMSIGTAG_RESERVEDSPACE, type: RPM_BIN_TYPE, kind: 'digest', description: 'reserved space' },
];

const mainTypes: ReadonlyMap<number, number> = new Map(rpm418Tags.map(([tag, , type]) => [tag, type]));

/** PGPHASHALGO_* rpm 4.18 can compute (digest_libgcrypt.c); a signature over another is NOTFOUND, not BAD. */
const signatureHashes: ReadonlyMap<number, string> = new Map([
  [1, 'md5'],
  [2, 'sha1'],
  [8, 'sha256'],
  [9, 'sha384'],
  [10, 'sha512'],
  [11, 'sha224'],
]);

/** Signature tags the reader interprets (digests, sizes, signatures): never taken from outside the region. */
const interpretedSignatureTags: ReadonlySet<number> = new Set([
  ...signatureHeaderTags.map((rule) => rule.tag),
  ...rpmgateSignatureTags.map((rule) => rule.tag),
  RPMSIGTAG_SIZE,
  RPMSIGTAG_LONGSIZE,
]);

/**
 * The signature header's tags as rpm reads them: the entries it verifies (rpmsinfoInit), those it
 * merges into the main header (headerMergeLegacySigs), and the few more rpmgate reads.
 */
export function checkSignatureTags(signature: RpmHeader, main: RpmHeader): void {
  const origin = originName(signature);
  checkEntriesAfterRegion(signature);
  for (const rule of signatureHeaderTags) checkVerifiedTag(signature, rule, origin);
  for (const rule of mainHeaderTags) checkVerifiedTag(main, rule, originName(main));
  for (const rule of rpmgateSignatureTags) checkVerifiedTag(signature, rule, origin);
  checkLegacyTags(signature, main);
}

/**
 * rpmvsVerify at %_pkgverify_level digest: every range must be covered by a digest rpm 4 knows.
 * The header by SHA1HEADER, SHA256HEADER or MD5; the payload by MD5, PAYLOADDIGEST or (checked when
 * the payload is read) PAYLOADDIGESTALT. rpm 6's SHA3-256 and SHA-512 digests do not count: rpm 4
 * does not know them. Without, `rpm -K` fails ("NOTFOUND") and dnf refuses to install ("no digest").
 */
export function requireRpmDigests(digests: readonly RpmDigest[]): void {
  const has = (...names: string[]): boolean => digests.some((digest) => names.includes(digest.name));
  if (!has('SHA1HEADER', 'SHA256HEADER', 'MD5')) {
    throw new RpmFormatError(
      'no digest of the header (Header SHA256 digest, Header SHA1 digest and MD5 digest: NOTFOUND): rpm -K and dnf refuse such a package ("does not verify: no digest")',
    );
  }
  if (!has('MD5', 'PAYLOADDIGEST', 'PAYLOADDIGESTALT')) {
    throw new RpmFormatError(
      'no digest of the payload (Payload SHA256 digest and MD5 digest: NOTFOUND): rpm -K and dnf refuse such a package ("does not verify: no digest")',
    );
  }
}

/**
 * The header signatures rpm -qp checks even without the signer's key: the packet must parse as
 * rpm parses it, and its quick-check bytes must match the digest of this main header (rpm's
 * pgpVerifySignature), which fails when the header was changed after it was signed.
 */
export function checkHeaderSignatures(signature: RpmHeader, mainHeader: Uint8Array): void {
  const origin = originName(signature);
  for (const rule of headerSignatureTags) {
    const packet = signature.binary(rule.tag);
    if (!packet) continue;
    let parsed;
    try {
      parsed = parseSignaturePacket(packet);
    } catch (error) {
      throw new RpmFormatError(`${rule.description}: BAD (${origin} tag ${rule.tag}: invalid OpenPGP signature: ${(error as Error).message})`);
    }
    const algorithm = signatureHashes.get(parsed.hashAlgorithm);
    if (!algorithm) continue;
    if (parsed.sigtype !== 0) {
      throw new RpmFormatError(`${rule.description}: BAD (an OpenPGP signature of type ${parsed.sigtype}, not of a binary document)`);
    }
    const hash = createHash(algorithm).update(mainHeader).update(parsed.hashed);
    if (parsed.version === 4) {
      const trailer = Buffer.from([4, 0xff, 0, 0, 0, 0]);
      trailer.writeUInt32BE(parsed.hashed.length, 2);
      hash.update(trailer);
    }
    const digest = hash.digest();
    if (digest[0] !== parsed.signhash16[0] || digest[1] !== parsed.signhash16[1]) {
      throw new RpmFormatError(`${rule.description}: BAD (it does not match the main header: the header was changed after it was signed)`);
    }
  }
}

/**
 * Entries after the signature region ("dribbles", as some signing tools appended IMA signatures):
 * rpm's verification takes the first entry of a tag (hdrblobGet), its header import the last, and
 * rpmsign, like rpmgate, drops them when it signs. So none may repeat a region tag or hold a digest,
 * size or signature: what rpmgate checks must be what rpm checks and what rpmgate serves.
 */
function checkEntriesAfterRegion(signature: RpmHeader): void {
  if (signature.regionTag === null) return;
  const regionEnd = regionEntryCount(signature);
  const regionTags = new Set(signature.index.slice(1, regionEnd).map((entry) => entry.tag));
  for (const entry of signature.index.slice(regionEnd)) {
    if (regionTags.has(entry.tag) || interpretedSignatureTags.has(entry.tag)) {
      throw new RpmFormatError(
        `signature header: ${describeTag(entry.tag, 'signature')} lies after the signature region, where rpm's checks and rpmsign read it differently`,
      );
    }
  }
}

/** rpmsinfoInit's checks of one present tag, with its messages. */
function checkVerifiedTag(header: RpmHeader, rule: VerifiedTag, origin: string): void {
  const entry = header.entry(rule.tag);
  if (!entry) return;
  const bad = (why: string): RpmFormatError => new RpmFormatError(`${rule.description}: BAD (${origin} tag ${rule.tag}: ${why})`);
  if (entry.type !== rule.type) throw bad(`invalid type ${entry.type} (${describeType(entry.type)}, rpm reads ${describeType(rule.type)})`);
  if (rule.count !== undefined && entry.count !== rule.count) throw bad(`invalid count ${entry.count}`);
  if (rule.size !== undefined && entry.length !== rule.size) throw bad(`invalid size ${entry.length} (rpm expects ${rule.size})`);
  if (rule.kind !== 'digest' || entry.type === RPM_BIN_TYPE) return;
  for (const value of header.strings(rule.tag) ?? []) {
    // validHex: "Our hex data is always even sized and at least sha-1 long"
    if (value.length % 2 !== 0 || value.length < 40 || !/^[0-9a-fA-F]*$/.test(value)) throw bad('invalid hex');
  }
}

/** headerMergeLegacySigs: both loops, in rpm's order. */
function checkLegacyTags(signature: RpmHeader, main: RpmHeader): void {
  for (const [signatureTag, mainTag, , quirk] of legacySignatureTags) {
    if (!main.has(mainTag) || (quirk && !signature.has(signatureTag))) continue;
    throw new RpmFormatError(
      `invalid signature tag ${describeTag(mainTag)}: the main header holds it and so does the signature header (as ${describeTag(signatureTag, 'signature')})`,
    );
  }
  for (const [signatureTag, mainTag, count] of legacySignatureTags) {
    const entry = signature.entry(signatureTag);
    if (!entry) continue;
    const expected = mainTypes.get(mainTag)!;
    const bad = (why: string): RpmFormatError =>
      new RpmFormatError(`invalid signature tag ${describeTag(mainTag)}: ${signature.describe(signatureTag)} ${why}`);
    if (entry.type !== expected) throw bad(`has type ${describeType(entry.type)}, rpm reads ${describeType(expected)}`);
    if (entry.count < 1 || entry.count > LEGACY_MAX_COUNT) throw bad(`has count ${entry.count}`);
    if (count !== 0 && entry.count !== count) throw bad(`has count ${entry.count}, rpm reads ${count}`);
  }
}

/** rpmvsAppend names a tag's origin "package" when the region covers the whole header, else "header". */
function originName(header: RpmHeader): string {
  return regionEntryCount(header) === header.index.length ? 'package' : 'header';
}

/** The entries inside the header's region (ril), the region tag included; 0 without a region. */
function regionEntryCount(header: RpmHeader): number {
  if (header.regionTag === null) return 0;
  const region: HeaderEntry = header.index[0]!;
  if (region.offset === 0) return header.index.length;
  const dataStart = 16 + 16 * header.intro.indexCount;
  const trailer = new DataView(header.bytes.buffer, header.bytes.byteOffset + dataStart + region.offset, 16);
  return -trailer.getInt32(8) / 16;
}
