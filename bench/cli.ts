// `npm run bench:cli [-- --runs 20]`: how long one `rpmgate` command takes to start and answer, as the
// bundle that `npm ci` builds (dist/cli/) beside the TypeScript sources through tsx (as it was before
// the bundle), each run directly by node and through npx. `set list` asks a real server (started here
// with an embedded PostgreSQL in a temporary data dir). Timed by hyperfine (mean of N runs after 3
// warm-ups); prints a markdown table with the targets. NODE_EXTRA_CA_CERTS, which this sandbox sets and
// users' machines do not, is removed (node parses that CA bundle at every start, ≈ 50 ms).
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildCliBundle } from '../server/cli/build-bundle.ts';

const exec = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Mean and standard deviation in ms of one command line, by hyperfine. */
async function hyperfine(command: string, env: NodeJS.ProcessEnv): Promise<{ mean: number; stddev: number }> {
  const out = path.join(os.tmpdir(), `rpmgate-bench-cli-${process.pid}.json`);
  await exec('hyperfine', ['-N', '--warmup', '3', '--runs', args.runs!, '--export-json', out, command], { env, cwd: repoRoot });
  const { results } = JSON.parse(await readFile(out, 'utf8')) as { results: { mean: number; stddev: number }[] };
  await rm(out, { force: true });
  return { mean: results[0]!.mean * 1000, stddev: results[0]!.stddev * 1000 };
}

const env: NodeJS.ProcessEnv = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-cli-'));
// As root, the embedded PostgreSQL runs as nobody, which must reach its data dir.
await chmod(dataDir, 0o755);
const port = await freePort();
const token = `bench-admin-${process.pid}-0123456789`;
log('building the bundle');
await buildCliBundle();
log('starting a server');
const server = spawn(process.execPath, [path.join(repoRoot, 'bin/rpmgate.js'), 'serve'], {
  env: { ...env, PORT: String(port), RPMGATE_DATA_DIR: dataDir, RPMGATE_ADMIN_TOKEN: token },
  stdio: 'ignore',
});
try {
  const clientEnv = { ...env, RPMGATE_URL: `http://127.0.0.1:${port}`, RPMGATE_TOKEN: token };
  await exec(process.execPath, [path.join(repoRoot, 'bin/rpmgate.js'), 'wait', '--timeout', '60'], { env: clientEnv });
  const rows: string[] = [];
  const cases = [
    { what: '`rpmgate --help`', args: '--help', target: 200 },
    { what: '`rpmgate --version`', args: '--version', target: 200 },
    { what: '`rpmgate set list` against a local server', args: 'set list', target: 400 },
  ];
  for (const item of cases) {
    log(item.what);
    const bundle = await hyperfine(`node bin/rpmgate.js ${item.args}`, clientEnv);
    const sources = await hyperfine(`node bin/rpmgate.js ${item.args}`, { ...clientEnv, RPMGATE_FROM_SOURCES: '1' });
    const npxBundle = await hyperfine(`npx rpmgate ${item.args}`, clientEnv);
    const npxSources = await hyperfine(`npx rpmgate ${item.args}`, { ...clientEnv, RPMGATE_FROM_SOURCES: '1' });
    const ms = (r: { mean: number; stddev: number }) => `${r.mean.toFixed(0)} ms ± ${r.stddev.toFixed(0)}`;
    rows.push(
      `| ${item.what} | ${ms(bundle)} | ${ms(npxBundle)} | ${ms(sources)} | ${ms(npxSources)} | ≤ ${item.target} ms | ${bundle.mean <= item.target ? 'pass' : '**miss**'} (direct) |`,
    );
  }
  const { stdout: nodeAlone } = await exec('hyperfine', ['-N', '--warmup', '3', '--runs', args.runs!, 'node -e 0'], { env });
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  process.stdout.write(
    [
      '| command | bundle (node bin/rpmgate.js) | bundle through npx | tsx from the sources (before) | tsx through npx (before) | target | result |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `node -e 0: ${/Time \(mean ± σ\):\s+([\d.]+ ms)/.exec(nodeAlone)?.[1] ?? '?'}; load average ${load}; ${os.cpus().length} cores; ${args.runs} runs each`,
      '',
    ].join('\n'),
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}
