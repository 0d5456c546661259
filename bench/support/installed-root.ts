// A root whose rpm database holds N installed packages, for measuring the agent on a host's scale: one
// spec with N subpackages (each with its own files, a Provides and a Requires, a changelog entry, so
// that headers have a realistic shape) built once by the real rpmbuild, then installed into the root
// with `rpm -i --justdb` (the database is what the agent reads; the files' bytes would only cost disk).
// Cached under .cache/bench-root/<N>x<files>/ and reused while the recipe is the same.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface InstalledRoot {
  /** The root (rpm --root, rpmgate-agent --rpm-root); its database is ROOT/var/lib/rpm. */
  root: string;
  /** HOME for rpm and the agent: its .rpmmacros pins %_dbpath /var/lib/rpm. */
  home: string;
  packages: number;
}

export async function installedRoot(packages: number, filesPerPackage = 20): Promise<InstalledRoot> {
  const spec = renderSpec(packages, filesPerPackage);
  const recipe = createHash('sha256').update(spec).update(await readFile(fileURLToPath(import.meta.url))).digest('hex').slice(0, 12);
  const dir = path.join(repoRoot, '.cache', 'bench-root', `${packages}x${filesPerPackage}-${recipe}`);
  const result = { root: path.join(dir, 'root'), home: path.join(dir, 'home'), packages };
  if (existsSync(path.join(dir, 'done'))) return result;

  await mkdir(path.dirname(dir), { recursive: true });
  const staging = await mkdtemp(`${dir}.staging-`);
  try {
    const topdir = path.join(staging, 'build');
    const home = path.join(staging, 'home');
    const root = path.join(staging, 'root');
    await mkdir(home, { recursive: true });
    await mkdir(path.join(root, 'var/lib/rpm'), { recursive: true });
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
    await writeFile(path.join(root, 'etc/machine-id'), `${createHash('md5').update(recipe).digest('hex')}\n`);
    await writeFile(path.join(root, 'etc/hostname'), `bench-host-${packages}\n`);
    await writeFile(path.join(root, 'etc/os-release'), 'NAME="rpmgate bench"\nID=rpmgate-bench\nVERSION_ID=1\nPRETTY_NAME="rpmgate bench root"\n');
    const specFile = path.join(staging, 'bench-inventory.spec');
    await writeFile(specFile, spec);
    const env = { ...process.env, HOME: home, LC_ALL: 'C' };
    // No brp scripts (they run file(1) over every file) and no dependency generators: only the headers matter.
    const defines = ['_topdir', topdir, '_binary_payload', 'w1.gzdio', '__spec_install_post', '%{nil}', '_use_internal_dependency_generator', '0', '__find_requires', '%{nil}', '__find_provides', '%{nil}'];
    const defineArgs = defines.flatMap((value, index) => (index % 2 ? [] : ['--define', `${value} ${defines[index + 1]}`]));
    await run('rpmbuild', ['-bb', '--nodeps', ...defineArgs, specFile], { env, maxBuffer: 256 * 1024 * 1024 });
    const rpmsDir = path.join(topdir, 'RPMS', 'noarch');
    const rpms = (await readdir(rpmsDir)).map((name) => path.join(rpmsDir, name));
    await run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-i', '--justdb', '--nodeps', '--noscripts', '--nosignature', ...rpms], { env, maxBuffer: 64 * 1024 * 1024 });
    await rm(topdir, { recursive: true, force: true });
    await writeFile(path.join(staging, 'done'), '');
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return result;
}

function renderSpec(packages: number, files: number): string {
  const name = (i: number) => `bench-pkg-${String(i).padStart(5, '0')}`;
  const parts = [
    'Name: bench-inventory',
    'Version: 1.0',
    'Release: 1',
    'Summary: Installed packages for rpmgate-agent benchmarks',
    'License: MIT',
    'BuildArch: noarch',
    '%global __requires_exclude .*',
    '%description',
    'Subpackages only.',
    '%install',
    `for i in $(seq 1 ${packages}); do d=%{buildroot}/usr/share/bench/$i; mkdir -p $d; for f in $(seq 1 ${files}); do echo "$i $f" > $d/file-$f.txt; done; done`,
  ];
  for (let i = 1; i <= packages; i++) {
    parts.push(
      `%package -n ${name(i)}`,
      `Summary: Benchmark package ${i} of ${packages}, standing for one of a host's installed packages`,
      `Provides: bench-capability-${i} = 1.${i % 17}`,
      `Requires: bench-capability-${(i % packages) + 1}`,
      `%description -n ${name(i)}`,
      `Benchmark package ${i}: ${files} files, one provide, one require.`,
      `%files -n ${name(i)}`,
      `/usr/share/bench/${i}`,
    );
  }
  parts.push('%changelog', '* Wed Dec 02 2026 rpmgate bench <bench@rpmgate.invalid> - 1.0-1', '- Benchmark inventory.');
  return `${parts.join('\n')}\n`;
}
