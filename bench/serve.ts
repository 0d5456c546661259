// `npm run bench:serve`: warm answers of `rpmgate serve` with its default workers (RPMGATE_WORKERS,
// the number of cores) against nginx `worker_processes auto` serving the same bytes, in the same run:
// repomd.xml, primary.xml.gz, a package file and the public key of a small set repository (the test
// fixtures, uploaded and put in a set), then repomd.xml, primary.xml.gz and a package file of set
// repositories of 20,000 and 100,000 packages (bench/support/load.ts's corpus put in the database with
// COPY, beside the uploaded fixtures, whose files are real). wrk on loopback;
// `-- --seconds N --connections N --workers N --packages 20000,100000` (`--packages ''`: small only).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { migrate } from '../server/db/migrate.ts';
import { bumpRepoGeneration } from '../server/db/repo-generations.ts';
import { insertSet, refreshPackageLevels } from '../server/db/sets.ts';
import { Keyring, readSigningAlgorithm } from '../server/signing/keyring.ts';
import { buildFixtures, type FixturePackage as Fixture } from '../test/fixtures/build-fixtures.ts';
import { freePort, runWrk, startNginx } from './support/http-load.ts';
import { reapedChildrenCpuSeconds, treeCpuSeconds } from './support/process-cpu.ts';
import { loadCorpus } from './support/load.ts';
import { openBenchDatabase } from './support/postgres.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    workers: { type: 'string' },
    packages: { type: 'string', default: '20000,100000' },
  },
});
const settings = { threads: 2, connections: Number(values.connections), seconds: Number(values.seconds) };
const token = 'bench-serve-admin-token-0123456789';
const workers = values.workers ?? String(os.availableParallelism());
const largeSizes = values.packages.split(',').filter((size) => size.trim() !== '').map(Number);
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

interface Serve {
  port: number;
  /** The supervisor (its workers, and an embedded PostgreSQL, are below it). */
  pid: number;
  stop(): Promise<void>;
}

/** `rpmgate serve` (the bundled CLI, as installed) with the bench's workers, once every worker listens. */
async function startServe(env: Record<string, string>): Promise<Serve> {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the supervisor and,
  // through cluster's inherited execArgv, each worker.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.resolve('bin/rpmgate.js'), 'serve'], {
    env: { ...process.env, DATABASE_URL: '', ...env, PORT: String(port), RPMGATE_ADMIN_TOKEN: token, RPMGATE_WORKERS: workers },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serveLog = '';
  child.stderr!.on('data', (chunk: Buffer) => (serveLog += chunk.toString()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  };
  const deadline = Date.now() + 120_000;
  while ((serveLog.match(/"message":"rpmgate listening"/g)?.length ?? 0) < Number(workers)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`rpmgate serve did not start: ${serveLog}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log(`rpmgate serve with ${workers} worker(s) on port ${port}`);
  return { port, pid: child.pid!, stop };
}

async function uploadFixtures(port: number, members: Fixture[]): Promise<void> {
  for (const fixture of members) {
    const answer = await get(port, '/api/v1/packages', 'POST', await readFile(fixture.path));
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`${fixture.nevra} not uploaded: ${answer.body.toString()}`);
  }
}

/** One wrk run: its rate, and the CPU microseconds per answer of the server (all its processes) and of wrk. */
async function load(url: string, serverPid: number): Promise<{ rate: number; serverMicros: number; clientMicros: number }> {
  const server = treeCpuSeconds(serverPid);
  const client = reapedChildrenCpuSeconds();
  const result = await runWrk(url, settings);
  const answers = result.requestsPerSecond * settings.seconds;
  const micros = (seconds: number) => (seconds * 1e6) / answers;
  return { rate: result.requestsPerSecond, serverMicros: micros(treeCpuSeconds(serverPid) - server), clientMicros: micros(reapedChildrenCpuSeconds() - client) };
}

/** wrk against rpmgate and against nginx serving the same bytes; one markdown row per target. */
async function measure(serve: Serve, workDir: string, repository: string, targets: Record<string, string>): Promise<string[]> {
  const files = new Map<string, Buffer>();
  for (const href of Object.values(targets)) {
    const answer = await get(serve.port, href);
    if (answer.status !== 200) throw new Error(`${href}: ${answer.status}`);
    files.set(href.slice(1), answer.body);
  }
  const nginx = await startNginx(workDir, files, 'auto');
  const rows: string[] = [];
  try {
    for (const [label, href] of Object.entries(targets)) {
      log(`wrk ${repository}: ${label}`);
      const ours = await load(`http://127.0.0.1:${serve.port}${href}`, serve.pid);
      const theirs = await load(`${nginx.url}${href}`, nginx.pid);
      const ratio = ours.rate / theirs.rate;
      const rate = (value: number) => `${Math.round(value).toLocaleString('en')} req/s`;
      const cpu = (value: number) => `${value.toFixed(1)} µs`;
      rows.push(
        `| ${repository} | ${label} | ${rate(ours.rate)} | ${rate(theirs.rate)} | ${Math.round(ratio * 100)}% | ${ratio >= 1 ? 'pass' : '**miss**'} | ` +
          `${cpu(ours.serverMicros)} / ${cpu(theirs.serverMicros)} | ${cpu(ours.clientMicros)} / ${cpu(theirs.clientMicros)} |`,
      );
    }
  } finally {
    await nginx.stop();
  }
  return rows;
}

/** repomd.xml, primary.xml.gz and a fixture's package file (its alias URL) of a set repository. */
async function repositoryTargets(port: number, base: string, packageFile: string): Promise<Record<string, string>> {
  const repomd = (await get(port, `${base}repodata/repomd.xml`)).body;
  const primaryHref = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(repomd.toString())![1]!;
  const primary = await get(port, base + primaryHref);
  if (!gunzipSync(primary.body).includes(packageFile)) throw new Error(`${packageFile} is not in ${base}`);
  const size = primary.body.length >= 1024 * 1024 ? `${(primary.body.length / 1024 / 1024).toFixed(1)} MB` : `${primary.body.length.toLocaleString('en')} B`;
  return {
    'repomd.xml': `${base}repodata/repomd.xml`,
    [`primary.xml.gz (${size})`]: base + primaryHref,
    'package file': `${base}Packages/${packageFile}`,
  };
}

async function smallRepository(workDir: string, members: Fixture[]): Promise<string[]> {
  const serve = await startServe({ RPMGATE_DATA_DIR: path.join(workDir, 'data') });
  try {
    await uploadFixtures(serve.port, members);
    const created = await get(serve.port, '/api/v1/sets', 'POST', JSON.stringify({ name: 'bench', version: '1.0', packages: members.map((fixture) => fixture.nevra), allowUnresolved: true }), 'application/json');
    if (created.status !== 201) throw new Error(`set not created: ${created.body.toString()}`);
    const targets = await repositoryTargets(serve.port, '/repo/set/bench/1.0/', members[0]!.fileName);
    return await measure(serve, path.join(workDir, 'nginx'), `${members.length} packages`, { ...targets, '/keys/rpmgate.asc': '/keys/rpmgate.asc' });
  } finally {
    await serve.stop();
  }
}

async function largeRepository(workDir: string, count: number, members: Fixture[]): Promise<string[]> {
  await mkdir(workDir, { recursive: true });
  await chmod(workDir, 0o755);
  const database = await openBenchDatabase(workDir);
  try {
    const { sql } = database;
    await migrate(sql);
    const dataDir = path.join(workDir, 'data');
    // The server's key, made now, so that the corpus counts as signed by it (nothing to re-sign).
    const keyring = await Keyring.open({ dataDir, algorithm: readSigningAlgorithm() });
    log(`loading ${count.toLocaleString('en')} packages`);
    const corpus = await loadCorpus(sql, count, { signedBy: keyring.current().info.fingerprint });
    const serve = await startServe({ ...database.serverEnv, RPMGATE_DATA_DIR: dataDir });
    try {
      await uploadFixtures(serve.port, members);
      const uploaded = await sql<{ id: number }[]>`select id from packages where nevra in ${sql(members.map((fixture) => fixture.nevra))}`;
      // The set as createSet writes it (members, sealed, levels, generation): the servers hear of it by notification.
      await sql.begin(async (tx) => {
        const ids = [...corpus.ids, ...uploaded.map((row) => Number(row.id))];
        await insertSet(tx, { name: 'bench', version: '1', description: 'benchmark', createdBy: 'bench', packageIds: ids });
        await refreshPackageLevels(tx, ids);
        await bumpRepoGeneration(tx, 'levels');
      });
      await sql`analyze`;
      const base = '/repo/set/bench/1/';
      for (const deadline = Date.now() + 30_000; (await get(serve.port, `${base}repodata/repomd.xml`)).status !== 200; ) {
        if (Date.now() > deadline) throw new Error('the set repository did not appear');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const targets = await repositoryTargets(serve.port, base, members[0]!.fileName);
      return await measure(serve, path.join(workDir, 'nginx'), `${(count + members.length).toLocaleString('en')} packages`, targets);
    } finally {
      await serve.stop();
    }
  } finally {
    await database.close();
  }
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-serve-'));
await chmod(workDir, 0o755);
try {
  const fixtures = await buildFixtures();
  const members = fixtures.packages.filter((fixture) => ['rg-hello', 'rg-epoch', 'rg-lib', 'rg-weak', 'rg-text'].includes(fixture.name) && fixture.arch !== 'src');
  const rows = await smallRepository(path.join(workDir, 'small'), members);
  for (const count of largeSizes) rows.push(...(await largeRepository(path.join(workDir, `large-${count}`), count, members)));
  console.log(`\nrpmgate serve, ${workers} worker(s), against nginx worker_processes auto (${os.availableParallelism()} cores), wrk -t${settings.threads} -c${settings.connections} -d${settings.seconds}s, load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')} at the end:\n`);
  console.log('| set repository | warm answer | rpmgate | nginx auto | rpmgate / nginx | target ≥ nginx | server CPU per answer, rpmgate / nginx | wrk CPU per answer, against rpmgate / nginx |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
