// What a host has: its installed packages from the rpm database (`rpm -qa --qf`) and its facts
// (hostname, machine id, OS, arch), read from the running system or from the root given by --rpm-root.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PackageTuple } from '../common/conformance.ts';
import { RpmgateError } from '../common/errors.ts';
import { compareEvr } from '../common/rpm/vercmp.ts';

const run = promisify(execFile);

export type InstalledPackage = PackageTuple;

export interface HostFacts {
  hostname: string;
  machineId: string;
  os: string;
  arch: string;
}

/** One package per line, tab-separated: tabs and newlines cannot occur in these header fields. */
export const rpmQueryFormat = '%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n';

/**
 * `rpm -qa` over the host's database, or the database under `rpmRoot`. The database path is the
 * host rpm's own %_dbpath (Debian's rpm keeps it in ~/.rpmdb, EL and Fedora in /var/lib/rpm): asked,
 * never assumed, and checked to exist, because rpm prints nothing and exits 0 for a missing database.
 */
export async function readInstalledPackages(rpmRoot: string | null): Promise<InstalledPackage[]> {
  const dbpath = await rpmEval('%_dbpath');
  const args = ['-qa', '--qf', rpmQueryFormat];
  if (dbpath) {
    args.push('--dbpath', dbpath);
    const where = rpmRoot ? path.join(rpmRoot, dbpath) : dbpath;
    if (!(await isDirectory(where))) throw new RpmgateError('internal', `no rpm database at ${where} (rpm's %_dbpath is ${dbpath})`);
  }
  if (rpmRoot) args.push('--root', rpmRoot);
  const stdout = await runRpm(args);
  return parseRpmQa(stdout);
}

/**
 * For `install --rpm-root DIR` into a root that has no rpm database yet (a new image or chroot): makes
 * an empty one where rpm and dnf will look (`rpm --root DIR --initdb`, at the host rpm's %_dbpath).
 * Returns where it was made, or null when the database was there already (or there is no root).
 */
export async function initRpmDatabaseIfMissing(rpmRoot: string | null): Promise<string | null> {
  if (!rpmRoot) return null;
  const dbpath = (await rpmEval('%_dbpath')) ?? '/var/lib/rpm';
  const where = path.join(rpmRoot, dbpath);
  if (await isDirectory(where)) return null;
  await runRpm(['--root', rpmRoot, '--dbpath', dbpath, '--initdb']);
  return where;
}

/**
 * Lines of `rpmQueryFormat` output → packages, sorted by name, arch and EVR. An epoch of "(none)"
 * is null. gpg-pubkey entries are the keys rpm imported, not software: left out.
 */
export function parseRpmQa(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fields = line.split('\t');
    if (fields.length !== 5 || fields.some((field) => field === '')) {
      throw new RpmgateError('internal', `unexpected rpm -qa output on line ${index + 1}: ${JSON.stringify(line.slice(0, 200))}`);
    }
    const [name, epoch, version, release, arch] = fields as [string, string, string, string, string];
    if (name === 'gpg-pubkey') continue;
    if (epoch !== '(none)' && !/^[0-9]+$/.test(epoch)) {
      throw new RpmgateError('internal', `unexpected epoch ${JSON.stringify(epoch)} for ${name} in rpm -qa output`);
    }
    packages.push({ name, epoch: epoch === '(none)' ? null : Number(epoch), version, release, arch });
  }
  return packages.sort(byNameArchEvr);
}

function byNameArchEvr(a: InstalledPackage, b: InstalledPackage): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.arch !== b.arch) return a.arch < b.arch ? -1 : 1;
  return compareEvr(a, b);
}

export async function readHostFacts(rpmRoot: string | null): Promise<HostFacts> {
  const inRoot = (file: string) => (rpmRoot ? path.join(rpmRoot, file) : file);
  const [hostname, machineId, osRelease, arch] = await Promise.all([
    readHostname(rpmRoot),
    readMachineId(inRoot),
    readFirst([inRoot('/etc/os-release'), inRoot('/usr/lib/os-release')]),
    readHostArch(),
  ]);
  return { hostname, machineId, os: osRelease === null ? 'unknown' : describeOs(parseOsRelease(osRelease)), arch };
}

/** Under a root, its /etc/hostname names the machine it belongs to; otherwise the kernel's name. */
async function readHostname(rpmRoot: string | null): Promise<string> {
  if (rpmRoot) {
    const text = await readFirst([path.join(rpmRoot, '/etc/hostname')]);
    const name = text?.split('\n')[0]?.trim();
    if (name) return name;
  }
  return os.hostname();
}

async function readMachineId(inRoot: (file: string) => string): Promise<string> {
  const candidates = [inRoot('/etc/machine-id'), inRoot('/var/lib/dbus/machine-id')];
  const text = await readFirst(candidates);
  const id = text?.trim() ?? '';
  if (!/^[0-9a-f]{32}$/i.test(id)) {
    throw new RpmgateError('internal', `no machine id: ${candidates[0]} is missing or not 32 hex digits (systemd-machine-id-setup writes one)`);
  }
  return id.toLowerCase();
}

/** rpm's own arch (what it installs for), falling back to the kernel's when rpm cannot say. */
export async function readHostArch(): Promise<string> {
  return (await rpmEval('%_arch')) ?? os.machine();
}

/**
 * /etc/os-release (os-release(5)): KEY=value lines, values optionally in single or double quotes,
 * backslash escapes inside double quotes, # comments.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    fields[match[1]!] = unquote(match[2]!);
  }
  return fields;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  }
  return value;
}

/** PRETTY_NAME, else "ID VERSION_ID", else NAME, else "unknown". */
export function describeOs(fields: Record<string, string>): string {
  if (fields.PRETTY_NAME) return fields.PRETTY_NAME;
  if (fields.ID) return fields.VERSION_ID ? `${fields.ID} ${fields.VERSION_ID}` : fields.ID;
  return fields.NAME || 'unknown';
}

/** `rpm --eval MACRO`, or null when the macro is undefined (rpm echoes it back) or rpm is absent. */
export async function rpmEval(macro: string): Promise<string | null> {
  try {
    const value = (await runRpm(['--eval', macro])).trim();
    return value === '' || value === macro ? null : value;
  } catch {
    return null;
  }
}

async function runRpm(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('rpm', args, {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      // HOME stays: rpm reads ~/.rpmmacros, which may set %_dbpath. LC_ALL=C keeps output stable.
      env: { ...process.env, LC_ALL: 'C' },
    });
    return stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new RpmgateError('internal', 'rpm is not installed (no rpm command on PATH)');
    const detail = failure.stderr?.trim().split('\n').at(-1) ?? failure.message;
    throw new RpmgateError('internal', `rpm ${args.join(' ')} failed: ${detail}`);
  }
}

async function readFirst(files: string[]): Promise<string | null> {
  for (const file of files) {
    try {
      return await readFile(file, 'utf8');
    } catch {
      // try the next one
    }
  }
  return null;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
