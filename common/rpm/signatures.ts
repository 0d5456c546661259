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
 * For the upload policy, which refuses what rpm refuses ("BAD ... invalid OpenPGP signature"):
 * the structure rpm's pgpPrtParams needs before it looks at any key: one OpenPGP packet of type 2
 * (signature), old or new packet format, whose length matches the tag's data, of version 3 or 4
 * (what rpm 4 parses; rpm 6 also writes v6 in OPENPGP, which is not checked here), and for v4 a
 * creation time.
 */
export function assertSignaturePacket(packet: Uint8Array, name: string): void {
  const bad = (why: string) => new RpmFormatError(`the ${name} signature is not a valid OpenPGP signature: ${why}`);
  let header: PacketHeader;
  try {
    header = readPacketHeader(packet);
  } catch (error) {
    throw bad((error as Error).message);
  }
  const { tag, bodyStart, bodyLength } = header;
  if (tag !== 2) throw bad(`packet of type ${tag}, not a signature`);
  if (bodyStart + bodyLength !== packet.length) throw bad(`${packet.length} bytes where the packet says ${bodyStart + bodyLength}`);
  const version = packet[bodyStart];
  if (version !== 3 && version !== 4) throw bad(`signature version ${version}`);
  if (version === 4 && !hasCreationTime(packet.subarray(bodyStart))) {
    // RFC 4880 §5.2.3.4: a v4 signature MUST carry its creation time; rpm refuses one that does not.
    throw bad('no signature creation time');
  }
}

/** Whether a v4 signature body's hashed subpackets hold a creation time (subpacket type 2). */
function hasCreationTime(body: Uint8Array): boolean {
  if (body.length < 6) return false;
  const hashedLength = (body[4]! << 8) | body[5]!;
  const end = 6 + hashedLength;
  if (end > body.length) return false;
  let offset = 6;
  while (offset < end) {
    const l0 = body[offset]!;
    let length: number;
    if (l0 < 192) [length, offset] = [l0, offset + 1];
    else if (l0 < 255) [length, offset] = [((l0 - 192) << 8) + (body[offset + 1] ?? 0) + 192, offset + 2];
    else [length, offset] = [((body[offset + 1]! << 24) >>> 0) + (body[offset + 2]! << 16) + (body[offset + 3]! << 8) + body[offset + 4]!, offset + 5];
    if (length === 0 || offset + length > end) return false;
    if ((body[offset]! & 0x7f) === 2 && length === 5) return true;
    offset += length;
  }
  return false;
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
