// What an upload demands of a package the reader read, beyond what rpm itself checks when it reads
// one: that it is an installable package, not a delta RPM, and that every signature it carries is
// one rpm can parse. rpm -K checks the header+payload signatures (PGP, GPG) too and refuses the
// whole file when one is not an OpenPGP signature; rpmgate replaces them, but takes no file rpm
// would refuse. (rpm 4 ignores rpm 6's OPENPGP tag, which may hold v6 signatures.)
import { RpmFormatError } from '../errors.ts';
import type { ParsedRpm } from './reader.ts';
import { assertSignaturePacket } from './signatures.ts';

export function assertInstallable(parsed: ParsedRpm): void {
  if (parsed.isDeltaRpm) {
    throw new RpmFormatError('this is a delta RPM (drpm), not an installable package');
  }
  for (const signature of parsed.signatures) {
    if (signature.name !== 'OPENPGP') assertSignaturePacket(signature.packet, signature.name);
  }
}
