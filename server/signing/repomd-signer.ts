// repomd.xml.asc: the detached, ASCII-armored OpenPGP signature dnf fetches when repo_gpgcheck=1
// (librepo verifies it with gpgme against the repository's gpgkey). Deterministic: the same
// repomd.xml and key give the same signature, so it can be cached with the document it signs.
import * as openpgp from 'openpgp';
import type { SigningKey, SigningKeySource } from './keyring.ts';

export interface RepomdSigner {
  /** The armored detached signature of `xml` (a string is signed as its UTF-8 bytes, unchanged). */
  signRepomd(xml: string | Uint8Array): Promise<string>;
}

export function createRepomdSigner(keys: SigningKeySource): RepomdSigner {
  return {
    signRepomd: (xml) => signRepomd(keys.current(), xml),
  };
}

/**
 * Signs repomd.xml as a binary document (signature type 0x00): dnf compares bytes, and a text
 * signature would canonicalise line endings. Dated at the first instant the key could sign (or
 * `date`), so the output depends on the document and the key only.
 */
export async function signRepomd(key: SigningKey, xml: string | Uint8Array, date: Date = key.validFrom): Promise<string> {
  const bytes = typeof xml === 'string' ? new TextEncoder().encode(xml) : xml;
  const packet = await key.sign(bytes, date);
  return openpgp.armor(openpgp.enums.armor.signature, packet, undefined, undefined, undefined, true);
}
