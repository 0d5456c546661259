// The 96-byte lead that opens every RPM file (rpm's lib/rpmlead.c). Only its magic, version,
// type and signature type matter today; everything else lives in the headers that follow.
import { RpmFormatError } from '../errors.ts';

export const LEAD_SIZE = 96;
const LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb] as const;
/** RPMSIGTYPE_HEADERSIG: a signature header follows the lead (the only kind rpm ≥ 4 reads). */
const RPMSIGTYPE_HEADERSIG = 5;

export interface RpmLead {
  /** Format major version: 3 for v3/v4 packages, 4 for rpm 6 ("v6") packages. */
  major: number;
  minor: number;
  /** 0 binary, 1 source (RPMLEAD_BINARY / RPMLEAD_SOURCE). */
  type: 0 | 1;
  archnum: number;
  /** The NUL-terminated name field (66 bytes, informational only: rpm never reads it back). */
  name: string;
  osnum: number;
  signatureType: number;
}

/** Parses and checks the lead like rpm 4.18's rpmLeadCheck: magic, signature type 5, major 3 or 4. */
export function parseLead(bytes: Uint8Array): RpmLead {
  if (bytes.length < LEAD_SIZE) {
    throw new RpmFormatError(
      bytes.length >= 4 && hasLeadMagic(bytes)
        ? `truncated RPM: the lead needs ${LEAD_SIZE} bytes but the file has ${bytes.length}`
        : `not an RPM package: ${bytes.length} bytes, shorter than the ${LEAD_SIZE}-byte lead`,
    );
  }
  if (!hasLeadMagic(bytes)) {
    throw new RpmFormatError('not an RPM package: the lead magic ed ab ee db is missing');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, LEAD_SIZE);
  const major = view.getUint8(4);
  const minor = view.getUint8(5);
  const type = view.getUint16(6);
  const signatureType = view.getUint16(78);
  if (major < 3 || major > 4) {
    throw new RpmFormatError(`unsupported RPM package version ${major}.${minor} in the lead (rpm reads 3.x and 4.x)`);
  }
  if (type !== 0 && type !== 1) {
    throw new RpmFormatError(`invalid package type ${type} in the lead (0 binary, 1 source)`);
  }
  if (signatureType !== RPMSIGTYPE_HEADERSIG) {
    throw new RpmFormatError(`illegal signature type ${signatureType} in the lead (rpm reads only type 5, a signature header)`);
  }
  const nameEnd = bytes.subarray(10, 76).indexOf(0);
  const name = Buffer.from(bytes.buffer, bytes.byteOffset + 10, nameEnd < 0 ? 66 : nameEnd).toString('latin1');
  return { major, minor, type, archnum: view.getUint16(8), name, osnum: view.getUint16(76), signatureType };
}

function hasLeadMagic(bytes: Uint8Array): boolean {
  return LEAD_MAGIC.every((byte, i) => bytes[i] === byte);
}
