// One OpenPGP key as rpmgate uses it, through OpenPGP.js: unlocked from its armored form with errors
// that say what is wrong, described (fingerprint, algorithm, user id), and wrapped as the signer that
// packages and repomd.xml are signed with, deterministically.
import * as openpgp from 'openpgp';
import { RpmgateError } from '../../common/errors.ts';
import type { KeyInfo, KeySource, KeyStatus, SigningKey } from './keyring.ts';

/**
 * OpenPGP.js settings for every signature: no random salt notation (same input, key and date give
 * the same bytes) and SHA-256 (EdDSA keys get the curve's SHA-512, which OpenPGP.js insists on).
 */
export const signatureConfig: openpgp.PartialConfig = {
  nonDeterministicSignaturesViaNotation: false,
  preferredHashAlgorithm: openpgp.enums.hash.sha256,
};

/** Reads an armored private key and unlocks it, with errors that name the key and what is wrong. */
export async function unlockPrivateKey(armored: string, passphrase: string | null, what: string): Promise<openpgp.PrivateKey> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (error) {
    throw new RpmgateError('usage', `${what} is not an armored OpenPGP private key: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!key.isDecrypted()) {
    if (passphrase === null || passphrase === '') {
      throw new RpmgateError('usage', `${what} is protected by a passphrase: set RPMGATE_SIGNING_KEY_PASSPHRASE`);
    }
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch {
      throw new RpmgateError('usage', `${what}: wrong passphrase (RPMGATE_SIGNING_KEY_PASSPHRASE does not unlock it)`);
    }
  }
  const version = key.keyPacket.version;
  if (version !== 4) throw new RpmgateError('usage', `${what} is an OpenPGP v${version} key: rpm 4 verifies signatures of v4 keys only`);
  try {
    await key.getSigningKey(undefined, undefined, undefined, { ...openpgp.config, ...signatureConfig });
  } catch (error) {
    throw new RpmgateError('usage', `${what} cannot sign: ${error instanceof Error ? error.message : String(error)}`);
  }
  return key;
}

export function makeSigningKey(privateKey: openpgp.PrivateKey, info: KeyInfo): SigningKey {
  const validFrom = signingValidFrom(privateKey);
  return {
    info: { ...info },
    validFrom,
    async sign(data, date) {
      const message = await openpgp.createMessage({ binary: data });
      const signature: Uint8Array | ReadableStream<Uint8Array> = await openpgp.sign({
        message,
        signingKeys: privateKey,
        detached: true,
        format: 'binary',
        date,
        config: signatureConfig,
      });
      return signature instanceof Uint8Array ? signature : collectStream(signature);
    },
  };
}

/** The newest of the key's creation, its subkeys' creation and all its self-signatures. */
function signingValidFrom(key: openpgp.PrivateKey): Date {
  const times = [key.getCreationTime().getTime()];
  for (const user of key.users) for (const signature of user.selfCertifications) if (signature.created) times.push(signature.created.getTime());
  for (const subkey of key.subkeys) {
    times.push(subkey.getCreationTime().getTime());
    for (const signature of subkey.bindingSignatures) if (signature.created) times.push(signature.created.getTime());
  }
  return new Date(Math.max(...times));
}

export function describeKey(key: openpgp.PrivateKey | openpgp.PublicKey, source: KeySource, status: KeyStatus): KeyInfo {
  const fingerprint = key.getFingerprint().toLowerCase();
  const info = key.getAlgorithmInfo();
  const algorithm =
    info.algorithm === 'rsaSign' || info.algorithm === 'rsaEncryptSign'
      ? `rsa${info.bits ?? ''}`
      : info.algorithm === 'eddsaLegacy' || info.algorithm === 'ed25519'
        ? 'ed25519'
        : `${info.algorithm}${info.curve ? `-${info.curve}` : ''}`;
  return {
    fingerprint,
    keyId: fingerprint.slice(-16),
    shortKeyId: fingerprint.slice(-8),
    algorithm,
    userId: key.getUserIDs()[0] ?? '',
    createdAt: key.getCreationTime().toISOString(),
    status,
    source,
    file: null,
    retiredAt: null,
  };
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function collectStream(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concatBytes(parts);
}
