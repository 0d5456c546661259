// `npm run bench:serve`: warm answers of `rpmgate serve` with its default workers (RPMGATE_WORKERS,
// the number of cores) against nginx `worker_processes auto` serving the same bytes, in the same run:
// repomd.xml, primary.xml.gz, a package file and the public key of a small set repository (the test
// fixtures, uploaded and put in a set). wrk on loopback; `-- --seconds N --connections N --workers N`.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildFixtures } from '../test/fixtures/build-fixtures.ts';
import { freePort, runWrk, startNginx } from './support/http-load.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, connections: { type: 'string', default: '32' }, workers: { type: 'string' } } });
const settings = { threads: 2, connections: Number(values.connections), seconds: Number(values.seconds) };
const token = 'bench-serve-admin-token-0123456789';
const log = (line: string) => process.stderr.write(`# ${line}\n`);

function get(port: number, url: string, method = 'GET', body?: Buffer | string, type = 'application/octet-stream'): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url, method, headers: { authorization: `Bearer ${token}`, 'content-type': type } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-serve-'));
await chmod(workDir, 0o755);
const port = await freePort();
const workers = values.workers ?? String(os.availableParallelism());
const serve = spawn(process.execPath, [path.resolve('bin/rpmgate.js'), 'serve'], {
  env: { ...process.env, PORT: String(port), RPMGATE_DATA_DIR: path.join(workDir, 'data'), DATABASE_URL: '', RPMGATE_ADMIN_TOKEN: token, RPMGATE_WORKERS: workers },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let serveLog = '';
serve.stderr!.on('data', (chunk: Buffer) => (serveLog += chunk.toString()));
try {
  log(`rpmgate serve with ${workers} worker(s) on port ${port}`);
  const deadline = Date.now() + 120_000;
  while ((serveLog.match(/"message":"rpmgate listening"/g)?.length ?? 0) < Number(workers)) {
    if (Date.now() > deadline || serve.exitCode !== null) throw new Error(`rpmgate serve did not start: ${serveLog}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const fixtures = await buildFixtures();
  const members = fixtures.packages.filter((fixture) => ['rg-hello', 'rg-epoch', 'rg-lib', 'rg-weak', 'rg-text'].includes(fixture.name) && fixture.arch !== 'src');
  for (const fixture of members) await get(port, '/api/v1/packages', 'POST', await readFile(fixture.path));
  const created = await get(port, '/api/v1/sets', 'POST', JSON.stringify({ name: 'bench', version: '1.0', packages: members.map((fixture) => fixture.nevra), allowUnresolved: true }), 'application/json');
  if (created.status !== 201) throw new Error(`set not created: ${created.body.toString()}`);
  const base = '/repo/set/bench/1.0/';
  const repomd = (await get(port, `${base}repodata/repomd.xml`)).body;
  const primaryHref = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(repomd.toString())![1]!;
  const primary = await get(port, base + primaryHref);
  const packageHref = /href="(Packages\/[^"]+\.rpm)"/.exec((await import('node:zlib')).gunzipSync(primary.body).toString())![1]!;
  const targets: Record<string, string> = {
    'repomd.xml': `${base}repodata/repomd.xml`,
    [`primary.xml.gz (${primary.body.length} B)`]: base + primaryHref,
    'package file': base + packageHref,
    '/keys/rpmgate.asc': '/keys/rpmgate.asc',
  };
  const files = new Map<string, Buffer>();
  for (const href of Object.values(targets)) {
    const answer = await get(port, href);
    if (answer.status !== 200) throw new Error(`${href}: ${answer.status}`);
    files.set(href.slice(1), answer.body);
  }
  const nginx = await startNginx(path.join(workDir, 'nginx'), files, 'auto');
  const rows: string[] = [];
  try {
    for (const [label, href] of Object.entries(targets)) {
      log(`wrk ${label}`);
      const ours = await runWrk(`http://127.0.0.1:${port}${href}`, settings);
      const theirs = await runWrk(`${nginx.url}${href}`, settings);
      const ratio = ours.requestsPerSecond / theirs.requestsPerSecond;
      rows.push(`| ${label} | ${Math.round(ours.requestsPerSecond).toLocaleString('en')} req/s | ${Math.round(theirs.requestsPerSecond).toLocaleString('en')} req/s | ${Math.round(ratio * 100)}% | ${ratio >= 1 ? 'pass' : '**miss**'} |`);
    }
  } finally {
    await nginx.stop();
  }
  console.log(`\nrpmgate serve, ${workers} worker(s), against nginx worker_processes auto (${os.availableParallelism()} cores), wrk -t${settings.threads} -c${settings.connections} -d${settings.seconds}s:\n`);
  console.log('| warm answer | rpmgate | nginx auto | rpmgate / nginx | target ≥ nginx |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  serve.kill('SIGTERM');
  await new Promise((resolve) => (serve.exitCode !== null ? resolve(null) : serve.once('exit', resolve)));
  await rm(workDir, { recursive: true, force: true });
}
