// NEVRA strings: "name-[epoch:]version-release.arch" written and read back, and the
// "name-version-release.arch.rpm" file name rpmbuild and createrepo_c's location_href use.
// Splitting follows the usual right-to-left rule (rpm-version, hawkey): arch after the last dot,
// release after the last dash, version after the dash before it, an epoch before a colon.
import { RpmgateError } from '../errors.ts';

export interface Nevra {
  name: string;
  /** null when absent; formatNevra writes it only when non-zero, parseNevra accepts an explicit "0:". */
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
}

export type Nevr = Omit<Nevra, 'arch'>;

/**
 * "name-[epoch:]version-release.arch". The epoch is written only when it is non-zero: an absent
 * epoch and epoch 0 are the same package to rpm and dnf, and this is the form `rpm -q` and dnf print.
 */
export function formatNevra(nevra: Nevra): string {
  return `${formatNevr(nevra)}.${nevra.arch}`;
}

/** "name-[epoch:]version-release", same epoch rule as formatNevra. */
export function formatNevr(nevr: Nevr): string {
  const epoch = nevr.epoch ? `${nevr.epoch}:` : '';
  return `${nevr.name}-${epoch}${nevr.version}-${nevr.release}`;
}

/** "name-version-release.arch", never an epoch (rpm's %{NVRA}). */
export function formatNvra(nevra: Nevra): string {
  return `${nevra.name}-${nevra.version}-${nevra.release}.${nevra.arch}`;
}

/** The file name rpmbuild gives a package: "name-version-release.arch.rpm" (arch "src" for a source package). */
export function formatRpmFileName(nevra: Nevra): string {
  return `${formatNvra(nevra)}.rpm`;
}

/**
 * Split a NEVRA string. Parts that are missing come back empty ("foo" is just a name), and a dot
 * counts as the arch separator only after the last dash, so "foo-1.0-1" has no arch.
 * Throws bad_request when an epoch is not a number.
 */
export function parseNevra(input: string): Nevra {
  const dot = input.lastIndexOf('.');
  const hasArch = dot > input.lastIndexOf('-');
  const nevr = parseNevr(hasArch ? input.slice(0, dot) : input);
  return { ...nevr, arch: hasArch ? input.slice(dot + 1) : '' };
}

/** Split "name-[epoch:]version-release"; missing parts come back empty (epoch null). */
export function parseNevr(input: string): Nevr {
  const [nev, release] = splitLast(input, '-');
  const [name, epochVersion] = splitLast(nev, '-');
  const colon = epochVersion.indexOf(':');
  if (colon === -1) return { name, epoch: null, version: epochVersion, release };
  const epochText = epochVersion.slice(0, colon);
  if (!/^[0-9]+$/.test(epochText)) {
    throw new RpmgateError('bad_request', `Invalid epoch "${epochText}" in "${input}"`);
  }
  return { name, epoch: Number(epochText), version: epochVersion.slice(colon + 1), release };
}

/**
 * Read "name-version-release.arch.rpm" (a file name or a location_href's last component).
 * File names carry no epoch, so it is null. Throws bad_request when the name is not of that form.
 */
export function parseRpmFileName(fileName: string): Nevra {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  if (!base.endsWith('.rpm')) {
    throw new RpmgateError('bad_request', `Not an RPM file name: "${fileName}"`);
  }
  const nevra = parseNevra(base.slice(0, -'.rpm'.length));
  if (!nevra.name || !nevra.version || !nevra.release || !nevra.arch || nevra.epoch !== null) {
    throw new RpmgateError('bad_request', `Not a name-version-release.arch.rpm file name: "${fileName}"`);
  }
  return nevra;
}

function splitLast(s: string, separator: string): [string, string] {
  const at = s.lastIndexOf(separator);
  return at === -1 ? [s, ''] : [s.slice(0, at), s.slice(at + 1)];
}
