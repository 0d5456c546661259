// What an upload refuses, as rpm does: a signature tag that holds no valid OpenPGP signature.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RpmFormatError } from '../../../common/errors.ts';
import { parseRpm } from '../../../common/rpm/reader.ts';
import { assertSignaturePacket } from '../../../common/rpm/signatures.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

describe('signature packets', () => {
  it.skipIf(!corpusAvailable)('refuses rpmlint\'s hello-2.0-1 whose RSAHEADER is not an OpenPGP packet, like rpm', async () => {
    const parsed = parseRpm(await readFile(corpusPath('rpmlint/binary/hello-2.0-1.x86_64-signed.rpm')));
    const header = parsed.signatures.find((signature) => signature.name === 'RSAHEADER')!;
    expect(() => assertSignaturePacket(header.packet, header.name)).toThrow(/RSAHEADER signature is not a valid OpenPGP signature: no signature creation time/);
  });

  it.skipIf(!corpusAvailable)('reads v3 and v4 signature packets that rpm reads', async () => {
    for (const file of ['rpm/RPMS/hello-2.0-1.x86_64-signed.rpm', 'createrepo_c/packages/empty-signed-eddsa-0-0.x86_64.rpm']) {
      const parsed = parseRpm(await readFile(corpusPath(file)));
      expect(parsed.signatures.length, file).toBeGreaterThan(0);
      for (const signature of parsed.signatures) expect(() => assertSignaturePacket(signature.packet, signature.name)).not.toThrow();
    }
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

  // v4, sigtype 0, RSA, SHA256, hashed subpackets: one creation time (length 5, type 2), none unhashed.
  const v4Body = [0x04, 0x00, 0x01, 0x08, 0x00, 0x06, 0x05, 0x02, 0x5e, 0x00, 0x00, 0x00, 0x00, 0x00];

  it('accepts a v4 signature with a creation time, in old and new packet format', () => {
    expect(() => assertSignaturePacket(Uint8Array.from([0x88, v4Body.length, ...v4Body]), 'RSAHEADER')).not.toThrow();
    expect(() => assertSignaturePacket(Uint8Array.from([0xc2, v4Body.length, ...v4Body]), 'RSAHEADER')).not.toThrow();
  });

  it('refuses a v4 signature without a creation time', () => {
    const body = [0x04, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00];
    expect(() => assertSignaturePacket(Uint8Array.from([0x88, body.length, ...body]), 'RSAHEADER')).toThrow(/creation time/);
  });
});
