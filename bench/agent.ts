// `npm run bench:agent [-- --packages 1500 --runs 7]`: the agent as it ships (the bundle of
// npm run build:agent, run by plain node from a directory holding only it) beside the same commands
// through tsx from the checkout, as today. A benchmark, not a test: it prints a markdown table with
// each target and pass or miss.
//
// Measured: the bundle's size; `rpmgate-agent --version`; `report` end to end (rpm -qa over a root whose
// database holds N installed packages, report built, spooled and delivered to a real server) in wall
// time and peak RSS (GNU time's maximum resident set of the agent and the rpm it runs); and, as root
// with dnf, what the dnf hooks cost a transaction: the dnf 4 plugin's own time (its debug line), the
// wall time of dnf install/remove cycles with and without it, and the dnf 5 action's command.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildAgentBundle, type AgentBundle } from '../agent/packaging/build-bundle.ts';
import { buildAgentRpm } from '../agent/packaging/build-rpm.ts';
import { migrate } from '../server/db/migrate.ts';
import { buildFixtures } from '../test/fixtures/build-fixtures.ts';
import { actionCommand, agentProcesses, waitFor } from '../test/support/agent-hooks.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../test/support/dnf-root.ts';
import { buildNodejsStandIn } from '../test/support/nodejs-stand-in.ts';
import { installedRoot } from './support/installed-root.ts';
import { openBenchDatabase } from './support/postgres.ts';
import { startServerProcess, type ServerProcess } from './support/server-runner.ts';

const exec = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    packages: { type: 'string', default: process.env.BENCH_PACKAGES ?? '1500' },
    runs: { type: 'string', default: '7' },
    'dnf-cycles': { type: 'string', default: '5' },
  },
});
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Run {
  wallMs: number;
  /** Maximum resident set of the process and the children it waited for, in KiB (GNU time %M). */
  maxRssKiB: number | null;
  code: number;
  stdout: string;
  stderr: string;
}

/** One command, timed by the clock and by GNU time (for its peak RSS) when /usr/bin/time exists. */
async function measure(argv: string[], env: NodeJS.ProcessEnv, cwd: string, options: { rss?: boolean } = {}): Promise<Run> {
  const timeFile = path.join(os.tmpdir(), `rpmgate-bench-time-${randomBytes(4).toString('hex')}`);
  const timed = options.rss !== false && existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%M', '-o', timeFile, ...argv] : argv;
  const started = process.hrtime.bigint();
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(timed[0]!, timed.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const rss = await readFile(timeFile, 'utf8').then((text) => Number(text.trim().split('\n').at(-1)), () => NaN);
  await rm(timeFile, { force: true });
  return { ...result, wallMs, maxRssKiB: Number.isFinite(rss) ? rss : null };
}

async function repeat(label: string, runs: number, once: () => Promise<Run>): Promise<Run[]> {
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await once();
    if (result.code !== 0) throw new Error(`${label} failed (exit ${result.code}): ${result.stderr.trim().split('\n').at(-1)}`);
    results.push(result);
  }
  return results;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;
const mib = (kib: number | null) => (kib === null ? 'n/a' : `${(kib / 1024).toFixed(1)} MB`);
const maxRss = (runs: Run[]) => (runs.some((r) => r.maxRssKiB === null) ? null : Math.max(...runs.map((r) => r.maxRssKiB!)));
const verdict = (ok: boolean) => (ok ? 'pass' : '**miss**');

interface HookResults {
  hookMs: number[];
  withPlugin: number[];
  withoutPlugin: number[];
  actionMs: number[];
}

async function main(): Promise<void> {
  const packages = Number(args.packages);
  const runs = Number(args.runs);
  const loadBefore = os.loadavg();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-agent-'));
  await chmod(workDir, 0o755);
  let server: ServerProcess | null = null;
  const database = await openBenchDatabase(workDir);
  const dnfRoots: DnfRoot[] = [];
  try {
    log(`a root with ${packages.toLocaleString('en')} installed packages (built once, cached under .cache/bench-root)`);
    const host = await installedRoot(packages);
    log('the bundle, in a directory holding only it');
    const bundleDir = path.join(workDir, 'bundle');
    const bundle: AgentBundle = await buildAgentBundle(bundleDir);

    await migrate(database.sql);
    const adminToken = randomBytes(24).toString('hex');
    server = await startServerProcess({ ...database.serverEnv, PORT: '0', HOST: '127.0.0.1', RPMGATE_DATA_DIR: path.join(workDir, 'server'), RPMGATE_ADMIN_TOKEN: adminToken });
    const mint = async (role: string) => {
      const response = await fetch(`${server!.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role, name: `bench-${role}-${randomBytes(3).toString('hex')}` }),
      });
      return ((await response.json()) as { token: string }).token;
    };
    const agentToken = await mint('agent');

    // Plain node for the bundle: whatever this process was started with (tsx's loader) stays out, and
    // so does NODE_EXTRA_CA_CERTS, which some sandboxes set and hosts do not (node parses that CA
    // bundle at every start: ≈ 50 ms here).
    const { NODE_OPTIONS: _preloads, NODE_EXTRA_CA_CERTS: _extraCerts, ...plainEnv } = process.env;
    const env = { ...plainEnv, HOME: host.home, LC_ALL: 'C' };
    const variants = {
      bundle: { argv: [process.execPath, bundle.file], cwd: bundleDir },
      tsx: { argv: [process.execPath, path.join(repoRoot, 'bin/rpmgate-agent.js')], cwd: repoRoot },
    };
    log(`node alone (node -e 0) ×${runs}`);
    const bareNode = await repeat('node -e 0', runs, () => measure([process.execPath, '-e', '0'], env, workDir, { rss: false }));
    const results: Record<string, { version: Run[]; report: Run[] }> = {};
    for (const [name, variant] of Object.entries(variants)) {
      log(`${name}: --version ×${runs}`);
      const version = await repeat(`${name} --version`, runs, () => measure([...variant.argv, '--version'], env, variant.cwd, { rss: false }));
      const spool = path.join(workDir, `spool-${name}`);
      const repos = path.join(workDir, `repos-${name}`);
      await mkdir(repos, { recursive: true });
      const reportArgs = [...variant.argv, '--server', server.url, '--token', agentToken, '--rpm-root', host.root, '--spool-dir', spool, '--repos-dir', repos, 'report'];
      // One report first: the server's first report of a host is its expensive path, not the agent's.
      await repeat(`${name} report`, 1, () => measure(reportArgs, env, variant.cwd));
      log(`${name}: report ×${runs} (${packages} packages)`);
      const report = await repeat(`${name} report`, runs, () => measure(reportArgs, env, variant.cwd));
      const reported = /reported (\d+) packages/.exec(report[0]!.stdout)?.[1];
      if (Number(reported) !== packages) throw new Error(`the report held ${reported} packages, not ${packages}: ${report[0]!.stdout}`);
      results[name] = { version, report };
    }

    let hooks: HookResults | null = null;
    const dnf = await dnfAvailable();
    if (dnf.ok) {
      log('dnf hooks: a root with the agent RPM installed and enrolled');
      hooks = await measureHooks(workDir, server.url, await mint('enrollment'), Number(args['dnf-cycles']), dnfRoots);
    } else {
      log(`dnf hooks not measured: ${dnf.reason}`);
    }

    const loadAfter = os.loadavg();
    printTable(bundle, (await stat(bundle.map)).size, median(bareNode.map((r) => r.wallMs)), results.bundle!, results.tsx!, hooks, packages, runs, loadBefore, loadAfter);
  } finally {
    for (const root of dnfRoots) await root.cleanup();
    await server?.stop();
    await database.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The dnf 4 plugin and the dnf 5 action in a real root (the agent RPM installed beside the nodejs stand-in). */
async function measureHooks(workDir: string, serverUrl: string, enrollmentToken: string, cycles: number, roots: DnfRoot[]): Promise<HookResults> {
  const [agentRpm, standIn, fixtures] = await Promise.all([
    buildAgentRpm({ outDir: path.join(workDir, 'rpm') }),
    buildNodejsStandIn(path.join(workDir, 'stand-in')),
    buildFixtures(),
  ]);
  const root = await createDnfRoot();
  roots.push(root);
  await root.dnf(['install', standIn.file, agentRpm.file]);
  const agent = [path.join(root.root, 'usr/bin/rpmgate-agent')];
  const { NODE_EXTRA_CA_CERTS: _extraCerts, ...hostEnv } = process.env;
  const env = { ...hostEnv, ...root.env };
  await exec(process.execPath, [...agent, '--rpm-root', root.root, '--server', serverUrl, 'enroll', '--enrollment-token', enrollmentToken], { env });
  const confDir = path.join(workDir, 'plugin-conf');
  await mkdir(confDir);
  const shipped = await readFile(path.join(root.root, 'etc/dnf/plugins/rpmgate.conf'), 'utf8');
  await writeFile(path.join(confDir, 'rpmgate.conf'), `${shipped}command=${process.execPath} ${agent[0]}\n`);
  const pluginDir = path.join(root.root, 'usr/lib/python3.9/site-packages/dnf-plugins');
  const hello = fixtures.byName('rg-hello-2.0-1.noarch').path;

  const results: HookResults = { hookMs: [], withPlugin: [], withoutPlugin: [], actionMs: [] };
  const dnfRun = async (dnfArgs: string[], plugin: boolean) => {
    // Both with dnf's plugin machinery on (as on EL hosts, where plugins ship enabled): the difference is the plugin's.
    const options = ['--setopt=plugins=1', `--setopt=pluginpath=${pluginDir}`, `--setopt=pluginconfpath=${confDir}`, ...(plugin ? [] : ['--disableplugin=rpmgate'])];
    const run = await measure(['dnf', '-y', '-v', `--installroot=${root.root}`, `--config=${root.dnfConf}`, ...options, ...dnfArgs], env, workDir);
    if (run.code !== 0) throw new Error(`dnf ${dnfArgs.join(' ')} failed: ${run.stderr.trim().split('\n').at(-1)}`);
    const hook = /rpmgate: started rpmgate-agent report \(pid \d+\) in ([\d.]+) ms/.exec(run.stdout + run.stderr);
    if (plugin && !hook) throw new Error('the plugin did not start a report');
    if (hook) results.hookMs.push(Number(hook[1]));
    // The next run starts on a quiet machine: the report this one started is left to finish.
    await waitFor('the background report', async () => (await agentProcesses(root.root)).length === 0, 120_000);
    return run.wallMs;
  };
  for (let i = 0; i < cycles; i++) {
    log(`dnf install and remove, with and without the plugin: cycle ${i + 1} of ${cycles}`);
    for (const plugin of i % 2 ? [false, true] : [true, false]) {
      const wall = (await dnfRun(['install', hello], plugin)) + (await dnfRun(['remove', 'rg-hello'], plugin));
      (plugin ? results.withPlugin : results.withoutPlugin).push(wall / 2);
    }
  }
  await root.stopGpgAgents();

  log('the dnf 5 action command');
  const actions = await readFile(path.join(root.root, 'etc/dnf/libdnf5-plugins/actions.d/rpmgate.actions'), 'utf8');
  const { argv } = actionCommand(actions, { 'conf.installroot': root.root });
  const command = argv.map((arg) => arg.replace('/usr/bin/rpmgate-agent', `${process.execPath} ${agent[0]}`));
  for (let i = 0; i < cycles; i++) {
    const run = await measure(command, env, workDir);
    results.actionMs.push(run.wallMs);
    await waitFor('the background report', async () => (await agentProcesses(root.root)).length === 0, 120_000);
  }
  return results;
}

function printTable(
  bundle: AgentBundle,
  mapBytes: number,
  bareNodeMs: number,
  built: { version: Run[]; report: Run[] },
  tsx: { version: Run[]; report: Run[] },
  hooks: HookResults | null,
  packages: number,
  runs: number,
  loadBefore: number[],
  loadAfter: number[],
): void {
  const version = median(built.version.map((r) => r.wallMs));
  const report = median(built.report.map((r) => r.wallMs));
  const rss = maxRss(built.report);
  const lines = [
    '',
    `rpmgate-agent ${bundle.version}: bundle run by plain node vs tsx from the checkout; medians of ${runs} runs; report over ${packages.toLocaleString('en')} installed packages`,
    '',
    '| measure | bundle (plain node) | tsx (today) | target | result |',
    '|---|---|---|---|---|',
    `| size | ${(bundle.bytes / 1024).toFixed(0)} KiB (its source map beside it: ${(mapBytes / 1024).toFixed(0)} KiB) | the checkout with its node_modules | ≤ 1 MB | ${verdict(bundle.bytes <= 1_000_000)} |`,
    `| \`--version\` | ${ms(version)} (node alone, \`node -e 0\`: ${ms(bareNodeMs)}) | ${ms(median(tsx.version.map((r) => r.wallMs)))} | ≤ 150 ms | ${verdict(version <= 150)} |`,
    `| \`report\` end to end, wall | ${ms(report)} | ${ms(median(tsx.report.map((r) => r.wallMs)))} | ≤ 1 s | ${verdict(report <= 1000)} |`,
    `| \`report\` peak RSS (agent and its rpm) | ${mib(rss)} | ${mib(maxRss(tsx.report))} | ≤ 80 MB | ${rss === null ? 'not measured' : verdict(rss / 1024 <= 80)} |`,
  ];
  if (hooks) {
    const added = median(hooks.withPlugin) - median(hooks.withoutPlugin);
    lines.push(
      `| dnf 4 plugin: its hook (debug line) | ${ms(median(hooks.hookMs))} (max ${ms(Math.max(...hooks.hookMs))}) | | ≤ 50 ms | ${verdict(Math.max(...hooks.hookMs) <= 50)} |`,
      `| dnf install/remove with the plugin minus with it disabled | ${ms(added)} (${ms(median(hooks.withPlugin))} vs ${ms(median(hooks.withoutPlugin))}) | | ≤ 50 ms | ${verdict(added <= 50)} |`,
      `| dnf 5 action command (what dnf5 waits for) | ${ms(median(hooks.actionMs))} | | ≤ 50 ms | ${verdict(median(hooks.actionMs) <= 50)} |`,
    );
  }
  lines.push('', 'NODE_EXTRA_CA_CERTS removed from the environment of every measured command (hosts do not set it).', `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
