// The createrepo_c side of the comparison: one real RPM of the corpus's shape built with rpmbuild,
// hard-linked under N distinct file names (createrepo_c reads and checksums every file as if it were
// a different package), and createrepo_c timed on it: a full run, then `--update` against that cache.
import { execFile } from 'node:child_process';
import { copyFile, link, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { formatRpmFileName } from '../../common/rpm/nevra.ts';
import { benchPackage, benchSpec } from './corpus.ts';

const run = promisify(execFile);

export interface CreaterepoTimes {
  version: string;
  /** `createrepo_c --no-database DIR` on a directory without repodata. */
  fullSeconds: number;
  /** `createrepo_c --update --no-database DIR` with the repodata of the full run as its cache. */
  updateSeconds: number;
  /** Uncompressed primary.xml bytes per package, to compare the corpora's shape. */
  primaryBytesPerPackage: number;
  rpmBytes: number;
}

export async function available(): Promise<string | null> {
  try {
    const [{ stdout }] = await Promise.all([run('createrepo_c', ['--version']), run('rpmbuild', ['--version'])]);
    return /Version:\s*(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  } catch {
    return null;
  }
}

export async function buildBenchRpm(dir: string): Promise<string> {
  const home = path.join(dir, 'home');
  const topdir = path.join(dir, 'top');
  await mkdir(home, { recursive: true });
  await mkdir(path.join(topdir, 'tmp'), { recursive: true });
  await writeFile(path.join(home, '.rpmmacros'), `%_dbpath ${path.join(dir, 'rpmdb')}\n`);
  const spec = path.join(dir, 'bench.spec');
  await writeFile(spec, benchSpec(0));
  const defines = { _topdir: topdir, _tmppath: path.join(topdir, 'tmp'), _buildhost: benchPackage(0).buildhost, _build_id_links: 'none' };
  const args = ['-bb', '--nodeps', '--target', 'x86_64', ...Object.entries(defines).flatMap(([k, v]) => ['--define', `${k} ${v}`]), spec];
  try {
    await run('rpmbuild', args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LC_ALL: 'C', TZ: 'UTC' }, maxBuffer: 16 << 20 });
  } catch (error) {
    throw new Error(`rpmbuild failed: ${String((error as { stderr?: string }).stderr ?? error).slice(-2000)}`);
  }
  const rpmsDir = path.join(topdir, 'RPMS', 'x86_64');
  const [rpm] = (await readdir(rpmsDir)).filter((name) => name.endsWith('.rpm'));
  if (!rpm) throw new Error('rpmbuild produced no RPM');
  return path.join(rpmsDir, rpm);
}

async function timed(command: string, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  await run(command, args, { maxBuffer: 64 << 20 });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function timeCreaterepo(dir: string, count: number, version: string): Promise<CreaterepoTimes> {
  const rpm = await buildBenchRpm(path.join(dir, 'build'));
  const repo = path.join(dir, 'repo');
  await mkdir(repo, { recursive: true });
  // A file takes at most 65,000 links on ext4: a fresh copy serves every 50,000.
  let source = rpm;
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % 50_000 === 0) {
      source = path.join(dir, `source-${i}.rpm`);
      await copyFile(rpm, source);
    }
    await link(source, path.join(repo, formatRpmFileName(benchPackage(i))));
  }
  const fullSeconds = await timed('createrepo_c', ['--no-database', repo]);
  const updateSeconds = await timed('createrepo_c', ['--update', '--no-database', repo]);
  const repomd = await readFile(path.join(repo, 'repodata', 'repomd.xml'), 'utf8');
  const primaryOpenSize = Number(/<data type="primary">[\s\S]*?<open-size>(\d+)<\/open-size>/.exec(repomd)?.[1] ?? NaN);
  const { size } = await stat(rpm);
  return { version, fullSeconds, updateSeconds, primaryBytesPerPackage: primaryOpenSize / count, rpmBytes: size };
}
