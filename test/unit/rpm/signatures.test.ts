// What an upload refuses, as rpm does: a signature tag that holds no OpenPGP signature rpm 4.18's
// parser (rpmio/rpmpgp_internal.c) takes, and a header signature that does not match its header.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RpmFormatError } from '../../../common/errors.ts';
import { RpmHeader } from '../../../common/rpm/header.ts';
import { parseRpm } from '../../../common/rpm/reader.ts';
import { assertSignaturePacket, parseSignaturePacket } from '../../../common/rpm/signatures.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

/** The raw data of a signature header tag, read without the reader's verdict on the package. */
function readSignatureTag(bytes: Buffer, tag: number): Uint8Array {
  return RpmHeader.parse(bytes, 96, 'signature').binary(tag)!;
}

describe('signature packets', () => {
  it.skipIf(!corpusAvailable)('refuses rpmlint\'s hello-2.0-1 whose RSAHEADER is not an OpenPGP packet, like rpm', async () => {
    const bytes = await readFile(corpusPath('rpmlint/binary/hello-2.0-1.x86_64-signed.rpm'));
    expect(() => parseRpm(bytes)).toThrow(/Header RSA signature: BAD \(package tag 268: invalid OpenPGP signature: no signature creation time\)/);
    const signature = readSignatureTag(bytes, 268);
    expect(() => assertSignaturePacket(signature, 'RSAHEADER')).toThrow(/RSAHEADER signature is not a valid OpenPGP signature: no signature creation time/);
  });

  it.skipIf(!corpusAvailable)('reads v3 and v4 signature packets that rpm reads, RSA and EdDSA, and ECDSA that rpm >= 4.19 reads', async () => {
    for (const file of [
      'rpm/RPMS/hello-2.0-1.x86_64-signed.rpm',
      'createrepo_c/packages/empty-signed-eddsa-0-0.x86_64.rpm',
      'rpm-rs/RPMS/v4/signed/rpm-basic-with-ecdsa-2.3.4-5.el9.noarch.rpm',
    ]) {
      const parsed = parseRpm(await readFile(corpusPath(file)));
      expect(parsed.signatures.length, file).toBeGreaterThan(0);
      for (const signature of parsed.signatures) expect(() => assertSignaturePacket(signature.packet, signature.name)).not.toThrow();
    }
  });

  it.skipIf(!corpusAvailable)('refuses a header signature that no longer matches the main header (rpm -qp: BAD without the key)', async () => {
    const bytes = Buffer.from(await readFile(corpusPath('rpm/RPMS/hello-2.0-1.x86_64-signed.rpm')));
    const parsed = parseRpm(bytes);
    // The quick-check bytes are what rpm compares without the key (a view into `bytes`): one changed bit is enough.
    const { signhash16 } = parseSignaturePacket(parsed.signatures[0]!.packet);
    bytes[signhash16.byteOffset - bytes.byteOffset]! ^= 1;
    expect(() => parseRpm(bytes)).toThrow(/Header RSA signature: BAD \(it does not match the main header/);
  });

  it.each([
    ['empty', []],
    ['not a packet', [0x12, 0x34]],
    ['a public key packet', [0x99, 0x00, 0x01, 0x04]],
    ['a length past the end', [0x89, 0x00, 0x10, 0x04]],
    ['a v5 signature', [0x88, 0x01, 0x05]],
  ])('refuses %s', (_name, bytes) => {
    expect(() => assertSignaturePacket(Uint8Array.from(bytes), 'RSAHEADER')).toThrow(RpmFormatError);
  });

  // v4, sigtype 0, RSA, SHA256, hashed subpackets: one creation time (length 5, type 2), none
  // unhashed, the two quick-check bytes, and one MPI of 9 bits (2 bytes).
  const creationTime = [0x05, 0x02, 0x5e, 0x00, 0x00, 0x00];
  const v4 = (hashed: number[], { algorithm = 1, unhashed = [] as number[], mpis = [0x00, 0x09, 0x01, 0xff] } = {}): number[] => [
    0x04, 0x00, algorithm, 0x08, 0x00, hashed.length, ...hashed, 0x00, unhashed.length, ...unhashed, 0xab, 0xcd, ...mpis,
  ];
  const packet = (body: number[], format: 'old' | 'new' = 'old'): Uint8Array => Uint8Array.from([format === 'old' ? 0x88 : 0xc2, body.length, ...body]);

  it('accepts a v4 signature with a creation time, in old and new packet format', () => {
    expect(() => assertSignaturePacket(packet(v4(creationTime)), 'RSAHEADER')).not.toThrow();
    expect(() => assertSignaturePacket(packet(v4(creationTime), 'new'), 'RSAHEADER')).not.toThrow();
    expect(parseSignaturePacket(packet(v4(creationTime)))).toMatchObject({ version: 4, sigtype: 0, pubkeyAlgorithm: 1, hashAlgorithm: 8 });
  });

  it('refuses what rpm 4.18\'s parser refuses', () => {
    const refused: [string, number[], RegExp][] = [
      ['no creation time', v4([]), /creation time/],
      ['a creation time only in the unhashed part', v4([], { unhashed: creationTime }), /creation time/],
      ['two creation times', v4([...creationTime, ...creationTime]), /two signature creation times/],
      ['an unknown critical subpacket', v4([...creationTime, 0x02, 0x80 | 40, 0x00]), /critical subpacket of type 40/],
      ['a subpacket longer than its area', v4([...creationTime, 0x09, 0x10]), /bad length/],
      ['no quick-check bytes', [0x04, 0x00, 0x01, 0x08, 0x00, 6, ...creationTime, 0x00, 0x00, 0xab], /quick-check/],
      ['an MPI running past the packet', v4(creationTime, { mpis: [0x01, 0x00, 0x01] }), /MPI 1/],
      ['bytes after the MPIs', v4(creationTime, { mpis: [0x00, 0x09, 0x01, 0xff, 0x00] }), /do not fill the packet/],
      ['one MPI of two for DSA', v4(creationTime, { algorithm: 17 }), /do not fill the packet/],
      ['Ed25519 in the RFC 9580 form rpm 4 does not know', v4(creationTime, { algorithm: 27 }), /public key algorithm 27/],
    ];
    for (const [name, body, message] of refused) expect(() => parseSignaturePacket(packet(body)), name).toThrow(message);
  });

  it('accepts an unknown subpacket that is not critical, and the issuer whatever its length', () => {
    expect(() => parseSignaturePacket(packet(v4([...creationTime, 0x02, 40, 0x00, 0x02, 0x80 | 16, 0x00])))).not.toThrow();
  });
});
