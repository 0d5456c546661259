// Small noarch packages built on demand with the real rpmbuild, for tests that need many packages
// differing in one field (one name-version-release.arch in twenty epochs, a package per round of a
// stress test). Each is cached under .cache/small-rpms/ by the digest of its spec and rpmbuild's
// version, so a machine builds it once; builds run two at a time, each in a throwaway _topdir with a
// private HOME (rpmbuild never reads or creates the host's ~/.rpmmacros or rpm database).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cacheDir = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../.cache/small-rpms');
const parallelBuilds = 2;

export interface SmallRpm {
  name: string;
  epoch?: number;
  version?: string;
  release?: string;
  /** Packages it requires, as spec text ("rg-hello >= 2.0"). */
  requires?: string[];
}

/** The paths of the packages' .rpm files, in the order given. */
export async function buildSmallRpms(packages: readonly SmallRpm[]): Promise<string[]> {
  return buildSpecTexts(packages.map(specText));
}

/** Builds the binary RPM of each spec text (one package per spec), cached by the spec's digest. */
export async function buildSpecTexts(specs: readonly string[]): Promise<string[]> {
  const { stdout } = await run('rpmbuild', ['--version']);
  const jobs = specs.map((spec) => {
    const key = createHash('sha256').update(stdout).update(spec).digest('hex').slice(0, 32);
    return { spec, file: path.join(cacheDir, `${key}.rpm`) };
  });
  await mkdir(cacheDir, { recursive: true });
  const pending = jobs.filter((job) => !existsSync(job.file));
  let next = 0;
  await Promise.all(
    Array.from({ length: parallelBuilds }, async () => {
      while (next < pending.length) {
        const job = pending[next++]!;
        await buildInto(job.spec, job.file);
      }
    }),
  );
  return jobs.map((job) => job.file);
}

function specText(pkg: SmallRpm): string {
  const epoch = pkg.epoch === undefined ? '' : `Epoch: ${pkg.epoch}\n`;
  const requires = (pkg.requires ?? []).map((requirement) => `Requires: ${requirement}\n`).join('');
  return `Name: ${pkg.name}
${epoch}Version: ${pkg.version ?? '1.0'}
Release: ${pkg.release ?? '1'}
Summary: ${pkg.name} (rpmgate test package)
License: MIT
BuildArch: noarch
${requires}
%description
A small package for rpmgate's tests${pkg.epoch === undefined ? '' : `, epoch ${pkg.epoch}`}.

%install
mkdir -p %{buildroot}%{_datadir}/${pkg.name}
echo '${pkg.epoch ?? ''}:%{version}-%{release}' > %{buildroot}%{_datadir}/${pkg.name}/evr

%files
%{_datadir}/${pkg.name}/evr
`;
}

async function buildInto(spec: string, target: string): Promise<void> {
  const topdir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-small-rpm-'));
  try {
    const home = path.join(topdir, 'home');
    await mkdir(home);
    await writeFile(path.join(home, '.rpmmacros'), `%_dbpath ${path.join(topdir, 'rpmdb')}\n`);
    const specFile = path.join(topdir, 'package.spec');
    await writeFile(specFile, spec);
    const defines = {
      _topdir: topdir,
      _tmppath: path.join(topdir, 'tmp'),
      _buildhost: 'tests.rpmgate.invalid',
      _binary_payload: 'w9.gzdio',
      _build_id_links: 'none',
    };
    const args = ['-bb', '--nodeps'];
    for (const [name, value] of Object.entries(defines)) args.push('--define', `${name} ${value}`);
    await mkdir(defines._tmppath);
    try {
      await run('rpmbuild', [...args, specFile], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LC_ALL: 'C', TZ: 'UTC' }, cwd: topdir });
    } catch (error) {
      throw new Error(`rpmbuild failed for\n${spec}\n${((error as { stderr?: string }).stderr ?? '').slice(-2000)}`);
    }
    const [arch] = await readdir(path.join(topdir, 'RPMS'));
    const [built] = await readdir(path.join(topdir, 'RPMS', arch!));
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await copyFile(path.join(topdir, 'RPMS', arch!, built!), temp);
    await rename(temp, target);
  } finally {
    await rm(topdir, { recursive: true, force: true });
  }
}
