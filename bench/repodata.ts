// `npm run bench:repodata [-- --packages N]`: how fast rpmgate generates and serves repodata for a
// large repository, against createrepo_c and nginx on the same machine in the same run. A benchmark,
// not a test: it prints a markdown table and each target with pass or fail, and fails only when
// something breaks.
//
// N synthetic packages of a realistic shape (bench/support/corpus.ts) go straight into the database
// with COPY and fragments rendered as an upload renders them; a sealed set holds them. The server runs
// in a child process so that its memory is its own. Measured: cold generation of the set repository
// (repomd.xml, then the three files) and the server's peak RSS meanwhile; warm throughput with wrk
// against nginx serving the same bytes; a promotion's latency to the next level repomd.xml; createrepo_c
// (full and --update) on N hard links of one real RPM of the same shape.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { parseRepomd, type ParsedRepomd } from '../common/repodata/parse.ts';
import { migrate } from '../server/db/migrate.ts';
import { bumpRepoGeneration } from '../server/db/repo-generations.ts';
import { insertSet, refreshPackageLevels } from '../server/db/sets.ts';
import { Keyring, readSigningAlgorithm } from '../server/signing/keyring.ts';
import { available as createrepoAvailable, timeCreaterepo, type CreaterepoTimes } from './support/createrepo-corpus.ts';
import { runWrk, startNginx, startNodeStatic, type WrkResult, type WrkSettings } from './support/http-load.ts';
import { loadCorpus } from './support/load.ts';
import { openBenchDatabase } from './support/postgres.ts';
import { startServerProcess, type BuildLogLine, type ServerProcess } from './support/server-runner.ts';

const { values: args } = parseArgs({
  options: {
    packages: { type: 'string', default: process.env.BENCH_PACKAGES ?? '20000' },
    'wrk-seconds': { type: 'string', default: '10' },
    'wrk-connections': { type: 'string', default: '32' },
    'wrk-threads': { type: 'string', default: '1' },
    'no-createrepo': { type: 'boolean', default: false },
    'no-wrk': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

/** Packages in the extra set whose promotion is timed. */
const extraPackages = 10;

interface Results {
  packages: number;
  loadSeconds: number;
  fragmentBytesPerPackage: { primary: number; filelists: number; other: number };
  files: { primary: number; filelists: number; other: number };
  idleRss: number;
  cold: { repomdSeconds: number; filesSeconds: number; buildPeakRss: number; peakRss: number; peakIsSinceStart: boolean };
  warmRepomdSeconds: number;
  wrk: {
    rpmgate: Record<string, WrkResult>;
    nginx1: Record<string, WrkResult>;
    nginxAuto: Record<string, WrkResult>;
    nodeHttp: Record<string, WrkResult>;
  } | null;
  wrkSettings: WrkSettings;
  promotion: {
    bigPromoteSeconds: number;
    levelColdSeconds: number;
    levelUnchangedRebuildSeconds: number;
    promoteSeconds: number;
    nextRepomdSeconds: number;
    totalSeconds: number;
    peakRss: number | null;
  };
  createrepo: CreaterepoTimes | null;
  load: { before: number[]; after: number[] };
  builds: BuildLogLine[];
}

async function main(): Promise<void> {
  const count = Number(args.packages);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--packages must be a positive integer, not ${args.packages}`);
  const wrkSettings: WrkSettings = {
    threads: Number(args['wrk-threads']),
    connections: Number(args['wrk-connections']),
    seconds: Number(args['wrk-seconds']),
  };
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-'));
  // The embedded PostgreSQL (run as nobody when we are root) and nginx's workers must get in.
  await chmod(workDir, 0o755);
  const loadBefore = os.loadavg();
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const database = await openBenchDatabase(workDir);
  let server: ServerProcess | null = null;
  try {
    const { sql } = database;
    await migrate(sql);
    log(`loading ${count} + ${extraPackages} packages`);
    const loadStarted = performance.now();
    // The server's signing key, made now in its data dir, so that the packages count as signed by it.
    const serverDataDir = path.join(workDir, 'server');
    const keyring = await Keyring.open({ dataDir: serverDataDir, algorithm: readSigningAlgorithm() });
    const corpus = await loadCorpus(sql, count + extraPackages, {
      signedBy: keyring.current().info.fingerprint,
      onProgress: (done) => {
        if (done % 20_000 === 0) log(`  ${done} packages`);
      },
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    log(`loaded in ${loadSeconds.toFixed(1)} s`);
    // The set holding the N packages, as createSet writes it (members, sealed, levels, generation).
    await sql.begin(async (tx) => {
      const members = corpus.ids.slice(0, count);
      await insertSet(tx, { name: 'bench', version: '1', description: 'benchmark', createdBy: 'bench', packageIds: members });
      await refreshPackageLevels(tx, members);
      await bumpRepoGeneration(tx, 'levels');
    });
    await sql`analyze package_set_members`;

    const adminToken = randomBytes(24).toString('hex');
    server = await startServerProcess({
      ...database.serverEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      RPMGATE_DATA_DIR: serverDataDir,
      RPMGATE_ADMIN_TOKEN: adminToken,
    });
    const base = server.url;
    const setRepo = `${base}/repo/set/bench/1/`;
    const idleRss = server.rss();

    log('cold generation');
    const peakIsSinceStart = !server.resetPeak();
    let started = performance.now();
    const repomdBytes = await fetchBytes(`${setRepo}repodata/repomd.xml`);
    const repomdSeconds = (performance.now() - started) / 1000;
    const buildPeak = server.peakRss();
    const repomd = await parseRepomd(repomdBytes);
    started = performance.now();
    const documents = new Map<string, Buffer>();
    for (const record of repomd.records) documents.set(record.type, await fetchBytes(setRepo + record.href));
    const filesSeconds = (performance.now() - started) / 1000;
    const coldPeak = server.peakRss();
    await checkDocuments(repomd, documents, count);

    started = performance.now();
    await fetchBytes(`${setRepo}repodata/repomd.xml`);
    const warmRepomdSeconds = (performance.now() - started) / 1000;

    let wrk: Results['wrk'] = null;
    if (!args['no-wrk']) {
      const primary = repomd.records.find((record) => record.type === 'primary')!;
      const targets = { 'repomd.xml': 'repodata/repomd.xml', [`primary.xml.gz`]: primary.href };
      wrk = { rpmgate: {}, nginx1: {}, nginxAuto: {}, nodeHttp: {} };
      for (const [label, href] of Object.entries(targets)) {
        log(`wrk rpmgate ${label}`);
        wrk.rpmgate[label] = await runWrk(setRepo + href, wrkSettings);
      }
      const files = new Map<string, Buffer>([
        ['repo/set/bench/1/repodata/repomd.xml', repomdBytes],
        [`repo/set/bench/1/${primary.href}`, documents.get('primary')!],
      ]);
      for (const [key, workers] of [['nginx1', 1], ['nginxAuto', 'auto']] as const) {
        const nginx = await startNginx(path.join(workDir, `nginx-${workers}`), files, workers);
        try {
          for (const [label, href] of Object.entries(targets)) {
            log(`wrk nginx (worker_processes ${workers}) ${label}`);
            wrk[key][label] = await runWrk(`${nginx.url}/repo/set/bench/1/${href}`, wrkSettings);
          }
        } finally {
          await nginx.stop();
        }
      }
      const nodeStatic = await startNodeStatic(path.join(workDir, 'node-static'), files);
      try {
        for (const [label, href] of Object.entries(targets)) {
          log(`wrk node:http alone ${label}`);
          wrk.nodeHttp[label] = await runWrk(`${nodeStatic.url}/repo/set/bench/1/${href}`, wrkSettings);
        }
      } finally {
        await nodeStatic.stop();
      }
    }

    log('promotion');
    server.resetPeak();
    const api = apiClient(base, adminToken);
    const levelRepomd = `${base}/repo/level/qa_ready/repodata/repomd.xml`;
    started = performance.now();
    await api('POST', '/api/v1/sets/bench/1/promote', { level: 'qa_ready', comment: 'bench' });
    const bigPromoteSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await fetchBytes(levelRepomd);
    const levelColdSeconds = (performance.now() - started) / 1000;
    await api('POST', '/api/v1/sets', { name: 'bench-extra', version: '1', packages: corpus.nevras.slice(count), allowUnresolved: true });
    started = performance.now();
    const before = await fetchBytes(levelRepomd);
    const levelUnchangedRebuildSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await api('POST', '/api/v1/sets/bench-extra/1/promote', { level: 'qa_ready', comment: 'bench' });
    const promoted = performance.now();
    const after = await fetchBytes(levelRepomd);
    const done = performance.now();
    if (after.equals(before)) throw new Error('the level repomd.xml did not change after the promotion');
    const promotionPeak = server.peakRss();
    const afterRepomd = await parseRepomd(after);
    const afterPrimary = afterRepomd.records.find((record) => record.type === 'primary')!;
    const levelCount = await packageCountOf(await fetchBytes(`${base}/repo/level/qa_ready/${afterPrimary.href}`));
    if (levelCount !== count + extraPackages) throw new Error(`qa_ready holds ${levelCount} packages, expected ${count + extraPackages}`);

    const builds = [...server.builds];
    await server.stop();
    server = null;

    let createrepo: CreaterepoTimes | null = null;
    const version = args['no-createrepo'] ? null : await createrepoAvailable();
    if (version) {
      log('createrepo_c (full run, then --update)');
      // A failure here must not lose the measurements above.
      createrepo = await timeCreaterepo(path.join(workDir, 'createrepo'), count, version).catch((error: unknown) => {
        log(`createrepo_c failed: ${String(error)}`);
        return null;
      });
    } else if (!args['no-createrepo']) {
      log('createrepo_c or rpmbuild is not installed: no createrepo_c comparison');
    }

    const results: Results = {
      packages: count,
      loadSeconds,
      fragmentBytesPerPackage: {
        primary: corpus.fragmentBytes.primary / (count + extraPackages),
        filelists: corpus.fragmentBytes.filelists / (count + extraPackages),
        other: corpus.fragmentBytes.other / (count + extraPackages),
      },
      files: {
        primary: documents.get('primary')!.length,
        filelists: documents.get('filelists')!.length,
        other: documents.get('other')!.length,
      },
      idleRss,
      cold: { repomdSeconds, filesSeconds, buildPeakRss: buildPeak, peakRss: coldPeak, peakIsSinceStart },
      warmRepomdSeconds,
      wrk,
      wrkSettings,
      promotion: {
        bigPromoteSeconds,
        levelColdSeconds,
        levelUnchangedRebuildSeconds,
        promoteSeconds: (promoted - started) / 1000,
        nextRepomdSeconds: (done - promoted) / 1000,
        totalSeconds: (done - started) / 1000,
        peakRss: promotionPeak,
      },
      createrepo,
      load: { before: loadBefore, after: os.loadavg() },
      builds,
    };
    process.stdout.write(renderTable(results));
  } finally {
    await server?.stop();
    await database.close();
    if (!args.keep) await rm(workDir, { recursive: true, force: true });
    else log(`kept ${workDir}`);
  }
}

async function fetchBytes(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

function apiClient(base: string, token: string) {
  return async (method: string, pathname: string, body: unknown): Promise<unknown> => {
    const response = await fetch(base + pathname, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as unknown;
  };
}

/** Every file matches the checksum and size repomd.xml gives it, and primary.xml counts the set. */
async function checkDocuments(repomd: ParsedRepomd, documents: Map<string, Buffer>, count: number): Promise<void> {
  for (const record of repomd.records) {
    const bytes = documents.get(record.type)!;
    if (createHash('sha256').update(bytes).digest('hex') !== record.checksum || bytes.length !== record.size) {
      throw new Error(`${record.type}: checksum or size differs from repomd.xml`);
    }
  }
  const primaryCount = await packageCountOf(documents.get('primary')!);
  if (primaryCount !== count) throw new Error(`primary.xml says packages="${primaryCount}", expected ${count}`);
}

/** The packages="N" of a gzipped metadata document, read from its first bytes. */
async function packageCountOf(gzipped: Buffer): Promise<number> {
  const gunzip = createGunzip();
  gunzip.end(gzipped);
  let head = '';
  for await (const chunk of gunzip) {
    head += (chunk as Buffer).toString('utf8');
    if (head.length > 512) break;
  }
  gunzip.destroy();
  return Number(/packages="(\d+)"/.exec(head)?.[1] ?? NaN);
}

function renderTable(results: Results): string {
  const n = results.packages;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const s = (seconds: number) => `${seconds.toFixed(seconds < 10 ? 3 : 1)} s`;
  const rate = (result: WrkResult | undefined) =>
    result ? `${Math.round(result.requestsPerSecond).toLocaleString('en')} req/s (${mb(result.bytesPerSecond)}/s)${result.errors ? `, ${result.errors} errors` : ''}` : '—';
  const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? '**pass**' : '**FAIL**');
  const at100k = n >= 100_000;
  const cold = results.cold.repomdSeconds + results.cold.filesSeconds;
  const update = results.createrepo?.updateSeconds ?? null;
  const rows: string[][] = [];
  rows.push([
    `cold generation, set repository of ${n.toLocaleString('en')} (repomd.xml, then the 3 files)`,
    `${s(cold)} (repomd.xml ${s(results.cold.repomdSeconds)} + files ${s(results.cold.filesSeconds)})`,
    results.createrepo ? `createrepo_c --update: ${s(results.createrepo.updateSeconds)}; full run: ${s(results.createrepo.fullSeconds)}` : 'createrepo_c not run',
    '≤ 0.5 × createrepo_c --update',
    verdict(update === null ? null : cold <= 0.5 * update),
  ]);
  rows.push([
    'peak RSS of the server during cold generation (the build, then the 3 downloads)',
    `${mb(results.cold.peakRss)} (build alone ${mb(results.cold.buildPeakRss)}; idle before ${mb(results.idleRss)})${results.cold.peakIsSinceStart ? ', peak since start' : ''}`,
    '',
    '< 300 MB at 100,000 packages',
    verdict(at100k ? results.cold.peakRss < 300 * 1024 * 1024 : null),
  ]);
  if (results.wrk) {
    for (const label of Object.keys(results.wrk.rpmgate)) {
      const ours = results.wrk.rpmgate[label]!;
      const nginx = results.wrk.nginx1[label]!;
      rows.push([
        `warm ${label}${label.startsWith('primary') ? ` (${mb(results.files.primary)})` : ''}, wrk -t${results.wrkSettings.threads} -c${results.wrkSettings.connections} -d${results.wrkSettings.seconds}s`,
        rate(ours),
        `nginx, 1 worker: ${rate(nginx)}; nginx, workers auto: ${rate(results.wrk.nginxAuto[label])}; node:http alone, same bytes from memory: ${rate(results.wrk.nodeHttp[label])}`,
        '≥ nginx (1 worker, as rpmgate is one process)',
        verdict(ours.errors === 0 && ours.requestsPerSecond >= nginx.requestsPerSecond),
      ]);
    }
  }
  const p = results.promotion;
  rows.push([
    `promotion of a ${extraPackages}-package set to qa_ready, until the level's next repomd.xml (${(n + extraPackages).toLocaleString('en')} packages) shows it`,
    `${s(p.totalSeconds)} (promote ${s(p.promoteSeconds)} + next repomd.xml ${s(p.nextRepomdSeconds)})`,
    '',
    '≤ 1 s at 100,000 packages',
    verdict(at100k ? p.totalSeconds <= 1 : null),
  ]);
  const table = [
    '| measure | rpmgate | reference (same run) | target | result |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  const f = results.fragmentBytesPerPackage;
  const notes = [
    `- packages: ${n.toLocaleString('en')} (+${extraPackages} for the promotion), loaded with COPY in ${s(results.loadSeconds)}; ` +
      `rendered fragments per package: primary ${Math.round(f.primary)} B, filelists ${Math.round(f.filelists)} B, other ${Math.round(f.other)} B` +
      (results.createrepo ? ` (createrepo_c's primary.xml of the real RPM: ${Math.round(results.createrepo.primaryBytesPerPackage)} B per package; RPM ${Math.round(results.createrepo.rpmBytes / 1024)} KB)` : ''),
    `- served files: primary.xml.gz ${mb(results.files.primary)}, filelists.xml.gz ${mb(results.files.filelists)}, other.xml.gz ${mb(results.files.other)}`,
    `- warm repomd.xml, one request: ${(results.warmRepomdSeconds * 1000).toFixed(1)} ms`,
    `- level repository of ${n.toLocaleString('en')} packages: promotion of the whole set ${s(p.bigPromoteSeconds)}, first repomd.xml ${s(p.levelColdSeconds)}, ` +
      `rebuild after an unrelated change ${s(p.levelUnchangedRebuildSeconds)}; peak RSS in the promotion phase ${p.peakRss === null ? '—' : mb(p.peakRss)}`,
    `- builds logged by the server, in order: ${results.builds
      .map(
        (b) =>
          `${b.repo} ${b.packages} packages ${b.ms} ms${b.planMs === undefined ? '' : ` (plan ${b.planMs} ms, members ${b.members})`}${b.chunks === undefined ? '' : ` (${b.chunksBuilt}/${b.chunks} chunks compressed)`}`,
      )
      .join('; ')}`,
    `- machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}; load average before ${results.load.before.map((x) => x.toFixed(2)).join(' ')}, after ${results.load.after.map((x) => x.toFixed(2)).join(' ')}`,
  ];
  return `\n${table.join('\n')}\n\n${notes.join('\n')}\n`;
}

if (args.help) {
  process.stdout.write(
    'usage: npm run bench:repodata -- [--packages N] [--wrk-seconds S] [--wrk-connections C] [--wrk-threads T]\n' +
      '                                 [--no-createrepo] [--no-wrk] [--keep]\n' +
      'Environment: BENCH_PACKAGES (default 20000), DATABASE_URL (otherwise an embedded PostgreSQL in a temp dir),\n' +
      'RPMGATE_REPODATA_* settings are passed to the server under test.\n',
  );
} else {
  await main();
}
