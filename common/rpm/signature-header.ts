// Rewrites an RPM signature header with a new OpenPGP header signature, as `rpmsign --addsign` does
// (rpm sign/rpmgensig.c, rpmSign): take the entries of the signature region (unloadImmutableRegion),
// drop every package signature (deleteSigs: RSAHEADER 268, DSAHEADER 267, PGP 1002, GPG 1005, PGP5
// 1006), put the new one under the tag its public key algorithm calls for (makeSigTag/putSignature),
// resize the reserved space so that the header keeps its size, and serialise it again as one
// region (headerReload + headerExport in lib/header.c). Digests, sizes, IMA/fs-verity file
// signatures and every other tag are kept byte for byte. Pure: bytes in, bytes out.
import { RpmFormatError } from '../errors.ts';
import type { RpmHeader } from './header.ts';
import { readPacketHeader } from './signatures.ts';
import {
  describeTag,
  RPM_BIN_TYPE,
  RPM_STRING_ARRAY_TYPE,
  RPMSIGTAG_DSA,
  RPMSIGTAG_GPG,
  RPMSIGTAG_OPENPGP,
  RPMSIGTAG_PGP,
  RPMSIGTAG_PGP5,
  RPMSIGTAG_RESERVED,
  RPMSIGTAG_RESERVEDSPACE,
  RPMSIGTAG_RSA,
  RPMTAG_HEADERSIGNATURES,
  typeAlign,
} from './tags.ts';

/** One signature header entry with its raw (big-endian, as stored) data. */
export interface SignatureEntry {
  tag: number;
  type: number;
  count: number;
  data: Uint8Array;
}

/** What an OpenPGP signature packet says about itself (RFC 4880 §5.2.3), enough to file it in a header. */
export interface PgpSignatureInfo {
  version: number;
  /** Public key algorithm: 1 RSA, 17 DSA, 19 ECDSA, 22 EdDSA (legacy), 27 Ed25519, ... */
  pubkeyAlgorithm: number;
  /** Hash algorithm: 8 SHA256, 10 SHA512, ... */
  hashAlgorithm: number;
}

export interface ResignOptions {
  /** The new header-only signature: one binary OpenPGP v4 signature packet over the main header blob. */
  headerSignature: Uint8Array;
  /**
   * A header+payload signature (rpm's "v3" signature, PGP 1002 / GPG 1005). rpm adds one when the
   * main header records no payload digest (rpmSign: "Always add V3 signatures if no payload digest
   * present"), because the header signature alone would then not cover the payload.
   */
  headerPayloadSignature?: Uint8Array;
  /**
   * 'v6' packages (RPMFORMAT 6) also get the signature in rpm 6's OPENPGP tag (278) and keep their
   * spare room in RESERVED (999); 'v4' packages use RESERVEDSPACE (1008), as rpm 6's rpmSign does.
   */
  format: 'v4' | 'v6';
}

export interface ResignedSignatureHeader {
  /** The signature header, magic through the end of its data store (no padding). */
  bytes: Uint8Array;
  /** bytes.length rounded up to 8: where the main header starts, counted from the end of the lead. */
  paddedSize: number;
  /** True when the reserved space absorbed the change and the header kept its original size. */
  sameSize: boolean;
}

const HEADER_MAGIC = Uint8Array.of(0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0);
const INTRO_SIZE = 16;
const ENTRY_SIZE = 16;
const TRAILER_SIZE = 16;
/** rpm 4.18's hdrblobVerifyLengths for a signature header: at most 32 tags and 64 KiB of data. */
const SIGNATURE_MAX_TAGS = 32;
const SIGNATURE_MAX_DATA = 64 * 1024;

/** deleteSigs (rpmgensig.c): the package signatures rpmsign removes before adding its own. */
const packageSignatureTags: ReadonlySet<number> = new Set([RPMSIGTAG_GPG, RPMSIGTAG_PGP, RPMSIGTAG_DSA, RPMSIGTAG_RSA, RPMSIGTAG_PGP5]);

/** PGPPUBKEYALGO_* that rpm files under DSAHEADER/GPG (makeSigTag); RSA goes under RSAHEADER/PGP. */
const PUBKEY_RSA = 1;
const dsaLikeAlgorithms: ReadonlySet<number> = new Set([17, 19, 22]);

/**
 * The entries rpmsign works on: those of the signature region (entries appended after the region,
 * "dribbles", are dropped as unloadImmutableRegion drops them), or every entry of a header without a
 * region. The region tag itself is not returned: it is rebuilt on output.
 */
export function readSignatureEntries(header: RpmHeader): SignatureEntry[] {
  const dataStart = INTRO_SIZE + ENTRY_SIZE * header.intro.indexCount;
  let first = 0;
  let end = header.index.length;
  if (header.regionTag !== null) {
    first = 1;
    const region = header.index[0]!;
    if (region.offset !== 0) {
      const trailer = new DataView(header.bytes.buffer, header.bytes.byteOffset + dataStart + region.offset, TRAILER_SIZE);
      end = -trailer.getInt32(8) / ENTRY_SIZE;
    }
  }
  const entries: SignatureEntry[] = [];
  for (let i = first; i < end; i++) {
    const entry = header.index[i]!;
    const start = dataStart + entry.offset;
    entries.push({ tag: entry.tag, type: entry.type, count: entry.count, data: header.bytes.slice(start, start + entry.length) });
  }
  return entries;
}

/**
 * Serialises signature entries the way rpm writes a signature header it has rebuilt: the
 * HEADERSIGNATURES region entry first, then the entries sorted by tag with their data in the same
 * order, each aligned to its type's size from the start of the data store (doExport), and the
 * 16-byte region trailer (tag 62, BIN, offset -16 * index entries, count 16) after the last data.
 */
export function writeSignatureHeader(entries: readonly SignatureEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.tag === sorted[i - 1]!.tag) throw new RpmFormatError(`signature header would hold ${describeTag(sorted[i]!.tag, 'signature')} twice`);
  }
  const offsets: number[] = [];
  let dataLength = 0;
  for (const entry of sorted) {
    if (entry.tag === RPMTAG_HEADERSIGNATURES) throw new RpmFormatError('the region tag is written by writeSignatureHeader itself');
    if (entry.count < 1 || entry.data.length === 0) throw new RpmFormatError(`${describeTag(entry.tag, 'signature')} has no data (rpm refuses empty entries)`);
    dataLength = align(dataLength, typeAlign[entry.type] ?? 1);
    offsets.push(dataLength);
    dataLength += entry.data.length;
  }
  const trailerOffset = dataLength;
  const indexCount = sorted.length + 1;
  const dl = dataLength + TRAILER_SIZE;
  if (indexCount > SIGNATURE_MAX_TAGS || dl > SIGNATURE_MAX_DATA) {
    throw new RpmFormatError(`a signature header of ${indexCount} tags and ${dl} data bytes exceeds rpm 4.18's limits (32 tags, 64 KiB)`);
  }
  const bytes = new Uint8Array(INTRO_SIZE + ENTRY_SIZE * indexCount + dl);
  const view = new DataView(bytes.buffer);
  bytes.set(HEADER_MAGIC, 0);
  view.setUint32(8, indexCount);
  view.setUint32(12, dl);
  const writeEntry = (at: number, tag: number, type: number, offset: number, count: number): void => {
    view.setUint32(at, tag);
    view.setUint32(at + 4, type);
    view.setInt32(at + 8, offset);
    view.setUint32(at + 12, count);
  };
  const dataStart = INTRO_SIZE + ENTRY_SIZE * indexCount;
  writeEntry(INTRO_SIZE, RPMTAG_HEADERSIGNATURES, RPM_BIN_TYPE, trailerOffset, TRAILER_SIZE);
  sorted.forEach((entry, i) => {
    writeEntry(INTRO_SIZE + ENTRY_SIZE * (i + 1), entry.tag, entry.type, offsets[i]!, entry.count);
    bytes.set(entry.data, dataStart + offsets[i]!);
  });
  writeEntry(dataStart + trailerOffset, RPMTAG_HEADERSIGNATURES, RPM_BIN_TYPE, -ENTRY_SIZE * indexCount, TRAILER_SIZE);
  return bytes;
}

/** rpmWriteSignature pads the signature header with zeros to a multiple of 8 bytes. */
export function signaturePadding(size: number): number {
  return (8 - (size % 8)) % 8;
}

/**
 * The signature header of `original` with `options.headerSignature` as the package's only
 * signature. The reserved space (RESERVEDSPACE 1008, or RESERVED 999 in v6 packages) shrinks or
 * grows by the change in size, so the file keeps its size and the main header its offset whenever
 * there is room: rpm's rpmSign "Adjust reserved size for added/removed signatures" (the rpm ≥ 4.20
 * form, which also gives back the room of a larger signature it removed; 4.18 only ever shrinks).
 */
export function resignSignatureHeader(original: RpmHeader, options: ResignOptions): ResignedSignatureHeader {
  const headerInfo = parsePgpSignature(options.headerSignature);
  const entries = readSignatureEntries(original).filter(
    (entry) => !packageSignatureTags.has(entry.tag) && entry.tag !== RPMSIGTAG_OPENPGP,
  );
  entries.push({ tag: signatureTag(headerInfo, 'header'), type: RPM_BIN_TYPE, count: options.headerSignature.length, data: options.headerSignature });
  if (options.headerPayloadSignature) {
    if (options.format === 'v6') throw new RpmFormatError('rpm puts no header+payload signature in v6 packages');
    const info = parsePgpSignature(options.headerPayloadSignature);
    entries.push({ tag: signatureTag(info, 'header+payload'), type: RPM_BIN_TYPE, count: options.headerPayloadSignature.length, data: options.headerPayloadSignature });
  }
  if (options.format === 'v6') {
    // rpm 6 keeps v6 signatures as base64 strings in OPENPGP (putSignature, multisig); rpm 4.x
    // ignores the tag and reads the RSAHEADER/DSAHEADER copy.
    const text = new TextEncoder().encode(`${Buffer.from(options.headerSignature).toString('base64')}\0`);
    entries.push({ tag: RPMSIGTAG_OPENPGP, type: RPM_STRING_ARRAY_TYPE, count: 1, data: text });
  }
  const reserveTag = options.format === 'v6' ? RPMSIGTAG_RESERVED : RPMSIGTAG_RESERVEDSPACE;
  const target = original.intro.size;
  let bytes = writeSignatureHeader(entries);
  const reserve = entries.find((entry) => entry.tag === reserveTag && entry.type === RPM_BIN_TYPE);
  // A reserve after other aligned entries could shift their padding: settle in a few passes.
  for (let pass = 0; reserve && bytes.length !== target && pass < 4; pass++) {
    const count = reserve.count + (target - bytes.length);
    // "The header doesn't support zero-sized data": without enough room the header grows instead.
    if (count < 1) break;
    reserve.count = count;
    reserve.data = new Uint8Array(count);
    bytes = writeSignatureHeader(entries);
  }
  return { bytes, paddedSize: bytes.length + signaturePadding(bytes.length), sameSize: bytes.length === target };
}

/**
 * Reads the version and algorithms of a single OpenPGP signature packet (old or new packet format)
 * and refuses anything rpm would not take as a header signature.
 */
export function parsePgpSignature(packet: Uint8Array): PgpSignatureInfo {
  const { tag, bodyStart, bodyLength } = readPacketHeader(packet);
  if (tag !== 2) throw new RpmFormatError(`OpenPGP packet of type ${tag}, not a signature (2)`);
  if (bodyStart + bodyLength !== packet.length) {
    throw new RpmFormatError(`the OpenPGP signature is ${packet.length} bytes but its packet header says ${bodyStart + bodyLength}`);
  }
  const version = packet[bodyStart]!;
  if (version !== 4) throw new RpmFormatError(`OpenPGP v${version} signature: rpm 4 reads v4 header signatures`);
  return { version, pubkeyAlgorithm: packet[bodyStart + 2]!, hashAlgorithm: packet[bodyStart + 3]! };
}

/** makeSigTag: RSA → RSAHEADER / PGP; DSA, ECDSA, EdDSA → DSAHEADER / GPG; anything else is refused. */
function signatureTag(info: PgpSignatureInfo, range: 'header' | 'header+payload'): number {
  if (info.pubkeyAlgorithm === PUBKEY_RSA) return range === 'header' ? RPMSIGTAG_RSA : RPMSIGTAG_PGP;
  if (dsaLikeAlgorithms.has(info.pubkeyAlgorithm)) return range === 'header' ? RPMSIGTAG_DSA : RPMSIGTAG_GPG;
  throw new RpmFormatError(`OpenPGP public key algorithm ${info.pubkeyAlgorithm} cannot sign rpm v4 headers`);
}

function align(offset: number, alignment: number): number {
  const rest = offset % alignment;
  return rest === 0 ? offset : offset + alignment - rest;
}
