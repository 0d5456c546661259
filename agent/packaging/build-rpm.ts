// `npm run build:agent-rpm [-- --out DIR] [--python-sitelib DIR]`: the agent RPM,
// rpmgate-agent-<version>-1.noarch.rpm, built by rpmbuild from agent/packaging/rpmgate-agent.spec
// with the bundle of build-bundle.ts and the files beside the spec as its sources. The build is
// reproducible for one commit (SOURCE_DATE_EPOCH from the commit, fixed build host, gzip payload that
// every rpm since EL 7 reads), so the same checkout gives the same bytes.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildAgentBundle, repoRoot, type AgentBundle } from './build-bundle.ts';

const run = promisify(execFile);

export const packagingDir = path.join(repoRoot, 'agent', 'packaging');
export const specFile = path.join(packagingDir, 'rpmgate-agent.spec');
export const defaultRpmDir = path.join(repoRoot, 'dist', 'rpm');

/** The spec's sources besides the bundle and its map, by the name the spec gives them. */
const sources: Record<string, string> = {
  'rpmgate-agent.service': 'agent/systemd/rpmgate-agent.service',
  'rpmgate-agent.timer': 'agent/systemd/rpmgate-agent.timer',
  'agent.env': 'agent/packaging/agent.env',
  'rpmgate.py': 'agent/packaging/dnf-plugins/rpmgate.py',
  'rpmgate.conf': 'agent/packaging/rpmgate.conf',
  'rpmgate.actions': 'agent/packaging/rpmgate.actions',
  'README.md': 'agent/README.md',
  'rpmgate-agent.1': 'agent/packaging/rpmgate-agent.1',
};

export interface AgentRpmOptions {
  outDir?: string;
  /** Where the target's Python keeps site packages (the dnf 4 plugin goes to DIR/dnf-plugins); EL 9's by default. */
  pythonSitelib?: string;
}

export interface AgentRpm {
  file: string;
  version: string;
  bundle: AgentBundle;
}

export async function buildAgentRpm(options: AgentRpmOptions = {}): Promise<AgentRpm> {
  const outDir = options.outDir ?? defaultRpmDir;
  const topdir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-rpmbuild-'));
  try {
    const sourcesDir = path.join(topdir, 'SOURCES');
    const bundle = await buildAgentBundle(sourcesDir);
    for (const [name, from] of Object.entries(sources)) await copyFile(path.join(repoRoot, from), path.join(sourcesDir, name));
    // A private HOME: rpmbuild reads ~/.rpmmacros, and nothing of the builder's own should leak in.
    const home = path.join(topdir, 'home');
    await mkdir(home);
    await writeFile(path.join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
    const provides = bundle.bundled.map((pkg) => `bundled(nodejs-${pkg.name}) = ${pkg.version}`).join(', ');
    const defines: Record<string, string> = {
      _topdir: topdir,
      rpmgate_version: bundle.version,
      rpmgate_bundled_provides: provides ? `Provides: ${provides}` : '%{nil}',
      ...(options.pythonSitelib ? { rpmgate_python_sitelib: options.pythonSitelib } : {}),
      _buildhost: 'rpmgate-build',
      use_source_date_epoch_as_buildtime: '1',
      clamp_mtime_to_source_date_epoch: '1',
      _binary_payload: 'w9.gzdio',
      _build_id_links: 'none',
    };
    const args = ['-bb', '--nodeps', ...Object.entries(defines).flatMap(([name, value]) => ['--define', `${name} ${value}`]), specFile];
    try {
      await run('rpmbuild', args, { env: { ...process.env, HOME: home, LC_ALL: 'C', SOURCE_DATE_EPOCH: await sourceDateEpoch() }, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stderr?: string };
      if (failure.code === 'ENOENT') throw new Error('rpmbuild is not installed (Debian: apt-get install rpm)');
      throw new Error(`rpmbuild failed: ${failure.stderr?.trim().split('\n').slice(-5).join(' | ') ?? failure.message}`);
    }
    const built = path.join(topdir, 'RPMS', 'noarch');
    const [name] = await readdir(built);
    if (!name) throw new Error('rpmbuild made no package');
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, name);
    await copyFile(path.join(built, name), file);
    return { file, version: bundle.version, bundle };
  } finally {
    await rm(topdir, { recursive: true, force: true });
  }
}

/** The commit's time, so that one commit builds the same package; now, outside a git checkout. */
async function sourceDateEpoch(): Promise<string> {
  try {
    const { stdout } = await run('git', ['log', '-1', '--format=%ct'], { cwd: repoRoot });
    if (/^\d+$/.test(stdout.trim())) return stdout.trim();
  } catch {
    // not a git checkout
  }
  return String(Math.floor(Date.now() / 1000));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'python-sitelib': { type: 'string' } } });
  try {
    const rpm = await buildAgentRpm({
      ...(values.out ? { outDir: path.resolve(values.out) } : {}),
      ...(values['python-sitelib'] ? { pythonSitelib: values['python-sitelib'] } : {}),
    });
    process.stdout.write(`${path.relative(process.cwd(), rpm.file)}\n`);
  } catch (error) {
    process.stderr.write(`build:agent-rpm: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
