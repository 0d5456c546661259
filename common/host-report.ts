// The inventory report a host agent sends (POST /api/v1/hosts/report) and its validation, shared so
// that the agent builds exactly what the server accepts. Validation is strict and bounded: a report is
// refused whole (bad_request, naming the first fault) before anything is written.
import type { PackageTuple } from './conformance.ts';
import { RpmgateError } from './errors.ts';

export interface HostReport {
  hostname: string;
  /** /etc/machine-id: 32 lowercase hex digits. */
  machineId: string;
  /** A human description of the OS, e.g. the PRETTY_NAME of /etc/os-release. */
  os: string;
  /** The host's rpm arch (x86_64, aarch64, ...). */
  arch: string;
  /** The package set the host is configured for, "NAME/VERSION"; null when none. */
  set: string | null;
  packages: PackageTuple[];
}

export const machineIdPattern = /^[0-9a-f]{32}$/;
export const maxReportPackages = 100_000;

// Hostnames: letters, digits, dots, dashes and underscores (RFC 1123 plus the underscores seen in the wild).
export const hostnamePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
const archPattern = /^[A-Za-z0-9_]{1,32}$/;
// rpm names, versions and releases are printable ASCII without spaces; gpg-pubkey's arch is "(none)".
const printable = /^[\x21-\x7e]+$/;
const packageArchPattern = /^(?:[A-Za-z0-9_]{1,32}|\(none\))$/;
const setReferencePattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}\/[A-Za-z0-9][A-Za-z0-9._+~^-]{0,99}$/;
const maxEpoch = 2 ** 31 - 1;

export function parseHostReport(body: Record<string, unknown>): HostReport {
  const { hostname, machineId, os, arch, packages } = body;
  if (typeof machineId !== 'string' || !machineIdPattern.test(machineId)) {
    throw new RpmgateError('bad_request', 'machineId must be 32 lowercase hexadecimal digits, as in /etc/machine-id');
  }
  if (typeof hostname !== 'string' || !hostnamePattern.test(hostname)) {
    throw new RpmgateError('bad_request', 'hostname must be 1 to 253 letters, digits and . _ -');
  }
  if (typeof os !== 'string' || os.length === 0 || os.length > 200 || /[\x00-\x1f\x7f]/.test(os)) {
    throw new RpmgateError('bad_request', 'os must be 1 to 200 characters without control characters');
  }
  if (typeof arch !== 'string' || !archPattern.test(arch)) {
    throw new RpmgateError('bad_request', 'arch must be an rpm arch such as x86_64 (1 to 32 letters, digits and _)');
  }
  const set = body.set ?? null;
  if (set !== null && (typeof set !== 'string' || !setReferencePattern.test(set) || set.endsWith('/latest'))) {
    throw new RpmgateError('bad_request', 'set must be a package set named NAME/VERSION, e.g. billing/4.2.0');
  }
  if (!Array.isArray(packages)) throw new RpmgateError('bad_request', 'packages must be a list of {name, epoch, version, release, arch}');
  if (packages.length > maxReportPackages) {
    throw new RpmgateError('bad_request', `a report lists at most ${maxReportPackages} packages, not ${packages.length}`);
  }
  const parsed: PackageTuple[] = new Array(packages.length);
  for (let i = 0; i < packages.length; i++) parsed[i] = parsePackage(packages[i], i);
  return { hostname, machineId, os, arch, set: set as string | null, packages: parsed };
}

function parsePackage(value: unknown, index: number): PackageTuple {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RpmgateError('bad_request', `packages[${index}] must be an object {name, epoch, version, release, arch}`);
  }
  // No closures here: this runs for every package of every report.
  const { name, version, release, arch } = value as Record<string, unknown>;
  const epoch = (value as Record<string, unknown>).epoch ?? null;
  if (!isToken(name, 256)) throw packageFault(index, 'name must be 1 to 256 printable characters without spaces');
  if (epoch !== null && (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch > maxEpoch)) {
    throw packageFault(index, 'epoch must be null or a non-negative integer');
  }
  if (!isToken(version, 128)) throw packageFault(index, 'version must be 1 to 128 printable characters without spaces');
  if (!isToken(release, 128)) throw packageFault(index, 'release must be 1 to 128 printable characters without spaces');
  if (typeof arch !== 'string' || !packageArchPattern.test(arch)) throw packageFault(index, 'arch must be an rpm arch such as x86_64 or noarch');
  return { name: name as string, epoch: epoch as number | null, version: version as string, release: release as string, arch };
}

function packageFault(index: number, what: string): RpmgateError {
  return new RpmgateError('bad_request', `packages[${index}]: ${what}`);
}

function isToken(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= max && printable.test(value);
}
