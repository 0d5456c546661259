// `npm run bench:fleet [-- --hosts N]`: how rpmgate holds up as the inventory server of a large fleet.
// A benchmark, not a test: it prints a markdown table with each target and pass or fail, and fails only
// when something breaks.
//
// The fleet is test/support/fleet-model.ts's: two versions of a ~300-package product set over ~1,200 OS
// packages, hosts drifted in known ways. The server is `rpmgate serve` as shipped, with its default
// workers (one per core; `--workers N`), or with `--workers 1` one server process of its own (its own
// event loop and memory), on an embedded PostgreSQL in a temporary directory, or on DATABASE_URL. Agent tokens are
// written straight into the database already bound to their hosts (as enrollment would), and every
// report body is generated before the clock starts, so that only the server is measured.
// Measured: the first report of every host (new hosts), a second round where 10% of the hosts changed
// one package (steady state), a third where nothing changed, the drifting-hosts query (p50/p95 over repeated calls), a set's conformance view and a
// component's usage, and the database's size.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatNevra } from '../common/rpm/nevra.ts';
import { migrate } from '../server/db/migrate.ts';
import { digestToken } from '../server/services/tokens.ts';
import { createFleetModel } from '../test/support/fleet-model.ts';
import { insertSyntheticPackage } from '../test/support/synthetic-package.ts';
import { BodyFile } from './support/body-file.ts';
import { openBenchDatabase } from './support/postgres.ts';
import { startServerProcess } from './support/server-runner.ts';
import { startServeWorkers } from './support/serve-workers.ts';

const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: process.env.BENCH_HOSTS ?? '10000' },
    'set-packages': { type: 'string', default: process.env.BENCH_SET_PACKAGES ?? '300' },
    'os-packages': { type: 'string', default: process.env.BENCH_OS_PACKAGES ?? '1200' },
    concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? '16' },
    'query-runs': { type: 'string', default: '30' },
    compare: { type: 'string', default: process.env.BENCH_COMPARE ?? '0' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Phase {
  reports: number;
  seconds: number;
  latencies: number[];
  /** CPU seconds the server process and PostgreSQL spent in the phase (null when not measurable). */
  serverCpu: number | null;
  databaseCpu: number | null;
}

interface QueryTiming {
  label: string;
  path: string;
  latencies: number[];
  rows: number;
  bytes: number;
}

interface Results {
  phases: { label: string; phase: Phase }[];
  queries: QueryTiming[];
  database: { total: number; tables: { name: string; bytes: number }[] };
  /** Resident set after the rounds, and its peak over them, of each server process (supervisor first). */
  rss: number[];
  peakRss: number[];
  workers: number;
  hosts: number;
  /** First reports of new hosts: one server (unpinned) against two servers pinned to a core each. */
  comparison: { one: Phase; two: Phase } | null;
  load: { before: number[]; after: number[] };
}

async function main(): Promise<void> {
  const hostCount = positive(args.hosts, 'hosts');
  const concurrency = positive(args.concurrency, 'concurrency');
  const queryRuns = positive(args['query-runs'], 'query-runs');
  const model = createFleetModel({ setPackages: positive(args['set-packages'], 'set-packages'), osPackages: positive(args['os-packages'], 'os-packages') });
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-fleet-'));
  await chmod(workDir, 0o755);
  const loadBefore = os.loadavg();
  const workers = positive(args.workers, 'workers');
  if (workers > 1 && Number(args.compare) > 0) throw new Error('--compare pins one server process to each core: give it --workers 1');
  const database = await openBenchDatabase(workDir);
  let server: FleetServer | null = null;
  const bodyFiles: BodyFile[] = [];
  try {
    await migrate(database.sql);
    log('set packages into the database');
    const nevras = [...new Set(model.sets.flatMap((set) => set.members.map(formatNevra)))];
    const byNevra = new Map(model.sets.flatMap((set) => set.members.map((m) => [formatNevra(m), m] as const)));
    for (const nevra of nevras) {
      const m = byNevra.get(nevra)!;
      await insertSyntheticPackage(database.sql, { name: m.name, epoch: m.epoch, version: m.version, release: m.release, arch: m.arch });
    }

    // --compare N: N more new hosts for one server, and N for two servers on one core each.
    const compareCount = Number(args.compare) > 0 ? positive(args.compare, 'compare') : 0;
    const tokenCount = hostCount + 2 * compareCount;
    log(`agent tokens for ${tokenCount.toLocaleString('en')} hosts`);
    const tokens: string[] = [];
    const rows = [];
    for (let i = 0; i < tokenCount; i++) {
      const token = `rg_${randomBytes(32).toString('base64url')}`;
      tokens.push(token);
      rows.push({ name: `bench-agent-${i}`, role: 'agent', token_sha256: digestToken(token), created_by: 'bench', machine_id: model.host(i).report.machineId });
      if (rows.length === 5000 || i === tokenCount - 1) await database.sql`insert into tokens ${database.sql(rows.splice(0))}`;
    }

    // Generated before the server starts: no idle keep-alive connection can time out meanwhile.
    log('generating report bodies');
    const reportOf = (i: number) => Buffer.from(JSON.stringify(model.host(i).report));
    const firstBodies = await BodyFile.write(path.join(workDir, 'first.bodies'), tokenCount, reportOf, (n) => log(`  ${n.toLocaleString('en')} bodies`));
    // Every tenth host changed one package.
    const updatedBodies = await BodyFile.write(path.join(workDir, 'updated.bodies'), Math.ceil(hostCount / 10), (j) => Buffer.from(JSON.stringify(model.updatedHost(j * 10).report)));
    bodyFiles.push(firstBodies, updatedBodies);
    log(`  ${((firstBodies.bytes + updatedBodies.bytes) / 1024 ** 3).toFixed(1)} GB of bodies on disk`);
    const packagesPerHost = model.host(0).report.packages.length;
    const fleet = (bodyOf: (i: number) => Promise<Buffer>): Workload => ({ from: 0, to: hostCount, tokens, bodyOf });

    const adminToken = randomBytes(24).toString('hex');
    server = await startFleetServer(workers, { ...database.serverEnv, RPMGATE_DATA_DIR: path.join(workDir, 'server'), RPMGATE_ADMIN_TOKEN: adminToken });
    const url = server.url;
    for (const set of model.sets) {
      await request(url, adminToken, 'POST', '/api/v1/sets', JSON.stringify({ name: set.name, version: set.version, packages: set.members.map(formatNevra), allowUnresolved: true }));
    }


    log(`first reports: ${hostCount.toLocaleString('en')} new hosts, ${concurrency} clients`);
    const cpu = cpuMeter(server.pids, process.env.DATABASE_URL ? null : path.join(workDir, 'pg', 'postmaster.pid'));
    const first = await reportAll([url], fleet((i) => firstBodies.read(i)), concurrency, cpu);
    log(`  ${(first.reports / first.seconds).toFixed(0)} reports/s`);

    log('second round: 10% of the hosts changed one package');
    const steadyBody = (i: number) => (i % 10 === 0 ? updatedBodies.read(i / 10) : firstBodies.read(i));
    const steady = await reportAll([url], fleet(steadyBody), concurrency, cpu);
    log(`  ${(steady.reports / steady.seconds).toFixed(0)} reports/s`);

    // rpmgate-agent sends the time and id of a report as headers: an unchanged host's body is
    // byte-identical to its last one, which the server recognises from a digest without parsing.
    log('third round: nothing changed');
    const unchanged = await reportAll([url], fleet(steadyBody), concurrency, cpu);
    log(`  ${(unchanged.reports / unchanged.seconds).toFixed(0)} reports/s`);
    const rss = server.rss();
    const peakRss = server.peakRss();

    // Reads are measured on a settled database, as a server sees it between report waves: autovacuum
    // would otherwise be busy with the 20,000 writes just made (and GIN's pending list unmerged).
    log('vacuum analyze');
    await database.sql`vacuum (analyze) hosts, host_inventories, host_changes, package_tuples`;
    log('queries');
    const queries: QueryTiming[] = [];
    const timeQuery = async (label: string, queryPath: string, count: (body: any) => number) => {
      const timing: QueryTiming = { label, path: queryPath, latencies: [], rows: 0, bytes: 0 };
      freshConnections();
      await request(url, adminToken, 'GET', queryPath, undefined); // warm
      for (let run = 0; run < queryRuns; run++) {
        const started = performance.now();
        const text = await request(url, adminToken, 'GET', queryPath, undefined);
        timing.latencies.push(performance.now() - started);
        timing.bytes = text.length;
        timing.rows = count(JSON.parse(text));
      }
      queries.push(timing);
    };
    await timeQuery('drifting hosts, whole fleet', '/api/v1/hosts?drifting=true', (b) => b.hosts.length);
    await timeQuery('drifting hosts of one set', '/api/v1/hosts?set=billing/1.0&drifting=true', (b) => b.hosts.length);
    const drifting = (JSON.parse(await request(url, adminToken, 'GET', '/api/v1/hosts?drifting=true&limit=1', undefined)) as { total: number }).total;
    const lastPage = Math.max(0, Math.floor((drifting - 1) / 100) * 100);
    await timeQuery('drifting hosts, first page of 100', '/api/v1/hosts?drifting=true&limit=100', (b) => b.hosts.length);
    await timeQuery('drifting hosts, middle page of 100', `/api/v1/hosts?drifting=true&limit=100&offset=${Math.floor(lastPage / 200) * 100}`, (b) => b.hosts.length);
    await timeQuery('drifting hosts, last page of 100', `/api/v1/hosts?drifting=true&limit=100&offset=${lastPage}`, (b) => b.hosts.length);
    await timeQuery('set conformance view (billing/2.0)', '/api/v1/sets/billing/2.0/conformance', (b) => b.hosts.length);
    await timeQuery('component usage (rg-comp-15)', '/api/v1/components/rg-comp-15/usage?limit=10', (b) => b.versions.length);

    const [size] = await database.sql<{ total: number }[]>`select pg_database_size(current_database()) as total`;

    let comparison: Results['comparison'] = null;
    if (compareCount > 0) {
      const batch = (from: number): Workload => ({ from, to: from + compareCount, tokens, bodyOf: (i) => firstBodies.read(i) });
      log(`one server, unpinned: first reports of ${compareCount.toLocaleString('en')} new hosts`);
      const one = await reportAll([url], batch(hostCount), concurrency, cpu);
      log(`  ${(one.reports / one.seconds).toFixed(0)} reports/s`);
      // The second server shares the first one's key (a file) and database, with a data dir of its own.
      const keysDir = path.join(workDir, 'server', 'keys');
      const keyFile = readdirSync(keysDir).find((name) => name.endsWith('.key.asc'));
      if (!keyFile) throw new Error(`no key file in ${keysDir}`);
      const second = await startServerProcess({
        ...database.serverEnv,
        PORT: '0',
        HOST: '127.0.0.1',
        RPMGATE_DATA_DIR: path.join(workDir, 'server2'),
        RPMGATE_ADMIN_TOKEN: adminToken,
        RPMGATE_SIGNING_KEY_FILE: path.join(keysDir, keyFile),
      });
      try {
        pinToCore(server.pids()[0]!, 0);
        pinToCore(second.pid, 1);
        log(`two servers, one core each: first reports of ${compareCount.toLocaleString('en')} new hosts`);
        const two = await reportAll([url, second.url], batch(hostCount + compareCount), concurrency, cpu);
        log(`  ${(two.reports / two.seconds).toFixed(0)} reports/s`);
        comparison = { one, two };
      } finally {
        await second.stop();
      }
    }
    const tables = await database.sql<{ name: string; bytes: number }[]>`
      select c.relname as name, pg_total_relation_size(c.oid) as bytes
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and c.relname in ('hosts', 'host_inventories', 'host_changes', 'package_tuples')
      order by bytes desc`;
    const results: Results = {
      phases: [
        { label: `first report of each of ${hostCount.toLocaleString('en')} hosts (~${packagesPerHost.toLocaleString('en')} packages, ${concurrency} clients)`, phase: first },
        { label: 'second round: 10% of hosts changed one package, the rest byte-identical', phase: steady },
        { label: 'third round: nothing changed (bodies byte-identical, as rpmgate-agent sends them)', phase: unchanged },
      ],
      queries,
      database: { total: size!.total, tables },
      rss,
      peakRss,
      workers,
      hosts: hostCount,
      comparison,
      load: { before: loadBefore, after: os.loadavg() },
    };
    process.stdout.write(render(results));
  } finally {
    agent.destroy();
    for (const file of bodyFiles) await file.close();
    await server?.stop();
    await database.close();
    if (args.keep) log(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

interface FleetServer {
  url: string;
  /** The server's processes: the one process, or the supervisor and its workers. */
  pids(): number[];
  rss(): number[];
  peakRss(): number[];
  stop(): Promise<void>;
}

/** `rpmgate serve` with its workers, or (one worker) the server in a process of its own. */
async function startFleetServer(workers: number, env: Record<string, string>): Promise<FleetServer> {
  if (workers > 1) return startServeWorkers({ dataDir: env.RPMGATE_DATA_DIR!, workers, env });
  const one = await startServerProcess({ ...env, PORT: '0', HOST: '127.0.0.1' });
  return { url: one.url, pids: () => [one.pid], rss: () => [one.rss()], peakRss: () => [one.peakRss()], stop: () => one.stop() };
}

interface Workload {
  /** Hosts from..to-1: tokens[i] reports bodyOf(i). */
  from: number;
  to: number;
  tokens: string[];
  bodyOf(i: number): Promise<Buffer>;
}

/** Every host of `work` reports once, `concurrency` at a time, spread over `urls` in turn. */
async function reportAll(urls: string[], work: Workload, concurrency: number, cpu: CpuMeter): Promise<Phase> {
  const latencies: number[] = [];
  let next = work.from;
  freshConnections();
  const cpuBefore = cpu();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < work.to) {
        const i = next++;
        const body = await work.bodyOf(i);
        const sent = performance.now();
        await request(urls[i % urls.length]!, work.tokens[i]!, 'POST', '/api/v1/hosts/report', body);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpu();
  return {
    reports: work.to - work.from,
    seconds,
    latencies,
    serverCpu: cpuAfter.server === null || cpuBefore.server === null ? null : cpuAfter.server - cpuBefore.server,
    databaseCpu: cpuAfter.database === null || cpuBefore.database === null ? null : cpuAfter.database - cpuBefore.database,
  };
}

/** Pins every thread of `pid` to one CPU (taskset, util-linux). */
function pinToCore(pid: number, core: number): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset ${pid}: ${result.stderr || result.error}`);
}

type CpuMeter = () => { server: number | null; database: number | null };

/**
 * CPU seconds (user + system) used so far by the server's processes and by PostgreSQL (the postmaster of
 * the embedded cluster and its backends, found through /proc): the cost per report whatever else the
 * machine is doing. Null where /proc or the cluster is not ours to read (DATABASE_URL).
 */
function cpuMeter(serverPids: () => number[], postmasterPidFile: string | null): CpuMeter {
  const ticks = 100; // USER_HZ on Linux
  const stat = (pid: number): { ppid: number; cpu: number } | null => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / ticks };
    } catch {
      return null;
    }
  };
  return () => {
    const server = serverPids().reduce<number | null>((sum, pid) => {
      const cpu = stat(pid)?.cpu;
      return sum === null || cpu === undefined ? null : sum + cpu;
    }, 0);
    if (!postmasterPidFile) return { server, database: null };
    let postmaster: number;
    try {
      postmaster = Number(readFileSync(postmasterPidFile, 'utf8').split('\n')[0]);
    } catch {
      return { server, database: null };
    }
    let database = stat(postmaster)?.cpu ?? 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const process = stat(Number(entry));
      if (process?.ppid === postmaster) database += process.cpu;
    }
    return { server, database };
  };
}

// node:http with a keep-alive agent, not fetch: undici spends more per 100 KB request than the server
// does on an unchanged report, and would measure the client. A fresh agent per phase: a connection
// left idle longer than the server's keep-alive timeout would be reset under the next request.
let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function freshConnections(): void {
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
}

function request(url: string, token: string, method: string, requestPath: string, body: string | Buffer | undefined): Promise<string> {
  const target = new URL(requestPath, url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(payload ? { 'content-length': payload.length } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${requestPath}: ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(text);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function render(r: Results): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const mb = (x: number) => `${(x / 1024 / 1024).toFixed(0)} MB`;
  const verdict = (ok: boolean) => (ok ? 'pass' : 'FAIL');
  const rate = (p: Phase) => p.reports / p.seconds;
  const cost = (p: Phase) =>
    p.serverCpu === null
      ? ''
      : `; CPU per report: server ${ms((p.serverCpu * 1000) / p.reports)}${p.databaseCpu === null ? '' : `, PostgreSQL ${ms((p.databaseCpu * 1000) / p.reports)}`}`;
  const rows: string[][] = r.phases.map(({ label, phase }) => [
    label,
    `${rate(phase).toFixed(0)} reports/s (p50 ${ms(percentile(phase.latencies, 50))}, p95 ${ms(percentile(phase.latencies, 95))}${cost(phase)})`,
    '≥ 200 reports/s',
    verdict(rate(phase) >= 200),
  ]);
  for (const q of r.queries) {
    const p95 = percentile(q.latencies, 95);
    // The whole fleet unpaginated (up to 10,000 rows) has no target: the target is per page, or per set.
    const isDrift = q.path.startsWith('/api/v1/hosts') && (q.path.includes('limit=') || q.path.includes('set='));
    rows.push([
      `${q.label}: GET ${q.path} (${q.rows.toLocaleString('en')} rows, ${(q.bytes / 1024).toFixed(0)} KB)`,
      `p50 ${ms(percentile(q.latencies, 50))}, p95 ${ms(p95)}`,
      isDrift ? '< 200 ms' : '',
      isDrift ? verdict(p95 < 200) : '',
    ]);
  }
  // 2 GB was the target for 10,000 hosts; issue 12 sets 3 GB for 100,000.
  const databaseTarget = r.hosts > 10_000 ? 3 : 2;
  rows.push([`database size (pg_database_size)`, mb(r.database.total), `≤ ${databaseTarget} GB`, verdict(r.database.total <= databaseTarget * 1024 **3)]);
  const largestPeak = Math.max(...r.peakRss);
  rows.push(
    r.peakRss.length === 1
      ? ['server peak RSS (VmHWM) over the three rounds', mb(largestPeak), '≤ 300 MB', verdict(largestPeak <= 300 * 1024 ** 2)]
      : [
          `server peak RSS (VmHWM) over the three rounds, per process (supervisor, ${r.workers} workers)`,
          `largest ${mb(largestPeak)} (${r.peakRss.map(mb).join(', ')}); all together ${mb(r.peakRss.reduce((a, b) => a + b, 0))}`,
          '≤ 300 MB per process',
          verdict(largestPeak <= 300 * 1024 ** 2),
        ],
  );
  if (r.comparison) {
    const { one, two } = r.comparison;
    rows.push([`first reports of ${one.reports.toLocaleString('en')} more new hosts: one server, unpinned`, `${rate(one).toFixed(0)} reports/s (p95 ${ms(percentile(one.latencies, 95))})`, '', '']);
    rows.push([
      `first reports of ${two.reports.toLocaleString('en')} more new hosts: two servers on one database, pinned to one core each (taskset), clients alternating`,
      `${rate(two).toFixed(0)} reports/s (p95 ${ms(percentile(two.latencies, 95))}): ${(rate(two) / rate(one)).toFixed(2)}× one server`,
      '',
      '',
    ]);
  }
  const table = ['| measure | rpmgate | target | result |', '|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)];
  const notes = [
    `- tables with their indexes and TOAST: ${r.database.tables.map((t) => `${t.name} ${mb(t.bytes)}`).join(', ')}`,
    `- server: ${r.workers === 1 ? 'one process (--workers 1)' : `rpmgate serve with ${r.workers} workers`}; RSS after the run: ${r.rss.map(mb).join(', ')}; database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : process.env.BENCH_DURABLE === '1' ? 'embedded PostgreSQL, durable (fsync and synchronous commit on, BENCH_DURABLE=1)' : 'embedded PostgreSQL, fsync=off, synchronous_commit=off (throwaway data; BENCH_DURABLE=1 for durable)'}; queries timed after vacuum (analyze)`,
    `- machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}; load average before ${r.load.before.map((x) => x.toFixed(2)).join(' ')}, after ${r.load.after.map((x) => x.toFixed(2)).join(' ')}`,
  ];
  return `\n${table.join('\n')}\n\n${notes.join('\n')}\n`;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${value}`);
  return n;
}

if (args.help) {
  process.stdout.write(
    'usage: npm run bench:fleet -- [--hosts N] [--set-packages N] [--os-packages N] [--concurrency C] [--query-runs R] [--compare N] [--keep]\n' +
      '--compare N: then N more new hosts report to the server, and N to two servers pinned to one core each (needs 2 cores).\n' +
      'Environment: BENCH_HOSTS (default 10000), BENCH_SET_PACKAGES (300), BENCH_OS_PACKAGES (1200), BENCH_CONCURRENCY (16),\n' +
      'DATABASE_URL (otherwise an embedded PostgreSQL in a temporary directory).\n',
  );
} else {
  await main();
}
