// repomd.xml.asc: an armored detached signature over the exact bytes of repomd.xml, the same for the
// same document and key. gpg's verdict is in test/e2e/signing-tools.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../../server/signing/keyring.ts';
import { createRepomdSigner, signRepomd } from '../../../server/signing/repomd-signer.ts';

const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo">\n  <revision>1700000000</revision>\n</repomd>\n';

let work: string;
let keyring: Keyring;

async function verify(armored: string, data: string): Promise<boolean> {
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(data) }),
    signature: await openpgp.readSignature({ armoredSignature: armored }),
    verificationKeys: await openpgp.readKeys({ armoredKeys: keyring.publicKeysArmored() }),
  });
  return result.signatures[0]!.verified.then(
    () => true,
    () => false,
  );
}

describe('signRepomd', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rpmgate-repomd-signer-'));
    keyring = await Keyring.open({ dataDir: work, algorithm: 'ed25519', hostname: 'unit.example' });
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('returns an armored detached binary signature over the document', async () => {
    const armored = await createRepomdSigner(keyring).signRepomd(xml);
    expect(armored).toMatch(/^-----BEGIN PGP SIGNATURE-----\n\n[\s\S]+\n=[A-Za-z0-9+/]{4}\n-----END PGP SIGNATURE-----\n$/);
    const signature = await openpgp.readSignature({ armoredSignature: armored });
    expect(signature.packets[0]!.signatureType).toBe(openpgp.enums.signature.binary);
    expect(await verify(armored, xml)).toBe(true);
    expect(await verify(armored, xml.replace('1700000000', '1700000001'))).toBe(false);
  });

  it('is deterministic, and signs a string as its UTF-8 bytes', async () => {
    const signer = createRepomdSigner(keyring);
    const a = await signer.signRepomd(xml);
    expect(await signer.signRepomd(xml)).toBe(a);
    expect(await signer.signRepomd(new TextEncoder().encode(xml))).toBe(a);
  });

  it('dates the signature at the key’s first valid instant unless told otherwise', async () => {
    const key = keyring.current();
    const readDate = async (armored: string) => (await openpgp.readSignature({ armoredSignature: armored })).packets[0]!.created;
    expect(await readDate(await signRepomd(key, xml))).toEqual(key.validFrom);
    const later = new Date(key.validFrom.getTime() + 3_600_000);
    expect(await readDate(await signRepomd(key, xml, later))).toEqual(later);
  });
});
