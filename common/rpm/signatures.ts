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
