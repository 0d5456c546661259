// repomd.xml.asc: an upstream's detached OpenPGP signature of its repomd.xml, verified against the keys
// the mirror was added with (what dnf does with repo_gpgcheck and the repository's gpgkey).
import * as openpgp from 'openpgp';
import { RpmgateError } from '../../common/errors.ts';

/** Reads armored public keys (a file may hold several); a bad one is a bad_request naming it. */
export async function readPublicKeys(armored: readonly string[]): Promise<openpgp.PublicKey[]> {
  const keys: openpgp.PublicKey[] = [];
  for (const [index, text] of armored.entries()) {
    try {
      keys.push(...(await openpgp.readKeys({ armoredKeys: text })));
    } catch (error) {
      throw new RpmgateError('bad_request', `key ${index + 1} is not an ASCII-armored OpenPGP public key: ${(error as Error).message}`);
    }
  }
  return keys;
}

/** Throws an `upstream` error unless `signature` is a good signature of `data` by one of `keys`. */
export async function verifyDetachedSignature(data: Uint8Array, signature: Uint8Array, keys: openpgp.PublicKey[], what: string): Promise<string> {
  let parsed: openpgp.Signature;
  try {
    const text = Buffer.from(signature).toString('utf8');
    parsed = text.includes('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: text })
      : await openpgp.readSignature({ binarySignature: signature });
  } catch (error) {
    throw new RpmgateError('upstream', `${what}: not an OpenPGP signature (${(error as Error).message})`);
  }
  const message = await openpgp.createMessage({ binary: data });
  const result = await openpgp.verify({ message, signature: parsed, verificationKeys: keys, expectSigned: false });
  for (const sig of result.signatures) {
    try {
      await sig.verified;
      return sig.keyID.toHex();
    } catch {
      // another signature may verify
    }
  }
  const ids = result.signatures.map((sig) => sig.keyID.toHex()).join(', ');
  throw new RpmgateError('upstream', `${what}: bad signature (key ID ${ids || 'none'} is not one of the mirror's keys, or the signature does not match)`);
}
