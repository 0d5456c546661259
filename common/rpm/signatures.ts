// The OpenPGP signatures a package carries in its signature header, as raw packets for the code that
// verifies or replaces them. The reader does not judge them: rpm's verdict depends on the keyring.
// Tags (rpmtag.h, lib/signature.c): RSAHEADER 268 and DSAHEADER 267 (also EdDSA/ECDSA) sign the main
// header; PGP 1002, GPG 1005 and PGP5 1006 sign header + payload (legacy, written beside the header
// signature by rpm < 4.14 and by rpmsign --rpmv3); OPENPGP 278 is rpm 6's list of header signatures,
// each a base64 string.
import { RpmFormatError } from '../errors.ts';
import type { RpmHeader } from './header.ts';
import { RPMSIGTAG_DSA, RPMSIGTAG_GPG, RPMSIGTAG_OPENPGP, RPMSIGTAG_PGP, RPMSIGTAG_PGP5, RPMSIGTAG_RSA } from './tags.ts';

export type SignatureTagName = 'RSAHEADER' | 'DSAHEADER' | 'OPENPGP' | 'PGP' | 'GPG' | 'PGP5';

export interface RpmSignature {
  tag: number;
  name: SignatureTagName;
  /** What the signature covers: the main header only, or header + payload (legacy). */
  range: 'header' | 'header+payload';
  /** The OpenPGP signature packet (OPENPGP values base64-decoded). */
  packet: Uint8Array;
}

const binarySignatures: readonly [number, SignatureTagName, RpmSignature['range']][] = [
  [RPMSIGTAG_RSA, 'RSAHEADER', 'header'],
  [RPMSIGTAG_DSA, 'DSAHEADER', 'header'],
  [RPMSIGTAG_PGP, 'PGP', 'header+payload'],
  [RPMSIGTAG_GPG, 'GPG', 'header+payload'],
  [RPMSIGTAG_PGP5, 'PGP5', 'header+payload'],
];

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function collectSignatures(signature: RpmHeader): RpmSignature[] {
  const found: RpmSignature[] = [];
  for (const [tag, name, range] of binarySignatures) {
    const packet = signature.binary(tag);
    if (packet) found.push({ tag, name, range, packet });
  }
  for (const text of signature.strings(RPMSIGTAG_OPENPGP) ?? []) {
    if (text.length === 0 || !BASE64.test(text)) {
      throw new RpmFormatError(`${signature.describe(RPMSIGTAG_OPENPGP)} holds a value that is not base64`);
    }
    found.push({ tag: RPMSIGTAG_OPENPGP, name: 'OPENPGP', range: 'header', packet: Buffer.from(text, 'base64') });
  }
  return found;
}

/**
 * For the upload policy, which refuses what rpm refuses ("BAD ... invalid OpenPGP signature"): the
 * packet must be one that rpm's OpenPGP parser takes (see parseSignaturePacket).
 */
export function assertSignaturePacket(packet: Uint8Array, name: string): void {
  try {
    parseSignaturePacket(packet);
  } catch (error) {
    throw new RpmFormatError(`the ${name} signature is not a valid OpenPGP signature: ${(error as Error).message}`);
  }
}

/** What rpm takes from a signature packet to check it. */
export interface SignaturePacket {
  version: 3 | 4;
  /** 0 for a signature of a binary document, the only kind rpm accepts over a header. */
  sigtype: number;
  /** Public key algorithm: 1 RSA, 17 DSA, 19 ECDSA, 22 EdDSA. */
  pubkeyAlgorithm: number;
  /** Hash algorithm: 1 MD5, 2 SHA1, 8 SHA256, 9 SHA384, 10 SHA512, 11 SHA224, ... */
  hashAlgorithm: number;
  /** What is hashed after the signed data: v4 the packet body through the hashed subpackets, v3 sigtype and time. */
  hashed: Uint8Array;
  /** The first two bytes of the signed digest, kept in the packet for a quick check without the key. */
  signhash16: Uint8Array;
}

/** PGPPUBKEYALGO_* → signature MPIs: rpm 4.18 with libgcrypt (pgpSignatureNew) knows RSA, DSA, EdDSA. */
const signatureMpis: ReadonlyMap<number, number> = new Map([
  [1, 1],
  [17, 2],
  [22, 2],
  // ECDSA: rpm 4.18 refuses it as "invalid OpenPGP signature" where rpm >= 4.19 (Sequoia) reads it;
  // rpmgate replaces the signature anyway, so it takes ECDSA as the newer rpm does (README).
  [19, 2],
]);
/** libgcrypt's MAX_EXTERN_MPI_BITS: gcry_mpi_scan refuses larger numbers. */
const MAX_MPI_BITS = 16384;
/** RPM_MAX_OPENPGP_BYTES (pgpPrtParams): larger data is refused before it is parsed. */
const MAX_OPENPGP_BYTES = 65535;

/**
 * One OpenPGP signature packet read as rpm 4.18's own parser reads it (rpmio/rpmpgp_internal.c:
 * pgpPrtParams, decodePkt, pgpPrtSig, pgpPrtSubType, processMpis): exactly one signature packet
 * filling the data, v3 (hash length 5) or v4, hashed and unhashed subpackets that parse, a hashed
 * creation time (once), no unknown critical subpacket, the quick-check bytes, and the number of
 * MPIs its algorithm has, filling the rest. Throws RpmFormatError saying what rpm would stumble on.
 */
export function parseSignaturePacket(packet: Uint8Array): SignaturePacket {
  const bad = (why: string): RpmFormatError => new RpmFormatError(why);
  if (packet.length > MAX_OPENPGP_BYTES) throw bad(`${packet.length} bytes, more than rpm reads (${MAX_OPENPGP_BYTES})`);
  const { tag, bodyStart, bodyLength } = readPacketHeader(packet);
  if (bodyStart + bodyLength > packet.length) throw bad(`the packet says ${bodyStart + bodyLength} bytes but has ${packet.length}`);
  if (tag !== 2) throw bad(`packet of type ${tag}, not a signature`);
  if (bodyStart + bodyLength !== packet.length) throw bad(`${packet.length} bytes where the packet says ${bodyStart + bodyLength}`);
  const h = packet.subarray(bodyStart);
  const version = h[0];
  let pubkeyAlgorithm: number;
  let mpisStart: number;
  let result: Omit<SignaturePacket, 'pubkeyAlgorithm'>;
  if (version === 3) {
    // pgpPktSigV3: version, hashlen (5), sigtype, time[4], signid[8], pubkey_algo, hash_algo, signhash16[2].
    if (h.length <= 19) throw bad('a v3 signature shorter than its fixed fields');
    if (h[1] !== 5) throw bad(`v3 hashed length ${h[1]}, not 5`);
    pubkeyAlgorithm = h[15]!;
    result = { version, sigtype: h[2]!, hashAlgorithm: h[16]!, hashed: h.subarray(2, 7), signhash16: h.subarray(17, 19) };
    mpisStart = 19;
  } else if (version === 4) {
    // pgpPktSigV4: version, sigtype, pubkey_algo, hash_algo, hashlen[2], then the subpackets.
    if (h.length <= 6) throw bad('a v4 signature shorter than its fixed fields');
    const hashedLength = (h[4]! << 8) | h[5]!;
    if (6 + hashedLength > h.length) throw bad('the hashed subpackets run past the packet');
    const state = { creationTime: false, keyFlags: false };
    parseSubpackets(h.subarray(6, 6 + hashedLength), true, state);
    if (!state.creationTime) throw bad('no signature creation time'); // RFC 4880 §5.2.3.4: it MUST be hashed
    let p = 6 + hashedLength;
    if (h.length - p < 2) throw bad('no unhashed subpacket length');
    const unhashedLength = (h[p]! << 8) | h[p + 1]!;
    p += 2;
    if (p + unhashedLength > h.length) throw bad('the unhashed subpackets run past the packet');
    parseSubpackets(h.subarray(p, p + unhashedLength), false, state);
    p += unhashedLength;
    if (h.length - p < 2) throw bad('no quick-check bytes');
    pubkeyAlgorithm = h[2]!;
    result = { version, sigtype: h[1]!, hashAlgorithm: h[3]!, hashed: h.subarray(0, 6 + hashedLength), signhash16: h.subarray(p, p + 2) };
    mpisStart = p + 2;
  } else {
    throw bad(`signature version ${version}`);
  }
  const mpis = signatureMpis.get(pubkeyAlgorithm);
  if (mpis === undefined) throw bad(`public key algorithm ${pubkeyAlgorithm}, which rpm cannot verify`);
  let p = mpisStart;
  let count = 0;
  for (; count < mpis && h.length - p >= 2; count++) {
    const bits = (h[p]! << 8) | h[p + 1]!;
    const length = 2 + ((bits + 7) >> 3);
    if (h.length - p < length || bits > MAX_MPI_BITS) throw bad(`MPI ${count + 1} runs past the packet`);
    p += length;
  }
  if (count !== mpis || p !== h.length) throw bad(`the signature values do not fill the packet as ${mpis} MPIs`);
  return { ...result, pubkeyAlgorithm };
}

/** pgpPrtSubType: subpackets of a v4 signature, as rpm parses and judges them. */
function parseSubpackets(bytes: Uint8Array, hashed: boolean, state: { creationTime: boolean; keyFlags: boolean }): void {
  let p = 0;
  while (p < bytes.length) {
    const length = subpacketLength(bytes, p);
    if (length === null || length.value < 1) throw new RpmFormatError(`${hashed ? 'hashed' : 'unhashed'} subpacket at ${p} has a bad length`);
    p += length.size;
    const type = bytes[p]! & 0x7f;
    const critical = (bytes[p]! & 0x80) !== 0;
    let understood = false;
    if (type === 2 && hashed && length.value === 5) {
      if (state.creationTime) throw new RpmFormatError('two signature creation times');
      state.creationTime = understood = true;
    } else if (type === 16) {
      understood = true; // issuer key ID
    } else if (type === 27 && hashed) {
      if (state.keyFlags) throw new RpmFormatError('two key flags subpackets');
      state.keyFlags = understood = true;
    }
    if (critical && !understood) throw new RpmFormatError(`critical subpacket of type ${type} that rpm does not understand`);
    p += length.value;
  }
}

/** pgpLen: a 1, 2 or 5 byte subpacket length that fits in what is left; partial lengths refused. */
function subpacketLength(bytes: Uint8Array, at: number): { size: number; value: number } | null {
  const left = bytes.length - at;
  const s0 = bytes[at]!;
  let size = 0;
  let value = 0;
  if (s0 < 192) [size, value] = [1, s0];
  else if (s0 < 224 && left > 2) [size, value] = [2, ((s0 - 192) << 8) + bytes[at + 1]! + 192];
  else if (s0 === 255 && left > 5) [size, value] = [5, ((bytes[at + 1]! << 24) >>> 0) + (bytes[at + 2]! << 16) + (bytes[at + 3]! << 8) + bytes[at + 4]!];
  return size === 0 || left - size < value ? null : { size, value };
}

export interface PacketHeader {
  /** The packet type (2 for a signature). */
  tag: number;
  bodyStart: number;
  bodyLength: number;
}

/** The header of one OpenPGP packet (RFC 4880 §4.2, old and new format); partial lengths refused. */
export function readPacketHeader(packet: Uint8Array): PacketHeader {
  const first = packet[0];
  if (first === undefined || (first & 0x80) === 0) throw new RpmFormatError('not an OpenPGP packet');
  if (first & 0x40) {
    const l0 = packet[1] ?? 0;
    const tag = first & 0x3f;
    if (l0 < 192) return { tag, bodyStart: 2, bodyLength: l0 };
    if (l0 < 224) return { tag, bodyStart: 3, bodyLength: ((l0 - 192) << 8) + (packet[2] ?? 0) + 192 };
    if (l0 === 255 && packet.length >= 6) {
      return { tag, bodyStart: 6, bodyLength: ((packet[2]! << 24) >>> 0) + (packet[3]! << 16) + (packet[4]! << 8) + packet[5]! };
    }
    throw new RpmFormatError('partial or truncated packet length');
  }
  const lengthType = first & 0x03;
  if (lengthType === 3) throw new RpmFormatError('indeterminate packet length');
  const size = 1 << lengthType;
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + (packet[1 + i] ?? 0);
  return { tag: (first >> 2) & 0x0f, bodyStart: 1 + size, bodyLength: length };
}
