// The signature header writer: rpm's layout (region first, tag order, aligned data, trailer), the
// signatures it replaces and keeps, and the reserved space that keeps the file's size. Checked on
// corpus packages with the project's strict header reader; the real rpm checks are in
// test/e2e/signing-tools.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RpmFormatError } from '../../../common/errors.ts';
import { RpmHeader } from '../../../common/rpm/header.ts';
import { parseRpm } from '../../../common/rpm/reader.ts';
import {
  parsePgpSignature,
  readSignatureEntries,
  resignSignatureHeader,
  signaturePadding,
  writeSignatureHeader,
  type SignatureEntry,
} from '../../../common/rpm/signature-header.ts';
import { RPM_BIN_TYPE, RPM_INT32_TYPE, RPM_INT64_TYPE, RPM_STRING_TYPE } from '../../../common/rpm/tags.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

const corpusSkip = !corpusAvailable;
if (corpusSkip) console.warn('\n*** test/unit/signing/signature-header.test.ts: corpus tests SKIPPED (../shared/corpus not found) ***\n');

/** A syntactically valid v4 signature packet (new packet format) of `length` bytes: version, type, algorithms, filler. */
function fakeSignature(pubkeyAlgorithm: number, length = 300, hashAlgorithm = 8): Uint8Array {
  const body = new Uint8Array(length - 3);
  body.set([4, 0, pubkeyAlgorithm, hashAlgorithm]);
  body.fill(0xab, 4);
  const bodyLength = body.length;
  const header = bodyLength < 192 ? [0xc2, bodyLength] : [0xc2, ((bodyLength - 192) >> 8) + 192, (bodyLength - 192) & 0xff];
  const packet = new Uint8Array(header.length + bodyLength);
  packet.set(header);
  packet.set(body, header.length);
  return packet.subarray(0, header.length + bodyLength);
}

function parseSignatureHeader(bytes: Uint8Array): RpmHeader {
  const padded = new Uint8Array(96 + bytes.length + signaturePadding(bytes.length));
  padded.set(bytes, 96);
  return RpmHeader.parse(padded, 96, 'signature', padded.length);
}

function load(relative: string) {
  const bytes = readFileSync(corpusPath(relative));
  return parseRpm(bytes);
}

function entryMap(entries: SignatureEntry[]): Map<number, string> {
  return new Map(entries.map((entry) => [entry.tag, `${entry.type}/${entry.count}/${Buffer.from(entry.data).toString('hex')}`]));
}

describe('writeSignatureHeader', () => {
  const entries: SignatureEntry[] = [
    { tag: 1008, type: RPM_BIN_TYPE, count: 5, data: new Uint8Array(5) },
    { tag: 270, type: RPM_INT64_TYPE, count: 1, data: Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 0) },
    { tag: 269, type: RPM_STRING_TYPE, count: 1, data: new TextEncoder().encode(`${'a'.repeat(40)}\0`) },
    { tag: 1000, type: RPM_INT32_TYPE, count: 1, data: Uint8Array.of(0, 0, 0, 7) },
  ];

  it('writes the region entry first, the others in tag order, data aligned by type, and the trailer last', () => {
    const bytes = writeSignatureHeader(entries);
    const view = new DataView(bytes.buffer);
    const il = view.getUint32(8);
    const dl = view.getUint32(12);
    expect([il, bytes.length]).toEqual([5, 16 + 16 * 5 + dl]);
    const index = Array.from({ length: il }, (_, i) => [0, 4, 8, 12].map((o) => view.getInt32(16 + 16 * i + o)));
    // 269 at 0 (41 bytes); 270 INT64 aligned to 48; 1000 INT32 at 56; 1008 BIN at 60; trailer at 65.
    expect(index).toEqual([
      [62, 7, 65, 16],
      [269, 6, 0, 1],
      [270, 5, 48, 1],
      [1000, 4, 56, 1],
      [1008, 7, 60, 5],
    ]);
    const dataStart = 16 + 16 * il;
    expect([0, 4, 8, 12].map((o) => view.getInt32(dataStart + 65 + o))).toEqual([62, 7, -16 * il, 16]);
    expect(dl).toBe(65 + 16);
  });

  it('gives a header the strict reader accepts, with the same entries back', () => {
    const header = parseSignatureHeader(writeSignatureHeader(entries));
    expect(header.regionTag).toBe(62);
    expect(entryMap(readSignatureEntries(header))).toEqual(entryMap(entries));
  });

  it('refuses repeated tags, empty data and more tags than rpm 4.18 reads', () => {
    expect(() => writeSignatureHeader([...entries, entries[0]!])).toThrow(RpmFormatError);
    expect(() => writeSignatureHeader([{ tag: 1008, type: RPM_BIN_TYPE, count: 0, data: new Uint8Array(0) }])).toThrow(/no data/);
    const many = Array.from({ length: 32 }, (_, i) => ({ tag: 2000 + i, type: RPM_BIN_TYPE, count: 1, data: Uint8Array.of(i) }));
    expect(() => writeSignatureHeader(many)).toThrow(/32 tags/);
  });
});

describe('parsePgpSignature', () => {
  it('reads new- and old-format packet headers', () => {
    expect(parsePgpSignature(fakeSignature(1, 100))).toEqual({ version: 4, pubkeyAlgorithm: 1, hashAlgorithm: 8 });
    const body = Uint8Array.of(4, 0, 22, 10, 1, 2, 3);
    expect(parsePgpSignature(Uint8Array.of(0x88, body.length, ...body))).toEqual({ version: 4, pubkeyAlgorithm: 22, hashAlgorithm: 10 });
  });

  it('refuses what is not one v4 signature packet', () => {
    expect(() => parsePgpSignature(Uint8Array.of(0xc6, 3, 4, 0, 1))).toThrow(/not a signature/);
    expect(() => parsePgpSignature(Uint8Array.of(0xc2, 4, 3, 0, 1, 8))).toThrow(/v3 signature/);
    expect(() => parsePgpSignature(Uint8Array.of(0xc2, 9, 4, 0, 1, 8))).toThrow(/packet header says/);
    expect(() => parsePgpSignature(Uint8Array.of(1, 2, 3))).toThrow(/not an OpenPGP packet/);
  });
});

describe.skipIf(corpusSkip)('resignSignatureHeader on corpus packages', () => {
  it('adds RSAHEADER to an unsigned package, keeps every other entry, and shrinks the reserved space to keep the size', () => {
    const parsed = load('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm');
    const signature = fakeSignature(1, 455);
    const result = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: signature, format: 'v4' });
    expect(result.sameSize).toBe(true);
    expect(result.bytes.length).toBe(parsed.signatureHeader.size);
    const before = entryMap(readSignatureEntries(parsed.signatureHeader.header));
    const after = entryMap(readSignatureEntries(parseSignatureHeader(result.bytes)));
    expect(after.get(268)).toBe(`7/455/${Buffer.from(signature).toString('hex')}`);
    for (const [tag, value] of before) if (tag !== 1008) expect(after.get(tag)).toBe(value);
    // 455 bytes of signature, a 16-byte index entry and one byte of INT32 alignment padding.
    expect(after.get(1008)!.split('/')[1]).toBe(String(4128 - 472));
  });

  it('replaces the signatures of another key (RSAHEADER and PGP) and grows the reserved space back', () => {
    const parsed = load('rpm/RPMS/hello-2.0-1.x86_64-signed.rpm');
    const result = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: fakeSignature(22, 119), format: 'v4' });
    expect(result.sameSize).toBe(true);
    const tags = readSignatureEntries(parseSignatureHeader(result.bytes)).map((entry) => entry.tag);
    expect(tags).toContain(267);
    expect(tags).not.toContain(268);
    expect(tags).not.toContain(1002);
  });

  it('drops rpm 6 OPENPGP signatures from a v4 package', () => {
    const parsed = load('createrepo_c/packages/empty-signed-v6-multiple-0-0.x86_64.rpm');
    expect(parsed.signatures.map((s) => s.name)).toContain('OPENPGP');
    const result = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: fakeSignature(1), format: 'v4' });
    const tags = readSignatureEntries(parseSignatureHeader(result.bytes)).map((entry) => entry.tag);
    expect(tags.filter((tag) => [267, 268, 278, 1002, 1005, 1006].includes(tag))).toEqual([268]);
  });

  it('files header+payload signatures under PGP (RSA) or GPG (EdDSA)', () => {
    const parsed = load('createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm');
    for (const [algorithm, header, payload] of [
      [1, 268, 1002],
      [22, 267, 1005],
    ] as const) {
      const result = resignSignatureHeader(parsed.signatureHeader.header, {
        headerSignature: fakeSignature(algorithm, 200),
        headerPayloadSignature: fakeSignature(algorithm, 210),
        format: 'v4',
      });
      const entries = entryMap(readSignatureEntries(parseSignatureHeader(result.bytes)));
      expect(entries.get(header)).toMatch(/^7\/200\//);
      expect(entries.get(payload)).toMatch(/^7\/210\//);
    }
  });

  it('grows the header when there is no reserved space (and says so)', () => {
    const parsed = load('createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm');
    const result = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: fakeSignature(1, 455), format: 'v4' });
    expect(result.sameSize).toBe(false);
    // The signature and its index entry, give or take the alignment padding of the entries after it.
    const growth = result.bytes.length - parsed.signatureHeader.size;
    expect(growth).toBeGreaterThanOrEqual(455 + 16 - 7);
    expect(growth).toBeLessThanOrEqual(455 + 16 + 7);
    expect(result.paddedSize % 8).toBe(0);
  });

  it('grows the header and keeps the reserved space when the room is too small', () => {
    const parsed = load('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm');
    const huge = fakeSignature(1, 5000);
    const result = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: huge, format: 'v4' });
    expect(result.sameSize).toBe(false);
    expect(entryMap(readSignatureEntries(parseSignatureHeader(result.bytes))).get(1008)!.split('/')[1]).toBe('4128');
  });

  it('signs v6 packages in RSAHEADER and OPENPGP, using rpm 6 RESERVED (999) as the room', () => {
    const parsed = load('rpm-rs/RPMS/v6/signed/rpm-basic-with-ed25519-2.3.4-5.el9.noarch.rpm');
    expect(parsed.format).toBe('v6');
    const signature = fakeSignature(1, 455);
    const result = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: signature, format: 'v6' });
    expect(result.sameSize).toBe(true);
    const header = parseSignatureHeader(result.bytes);
    expect(header.strings(278)).toEqual([Buffer.from(signature).toString('base64')]);
    expect(Buffer.from(header.binary(268)!).equals(Buffer.from(signature))).toBe(true);
    expect(() =>
      resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: signature, headerPayloadSignature: signature, format: 'v6' }),
    ).toThrow(/v6/);
  });

  it('refuses signatures rpm 4 cannot file (Ed25519 of RFC 9580, unknown algorithms)', () => {
    const parsed = load('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm');
    expect(() => resignSignatureHeader(parsed.signatureHeader.header, { headerSignature: fakeSignature(27), format: 'v4' })).toThrow(/algorithm 27/);
  });

  it('is a pure function of its input', () => {
    const parsed = load('rpm/RPMS/hello-2.0-1.x86_64-signed.rpm');
    const options = { headerSignature: fakeSignature(1, 287), format: 'v4' as const };
    const a = resignSignatureHeader(parsed.signatureHeader.header, options);
    const b = resignSignatureHeader(parsed.signatureHeader.header, options);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });
});
