// The v4 fingerprints of the public keys in an ASCII-armored OpenPGP key file (RFC 4880 §12.2:
// SHA-1 over 0x99, the two-octet length and the public-key packet body), read without an OpenPGP
// library: `rpmgate key show` without a token tells the published keys from /keys/rpmgate.asc.
import { createHash } from 'node:crypto';

const publicKeyTag = 6;

/** Fingerprints (40 lowercase hex digits) of the primary keys, in file order. */
export function armoredKeyFingerprints(armored: string): string[] {
  const fingerprints: string[] = [];
  for (const block of armored.matchAll(/-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/g)) {
    const text = block[1]!;
    // Armor headers end at the first empty line; the checksum line starts with "=".
    const body = text.slice(text.search(/\r?\n\r?\n/) + 1).split(/\r?\n/).filter((line) => line && !line.startsWith('=')).join('');
    const bytes = Buffer.from(body, 'base64');
    for (const packet of packets(bytes)) {
      if (packet.tag === publicKeyTag && packet.body[0] === 4) {
        const header = Buffer.from([0x99, packet.body.length >> 8, packet.body.length & 0xff]);
        fingerprints.push(createHash('sha1').update(header).update(packet.body).digest('hex'));
      }
    }
  }
  return fingerprints;
}

function* packets(bytes: Buffer): Generator<{ tag: number; body: Buffer }> {
  let offset = 0;
  while (offset < bytes.length) {
    const first = bytes[offset]!;
    if ((first & 0x80) === 0) return;
    let tag: number;
    let length: number;
    let start: number;
    if (first & 0x40) {
      tag = first & 0x3f;
      const octet = bytes[offset + 1]!;
      if (octet < 192) [length, start] = [octet, offset + 2];
      else if (octet < 224) [length, start] = [((octet - 192) << 8) + bytes[offset + 2]! + 192, offset + 3];
      else if (octet === 255) [length, start] = [bytes.readUInt32BE(offset + 2), offset + 6];
      else return; // partial lengths never occur in key material
    } else {
      tag = (first >> 2) & 0x0f;
      const type = first & 0x03;
      if (type === 0) [length, start] = [bytes[offset + 1]!, offset + 2];
      else if (type === 1) [length, start] = [bytes.readUInt16BE(offset + 1), offset + 3];
      else if (type === 2) [length, start] = [bytes.readUInt32BE(offset + 1), offset + 5];
      else return;
    }
    yield { tag, body: bytes.subarray(start, start + length) };
    offset = start + length;
  }
}
