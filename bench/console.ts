// `npm run bench:console [-- --packages N --hosts N --runs N]`: every web console page on a large store
// (100,000 packages, 2,000 sets, 10,000 hosts by default): p50/p95 of the server's own time (the page's
// Server-Timing), p95 as the client saw it, and the page's weight, against the targets of ≤ 150 ms p95
// server-side and ≤ 200 KB. A benchmark, not a test: it prints a markdown table and fails only when
// something breaks.
//
// The store: bench/support/load.ts's corpus (COPY), 200 products of 10 versions each (50 members, each
// version sharing 45 with the one before, levels spread from release to integ, promotion history)
// written as createSet writes them, and the fleet of test/support/fleet-model.ts (two versions of a
// 300-package set, hosts drifted in known ways) reported over HTTP by agents, as in bench:fleet. The
// entry checks' and the cleanup's records are written as their services write them: a finding or two
// kept with every package, 20,000 refused uploads, 400 exceptions (100 of them removed), and 5,000
// pending cleanup warnings. The server runs in a child process on an embedded PostgreSQL (or
// DATABASE_URL).
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Sql } from 'postgres';
import { formatNevra } from '../common/rpm/nevra.ts';
import { migrate } from '../server/db/migrate.ts';
import { refreshPackageLevels } from '../server/db/sets.ts';
import { bumpRepoGeneration } from '../server/db/repo-generations.ts';
import { digestToken } from '../server/services/tokens.ts';
import { Keyring, readSigningAlgorithm } from '../server/signing/keyring.ts';
import { consoleLogin, type ConsoleLogin } from '../test/support/console.ts';
import { createFleetModel, fleetMachineId } from '../test/support/fleet-model.ts';
import { insertSyntheticPackage } from '../test/support/synthetic-package.ts';
import { benchPackageName } from './support/corpus.ts';
import { loadCorpus } from './support/load.ts';
import { openBenchDatabase } from './support/postgres.ts';
import { startServerProcess, type ServerProcess } from './support/server-runner.ts';

const { values: args } = parseArgs({
  options: {
    packages: { type: 'string', default: process.env.BENCH_PACKAGES ?? '100000' },
    products: { type: 'string', default: '200' },
    versions: { type: 'string', default: '10' },
    hosts: { type: 'string', default: process.env.BENCH_HOSTS ?? '10000' },
    runs: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '8' },
  },
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const setSize = 50;
const targetMs = 150;
const targetBytes = 200 * 1024;

interface Timing {
  label: string;
  path: string;
  server: number[];
  client: number[];
  bytes: number;
  status: number;
}

async function main(): Promise<void> {
  const packageCount = positive(args.packages, 'packages');
  const products = positive(args.products, 'products');
  const versions = positive(args.versions, 'versions');
  const hostCount = positive(args.hosts, 'hosts');
  const runs = positive(args.runs, 'runs');
  const concurrency = positive(args.concurrency, 'concurrency');
  if (products * 500 > packageCount || versions * 5 + setSize > 500) throw new Error('each product takes a range of 500 packages: too few packages for that many products, or too many versions');
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-console-'));
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
    const corpus = await loadCorpus(sql, packageCount, {
      signedBy: keyring.current().info.fingerprint,
      onProgress: (done) => {
        if (done % 20_000 === 0) log(`  ${done.toLocaleString('en')} packages`);
      },
    });
    log(`${(products * versions).toLocaleString('en')} sets`);
    await writeSets(sql, corpus.ids, products, versions);

    const model = createFleetModel();
    log('the fleet sets');
    const fleetNevras = [...new Set(model.sets.flatMap((set) => set.members.map(formatNevra)))];
    const byNevra = new Map(model.sets.flatMap((set) => set.members.map((m) => [formatNevra(m), m] as const)));
    for (const nevra of fleetNevras) {
      const m = byNevra.get(nevra)!;
      await insertSyntheticPackage(sql, { name: m.name, epoch: m.epoch, version: m.version, release: m.release, arch: m.arch });
    }
    const tokens: string[] = [];
    const rows = [];
    for (let i = 0; i < hostCount; i++) {
      const token = `rg_${randomBytes(32).toString('base64url')}`;
      tokens.push(token);
      rows.push({ name: `bench-agent-${i}`, role: 'agent', token_sha256: digestToken(token), created_by: 'bench', machine_id: fleetMachineId(i) });
      if (rows.length === 5000 || i === hostCount - 1) await sql`insert into tokens ${sql(rows.splice(0))}`;
    }

    const adminToken = randomBytes(24).toString('hex');
    server = await startServerProcess({ ...database.serverEnv, PORT: '0', HOST: '127.0.0.1', RPMGATE_DATA_DIR: serverDataDir, RPMGATE_ADMIN_TOKEN: adminToken });
    const url = server.url;
    for (const set of model.sets) {
      await api(url, adminToken, 'POST', '/api/v1/sets', { name: set.name, version: set.version, packages: set.members.map(formatNevra), allowUnresolved: true });
    }
    await api(url, adminToken, 'POST', '/api/v1/sets/billing/2.0/promote', { level: 'qa_ready', comment: 'bench' });
    log(`${hostCount.toLocaleString('en')} hosts report (${concurrency} agents at a time)`);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < hostCount; i = next++) {
          await api(url, tokens[i]!, 'POST', '/api/v1/hosts/report', model.host(i).report);
          if (i % 2000 === 1999) log(`  ${(i + 1).toLocaleString('en')} hosts`);
        }
      }),
    );
    // A tenth of the fleet reports once more with one package updated: hosts get a history.
    for (let i = 0; i < hostCount; i += 10) await api(url, tokens[i]!, 'POST', '/api/v1/hosts/report', model.updatedHost(i).report);
    log('entry-check findings, refusals, exceptions, cleanup warnings');
    await writeChecksAndWarnings(sql, corpus.ids);
    log('vacuum analyze');
    await sql`vacuum (analyze)`;

    const login = await consoleLogin(url, adminToken);
    const product = (p: number) => `prod${String(p).padStart(3, '0')}`;
    const sharedComponent = benchPackageName(7 * 500 + 45);
    const pages: [string, string][] = [
      ['overview', '/ui'],
      ['sets, first page', '/ui/sets'],
      ['sets, name prefix and level', `/ui/sets?name=${product(4)}&level=release`],
      ['sets, page 30', '/ui/sets?page=30'],
      [`set page (${product(7)}/10: 50 members, diff, promotion)`, `/ui/sets/${product(7)}/10`],
      ['set page billing/2.0 (300 members, 10,000-host fleet half on it)', '/ui/sets/billing/2.0'],
      ['set page billing/2.0, members page 3, drifting hosts page 20', '/ui/sets/billing/2.0?members=3&drifting=true&hosts=20'],
      ['components, first page', '/ui/components'],
      ['components, name prefix', `/ui/components?name=${benchPackageName(12_345).slice(0, 8)}`],
      ['components, page 1,000', '/ui/components?page=1000'],
      ['component on every host (rg-comp-15)', '/ui/components/rg-comp-15'],
      [`component in 10 sets (${sharedComponent})`, `/ui/components/${sharedComponent}`],
      ['hosts, first page', '/ui/hosts'],
      ['hosts, drifting', '/ui/hosts?drifting=true'],
      ['hosts of billing/1.0, drifting', '/ui/hosts?set=billing/1.0&drifting=true'],
      ['hosts, report older than 1 day', '/ui/hosts?older=1'],
      ['hosts, name prefix', '/ui/hosts?q=node012'],
      ['hosts, page 150', '/ui/hosts?page=150'],
      ['host page (drifting, ~1,500 packages, history)', `/ui/hosts/${fleetMachineId(10)}`],
      ['host page, inventory page 10', `/ui/hosts/${fleetMachineId(10)}?inventory=10`],
      ['exceptions (300 live)', '/ui/exceptions'],
      ['exceptions, page 6', '/ui/exceptions?page=6'],
      ['cleanup warnings (5,000 pending)', '/ui/cleanup'],
      ['cleanup warnings, page 100', '/ui/cleanup?page=100'],
      ['log-in form', '/ui/login'],
    ];
    const timings: Timing[] = [];
    for (const [label, pagePath] of pages) {
      log(`  ${label}`);
      const timing: Timing = { label, path: pagePath, server: [], client: [], bytes: 0, status: 0 };
      for (let run = -3; run < runs; run++) {
        const measured = await fetchPage(url, pagePath, login);
        if (run < 0) continue;
        timing.server.push(measured.serverMs);
        timing.client.push(measured.clientMs);
        timing.bytes = measured.bytes;
        timing.status = measured.status;
      }
      timings.push(timing);
    }
    process.stdout.write(render(timings, { packages: packageCount, sets: products * versions + model.sets.length, hosts: hostCount, runs, load: [loadBefore, os.loadavg()] }));
  } finally {
    await server?.stop();
    await database.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Products prod000.. each with `versions` sets of 50 corpus packages (version v holds packages
 * p*500 + 5v .. + 49 of the product's range): the newest at integ, the oldest released or obsolete,
 * with the promotion history that leads there.
 */
async function writeSets(sql: Sql, ids: number[], products: number, versions: number): Promise<void> {
  const ladder = ['integ', 'qa_ready', 'pre_release', 'release'] as const;
  for (let p = 0; p < products; p++) {
    await sql.begin(async (tx) => {
      for (let v = 1; v <= versions; v++) {
        const age = versions - v; // 0 for the newest
        const level = age === 0 ? 'integ' : age <= 2 ? 'qa_ready' : age <= 4 ? 'pre_release' : age === versions - 1 && p % 3 === 0 ? 'obsolete' : 'release';
        const [set] = await tx<{ id: number }[]>`
          insert into package_sets (name, version, description, created_by, level, created_at)
          values (${`prod${String(p).padStart(3, '0')}`}, ${String(v)}, 'benchmark product', 'bench', ${level},
                  now() - ${age * 7} * interval '1 day')
          returning id`;
        const start = p * 500 + v * 5;
        await tx`insert into package_set_members (set_id, package_id) select ${set!.id}, unnest(${ids.slice(start, start + setSize)}::bigint[])`;
        await tx`update package_sets set sealed = true where id = ${set!.id}`;
        const steps = level === 'obsolete' ? [...ladder.slice(1), 'obsolete'] : ladder.slice(1, ladder.indexOf(level) + 1);
        let from: string = 'integ';
        for (const [k, to] of steps.entries()) {
          await tx`
            insert into set_promotions (set_id, from_level, to_level, promoted_by, promoted_at, comment)
            values (${set!.id}, ${from}, ${to}, ${k % 2 ? 'qa-team' : 'release-manager'}, now() - ${age * 7 - k - 1} * interval '1 day', 'benchmark')`;
          from = to;
        }
      }
    });
  }
  await refreshPackageLevels(sql, ids);
  await bumpRepoGeneration(sql, 'levels');
}

/**
 * What the entry checks and the cleanup leave behind on a busy store: every package kept with the
 * finding that rpmlint was skipped (every tenth one also a missing URL), 20,000 refusals of two errors
 * each, 300 live exceptions (globs over package names) and 100 removed, and 5,000 pending warnings.
 */
async function writeChecksAndWarnings(sql: Sql, ids: number[]): Promise<void> {
  await sql`
    insert into package_findings (package_id, position, check_id, severity, path, message)
    select id, 0, 'rpmlint-skipped', 'warning', null, 'not checked by rpmlint: rpmlint is turned off on the server (RPMGATE_RPMLINT=off)'
    from unnest(${ids}::bigint[]) as id`;
  await sql`
    insert into package_findings (package_id, position, check_id, severity, path, message)
    select id, 1, 'required-url', 'warning', null, 'the URL tag is empty or missing'
    from unnest(${ids}::bigint[]) with ordinality as t(id, n) where n % 10 = 0`;
  await sql`
    insert into entry_refusals (nevra, uploaded_by, refused_at, findings)
    select 'refused-' || n || '-1.0-1.x86_64', 'dev-' || (n % 50), now() - n * interval '1 minute',
           jsonb_build_array(
             jsonb_build_object('check', 'setuid-file', 'severity', 'error', 'message', 'a setuid file (mode 4755)', 'path', '/usr/bin/tool' || n),
             jsonb_build_object('check', 'forbidden-path', 'severity', 'error', 'message', 'a file under /usr/local', 'path', '/usr/local/lib/x' || n))
    from generate_series(1, 20000) as n`;
  const names = Array.from({ length: 400 }, (_, i) => benchPackageName(i * 250).slice(0, 10));
  await sql`
    insert into check_exceptions (check_id, package_glob, reason, granted_by, expires_at, removed_at, removed_by)
    select case when n % 2 = 0 then 'required-url' else 'rpmlint:*' end, name || '*', 'benchmark exception ' || n, 'bench',
           case when n % 3 = 0 then now() + interval '90 days' end,
           case when n > 300 then now() end, case when n > 300 then 'bench' end
    from unnest(${names}::text[]) with ordinality as t(name, n)`;
  await sql`
    insert into cleanup_warnings (kind, package_id, object, rule, reason, bytes, warned_at, notified_at, due_at)
    select 'package', p.id, p.nevra, 'orphan', 'orphan: in no set, stored on 2024-01-01 (more than 30 days ago)', p.size,
           now() - interval '3 days', now() - interval '3 days', now() + interval '11 days'
    from packages p where p.id = any(${ids.slice(-5000)}::bigint[])`;
}

async function api(url: string, token: string, method: string, apiPath: string, body: unknown): Promise<void> {
  const response = await fetch(url + apiPath, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${apiPath}: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

async function fetchPage(url: string, pagePath: string, login: ConsoleLogin) {
  const started = performance.now();
  const response = await fetch(url + pagePath, { headers: { cookie: login.cookie } });
  const body = await response.arrayBuffer();
  const clientMs = performance.now() - started;
  if (response.status !== 200) throw new Error(`${pagePath}: HTTP ${response.status}: ${Buffer.from(body).toString().slice(0, 500)}`);
  const timing = /app;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '');
  if (!timing) throw new Error(`${pagePath}: no Server-Timing`);
  return { status: response.status, serverMs: Number(timing[1]), clientMs, bytes: body.byteLength };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function render(timings: Timing[], run: { packages: number; sets: number; hosts: number; runs: number; load: number[][] }): string {
  const lines = [
    '',
    `Console pages: ${run.packages.toLocaleString('en')} packages, ${run.sets.toLocaleString('en')} sets, ${run.hosts.toLocaleString('en')} hosts; ${run.runs} requests per page after 3 warm-ups, one at a time.`,
    `Load average before: ${run.load[0]!.map((l) => l.toFixed(2)).join(' ')}; after: ${run.load[1]!.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    '| page | server p50 | server p95 | client p95 | weight | target (≤ 150 ms p95, ≤ 200 KB) |',
    '|---|---|---|---|---|---|',
  ];
  for (const t of timings) {
    const p95 = percentile(t.server, 95);
    const pass = p95 <= targetMs && t.bytes <= targetBytes;
    lines.push(
      `| ${t.label} | ${percentile(t.server, 50).toFixed(1)} ms | ${p95.toFixed(1)} ms | ${percentile(t.client, 95).toFixed(1)} ms | ${(t.bytes / 1024).toFixed(1)} KB | ${pass ? 'pass' : '**miss**'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function positive(raw: string | undefined, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:console failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
