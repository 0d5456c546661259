// `npm run bench:cleanup [-- --packages N --sets N]`: the cleanup on a large store (100,000 packages in
// 2,000 sets of 50 by default; half the sets redundant, whose packages are then orphans): dry-run time,
// run time, the server's peak RSS, bytes given back, and hosts downloading throughout the runs without
// a failed request. Targets (issue 14): dry run ≤ 5 s, peak RSS ≤ 200 MB, no failed request. A
// benchmark, not a test: it prints a markdown table and fails only when something breaks.
//
// The store: bench/support/load.ts's corpus (COPY) with one sparse file per package in the blob store
// (its recorded size, no bytes on disk: "given back" counts the sizes the rows record, as a real store
// would free). Products prod0000.. have versions 1 and 2 at integ: version 1 is redundant. Mail is off
// (nobody to tell: warnings are notified when recorded). The server runs in a child process
// (bench/support/cleanup-server.ts) whose cleanup clock the benchmark moves: warn, +15 days delete the
// sets, +1 hour warn their orphaned packages, +15 days delete those.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Sql } from 'postgres';
import { migrate } from '../server/db/migrate.ts';
import { bumpRepoGeneration } from '../server/db/repo-generations.ts';
import { refreshPackageLevels } from '../server/db/sets.ts';
import type { CleanupReport } from '../server/retention/job.ts';
import type { CleanupPreview } from '../server/retention/preview.ts';
import { Keyring, readSigningAlgorithm } from '../server/signing/keyring.ts';
import { loadCorpus } from './support/load.ts';
import { openBenchDatabase } from './support/postgres.ts';
import { startServerProcess, type ServerProcess } from './support/server-runner.ts';

const { values: args } = parseArgs({
  options: {
    packages: { type: 'string', default: process.env.BENCH_PACKAGES ?? '100000' },
    sets: { type: 'string', default: '2000' },
    downloaders: { type: 'string', default: '4' },
  },
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const day = 86_400_000;
const targets = { dryRunMs: 5000, peakRss: 200 * 1024 * 1024 };

interface Row {
  measure: string;
  value: string;
  target: string;
  result: string;
}

/** Where the server's memory is, from its own /metrics: V8's heap (used of total) and memory outside it. */
async function heapOf(url: string): Promise<string> {
  const text = await fetch(`${url}/metrics`).then((response) => (response.ok ? response.text() : ''), () => '');
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return `V8 heap ${mb(value('nodejs_heap_size_used_bytes'))} used of ${mb(value('nodejs_heap_size_total_bytes'))}, external ${mb(value('nodejs_external_memory_bytes'))}`;
}

async function main(): Promise<void> {
  const packageCount = Number(args.packages);
  const setCount = Number(args.sets);
  if (!(packageCount > 0) || !(setCount > 1) || setCount % 2 !== 0 || packageCount % setCount !== 0) {
    throw new Error('--sets must be even and divide --packages');
  }
  const setSize = packageCount / setCount;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-cleanup-'));
  await chmod(workDir, 0o755);
  const loadBefore = os.loadavg();
  const database = await openBenchDatabase(workDir);
  let server: ServerProcess | null = null;
  try {
    const { sql } = database;
    await migrate(sql);
    const serverDataDir = path.join(workDir, 'server');
    const keyring = await Keyring.open({ dataDir: serverDataDir, algorithm: readSigningAlgorithm() });
    log(`loading ${packageCount.toLocaleString('en')} packages`);
    const corpus = await loadCorpus(sql, packageCount, { signedBy: keyring.current().info.fingerprint });
    // One file per package: the upload is the served file (as for a package signed before upload).
    await sql`update packages set original_sha256 = sha256`;
    log('sparse blobs');
    await writeSparseBlobs(sql, path.join(serverDataDir, 'blobs'));
    log(`${setCount.toLocaleString('en')} sets of ${setSize}`);
    await writeSets(sql, corpus.ids, setCount, setSize);
    await sql`vacuum (analyze)`;

    const clockFile = path.join(workDir, 'clock');
    let now = new Date();
    const setClock = async (at: Date) => {
      now = at;
      await writeFile(clockFile, at.toISOString());
    };
    await setClock(now);
    const adminToken = randomBytes(24).toString('hex');
    server = await startServerProcess(
      { ...database.serverEnv, PORT: '0', HOST: '127.0.0.1', RPMGATE_DATA_DIR: serverDataDir, RPMGATE_ADMIN_TOKEN: adminToken, BENCH_CLOCK_FILE: clockFile },
      fileURLToPath(new URL('./support/cleanup-server.ts', import.meta.url)),
    );
    const url = server.url;
    const call = async <T>(method: string, route: string): Promise<{ body: T; ms: number }> => {
      const started = performance.now();
      const response = await fetch(url + route, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
      if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${await response.text()}`);
      const body = (await response.json()) as T;
      return { body, ms: performance.now() - started };
    };

    // Hosts download from kept sets (version 2) throughout, as dnf does: repomd.xml, primary, a package.
    const downloads = startDownloaders(url, setCount / 2, Number(args.downloaders));
    const rows: Row[] = [];
    let peak = 0;
    const measure = async <T>(label: string, work: () => Promise<{ body: T; ms: number }>): Promise<{ body: T; ms: number }> => {
      server!.resetPeak();
      const result = await work();
      const rss = server!.peakRss();
      peak = Math.max(peak, rss);
      log(`${label}: ${(result.ms / 1000).toFixed(2)} s, peak RSS ${mb(rss)}; after it ${await heapOf(url)}`);
      return result;
    };

    // What the server holds before any cleanup (its caches warmed by the downloaders).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idleRss = server.rss();
    const dry1 = await measure('dry run (sets to warn)', () => call<CleanupPreview>('GET', '/api/v1/cleanup'));
    rows.push({ measure: `dry run: ${dry1.body.counts.warn.toLocaleString('en')} sets to warn`, value: secs(dry1.ms), target: '≤ 5 s', result: verdict(dry1.ms <= targets.dryRunMs) });
    const run1 = await measure('run: warn sets', () => call<CleanupReport>('POST', '/api/v1/cleanup/run'));
    rows.push({ measure: `run: ${run1.body.warned.toLocaleString('en')} sets warned`, value: secs(run1.ms), target: '', result: '' });

    await setClock(new Date(now.getTime() + 15 * day));
    const run2 = await measure('run: delete sets', () => call<CleanupReport>('POST', '/api/v1/cleanup/run'));
    rows.push({ measure: `run: ${run2.body.counts.deleted.toLocaleString('en')} sets deleted`, value: secs(run2.ms), target: '', result: '' });

    await setClock(new Date(now.getTime() + 3_600_000));
    const dry2 = await measure('dry run (orphans to warn)', () => call<CleanupPreview>('GET', '/api/v1/cleanup'));
    rows.push({ measure: `dry run: ${dry2.body.counts.warn.toLocaleString('en')} orphan packages to warn (${mb(dry2.body.bytes.warn)})`, value: secs(dry2.ms), target: '≤ 5 s', result: verdict(dry2.ms <= targets.dryRunMs) });
    const run3 = await measure('run: warn orphans', () => call<CleanupReport>('POST', '/api/v1/cleanup/run'));
    rows.push({ measure: `run: ${run3.body.warned.toLocaleString('en')} packages warned`, value: secs(run3.ms), target: '', result: '' });

    await setClock(new Date(now.getTime() + 15 * day));
    const dry3 = await measure('dry run (orphans due)', () => call<CleanupPreview>('GET', '/api/v1/cleanup'));
    rows.push({ measure: `dry run: ${dry3.body.counts.delete.toLocaleString('en')} packages due`, value: secs(dry3.ms), target: '≤ 5 s', result: verdict(dry3.ms <= targets.dryRunMs) });
    const run4 = await measure('run: delete orphans', () => call<CleanupReport>('POST', '/api/v1/cleanup/run'));
    rows.push({ measure: `run: ${run4.body.counts.deleted.toLocaleString('en')} packages deleted, files removed`, value: secs(run4.ms), target: '', result: '' });
    const freed = run2.body.bytesFreed + run4.body.bytesFreed;
    rows.push({ measure: 'bytes given back', value: mb(freed), target: '', result: '' });
    rows.push({ measure: 'RSS of the server before the first run (hosts downloading, repodata cache warm)', value: mb(idleRss), target: '', result: '' });
    rows.push({ measure: 'peak RSS of the server (any phase)', value: mb(peak), target: '≤ 200 MB', result: verdict(peak <= targets.peakRss) });

    const traffic = await downloads.stop();
    rows.push({
      measure: `hosts downloading during the runs (${args.downloaders} clients: repomd.xml, primary.xml.gz, a package)`,
      value: `${traffic.ok.toLocaleString('en')} requests, ${traffic.failed} failed`,
      target: 'no failed request',
      result: verdict(traffic.failed === 0),
    });
    if (traffic.failures.length > 0) log(`failures: ${traffic.failures.slice(0, 5).join('; ')}`);
    process.stdout.write(render(rows, { packages: packageCount, sets: setCount, load: [loadBefore, os.loadavg()] }));
  } finally {
    await server?.stop();
    await database.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function writeSparseBlobs(sql: Sql, blobsDir: string): Promise<void> {
  const shards = new Set<string>();
  for await (const rows of sql<{ sha256: string; size: number }[]>`select sha256, size::float8 as size from packages`.cursor(2000)) {
    for (const row of rows) {
      const shard = row.sha256.slice(0, 2);
      if (!shards.has(shard)) {
        await mkdir(path.join(blobsDir, shard), { recursive: true });
        shards.add(shard);
      }
      const handle = await open(path.join(blobsDir, shard, row.sha256), 'w');
      await handle.truncate(row.size);
      await handle.close();
    }
  }
}

/** Products prod0000.. with versions 1 and 2 at integ, each set holding its own packages. */
async function writeSets(sql: Sql, ids: number[], setCount: number, setSize: number): Promise<void> {
  for (let p = 0; p < setCount / 2; p++) {
    await sql.begin(async (tx) => {
      for (const v of [1, 2]) {
        const [set] = await tx<{ id: number }[]>`
          insert into package_sets (name, version, description, created_by, level)
          values (${product(p)}, ${String(v)}, 'benchmark product', 'bench', 'integ') returning id`;
        const start = (p * 2 + v - 1) * setSize;
        await tx`insert into package_set_members (set_id, package_id) select ${set!.id}, unnest(${ids.slice(start, start + setSize)}::bigint[])`;
        await tx`update package_sets set sealed = true where id = ${set!.id}`;
      }
    });
  }
  await refreshPackageLevels(sql, ids);
  await bumpRepoGeneration(sql, 'levels');
}

function product(p: number): string {
  return `prod${String(p).padStart(4, '0')}`;
}

function startDownloaders(url: string, products: number, clients: number) {
  let stopped = false;
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  const get = async (target: string): Promise<Response | null> => {
    try {
      const response = await fetch(target);
      if (response.ok) {
        ok++;
        return response;
      }
      failed++;
      failures.push(`${response.status} ${target}`);
      await response.arrayBuffer();
    } catch (error) {
      failed++;
      failures.push(`${String(error)} ${target}`);
    }
    return null;
  };
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = c; !stopped; i += clients) {
      const base = `${url}/repo/set/${product(i % products)}/2/`;
      const repomd = await get(`${base}repodata/repomd.xml`);
      if (!repomd) continue;
      const href = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(await repomd.text())?.[1];
      if (!href) continue;
      const primary = await get(base + href);
      if (!primary) continue;
      const { gunzipSync } = await import('node:zlib');
      const text = gunzipSync(Buffer.from(await primary.arrayBuffer())).toString('utf8');
      const location = /<location href="([^"]+)"/.exec(text)?.[1];
      if (!location) continue;
      const pkg = await get(base + location);
      if (pkg) await pkg.arrayBuffer();
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return { ok, failed, failures };
    },
  };
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

function verdict(pass: boolean): string {
  return pass ? 'pass' : '**miss**';
}

function render(rows: Row[], info: { packages: number; sets: number; load: [number[], number[]] }): string {
  const lines = [
    '',
    `bench:cleanup — ${info.packages.toLocaleString('en')} packages in ${info.sets.toLocaleString('en')} sets (half redundant); load average ${info.load[0][0]!.toFixed(1)} → ${info.load[1][0]!.toFixed(1)}`,
    '',
    '| measure | value | target | result |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.measure} | ${row.value} | ${row.target} | ${row.result} |`),
    '',
  ];
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:cleanup failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
