// `rpmgate serve` with several HTTP workers (RPMGATE_WORKERS=2), as real processes: one supervisor
// and its embedded PostgreSQL, two workers on one port; a change made through one worker is seen by
// the other on the very next request; a worker that dies is replaced; a stop finishes the request
// under way and leaves nothing running.
import type { ChildProcess } from 'node:child_process';
import { logRecords } from '../support/log-records.ts';
import http from 'node:http';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolsRequired } from '../support/requirements.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { descendantsOf, exited, freePort, isAlive, portIsFree, postgresProcessesOf, startServeProcess, stopLeftoverPostgres, type ServeProcess } from '../support/serve-process.ts';

const adminToken = 'workers-test-admin-token-0123456789';
const metricsToken = 'workers-test-metrics-token';
/** Uploads this file made that were stored (201), as rpmgate_uploads_total should count them. */
let uploadsStored = 0;
/** Requests this file made, by route template, as the metrics should count them. */
let requestsMade = 0;
let dataDir: string;
let port: number;
let fixtures: FixtureSet;
let serve: ServeProcess;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a connection of its own: node:cluster hands new connections to the workers in turn. */
function request(method: string, url: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  if (url !== '/metrics') requestsMade++;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: url, agent: false, headers: { authorization: `Bearer ${adminToken}`, connection: 'close', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function json(body: unknown): [string, Record<string, string>] {
  return [JSON.stringify(body), { 'content-type': 'application/json' }];
}

/** Worker pids that said they listen, in the order they started. */
function workerPids(): number[] {
  return logRecords(serve.log())
    .filter((r) => r.message === 'rpmgate listening')
    .map((r) => Number(r.pid));
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-workers-'));
  await chmod(dataDir, 0o755);
  port = await freePort();
  fixtures = await buildFixtures();
  serve = await startServeProcess({ dataDir, port, env: { RPMGATE_ADMIN_TOKEN: adminToken, RPMGATE_WORKERS: '2', RPMGATE_METRICS_TOKEN: metricsToken } });
  await until(() => workerPids().length === 2);
}, 120_000);

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; log: ${serve.log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(async () => {
  const child: ChildProcess | undefined = serve?.child;
  if (child && child.exitCode === null) {
    const below = descendantsOf(child.pid!);
    child.kill('SIGKILL');
    for (const pid of below) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  stopLeftoverPostgres(dataDir);
  await rm(dataDir, { recursive: true, force: true });
});

describe('rpmgate serve with RPMGATE_WORKERS=2', () => {
  it('serves from two worker processes beside one supervisor and one PostgreSQL', async () => {
    const workers = workerPids();
    expect(new Set(workers).size).toBe(2);
    const below = descendantsOf(serve.child.pid!);
    for (const pid of workers) expect(below).toContain(pid);
    // One postmaster, started by the supervisor.
    const postmasters = postgresProcessesOf(dataDir).filter((pid) => below.includes(pid) && descendantsOf(serve.child.pid!).includes(pid));
    expect(postmasters.length).toBeGreaterThan(0);
    expect(serve.log().match(/database system is ready to accept connections/g)?.length).toBe(1);
  });

  it('shows a change made through one worker on the very next request to either', async () => {
    for (const fixture of fixtures.packages.filter((candidate) => candidate.name === 'rg-hello' || candidate.name === 'rg-epoch')) {
      const upload = await request('POST', '/api/v1/packages', await readFile(fixture.path));
      expect([200, 201], upload.body.toString()).toContain(upload.status);
      if (upload.status === 201) uploadsStored++;
    }
    const member = fixtures.byName('rg-epoch').nevra;
    for (let round = 0; round < 8; round++) {
      const repomd = `/repo/set/coherent/${round}/repodata/repomd.xml`;
      // Both workers learn that the set does not exist (and keep that for the current generation).
      for (let index = 0; index < 2; index++) expect((await request('GET', repomd)).status).toBe(404);
      const created = await request('POST', '/api/v1/sets', ...json({ name: 'coherent', version: String(round), packages: [member] }));
      expect(created.status, created.body.toString()).toBe(201);
      // At once, on new connections, which the two workers take in turn.
      const answers = await Promise.all([request('GET', repomd), request('GET', repomd)]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      expect(answers[0]!.body.equals(answers[1]!.body)).toBe(true);
      const promoted = await request('POST', `/api/v1/sets/coherent/${round}/promote`, ...json({ level: 'qa_ready' }));
      expect(promoted.status, promoted.body.toString()).toBe(200);
      const sets = await Promise.all([request('GET', `/api/v1/sets/coherent/${round}`), request('GET', `/api/v1/sets/coherent/${round}`)]);
      expect(sets.map((answer) => (JSON.parse(answer.body.toString()) as { level: string }).level)).toEqual(['qa_ready', 'qa_ready']);
    }
  });

  it('publishes a key added through one worker from every worker at once', async () => {
    const before = (await request('GET', '/keys/rpmgate.asc')).body.toString();
    const added = await request('POST', '/api/v1/keys', ...json({ algorithm: 'ed25519' }));
    expect(added.status, added.body.toString()).toBe(201);
    const keys = await Promise.all([request('GET', '/keys/rpmgate.asc'), request('GET', '/keys/rpmgate.asc'), request('GET', '/keys/rpmgate.asc')]);
    for (const key of keys) {
      expect(key.status).toBe(200);
      expect(key.body.toString()).not.toBe(before);
    }
    expect(new Set(keys.map((key) => key.body.toString())).size).toBe(1);
  });

  it('is ready, and answers /metrics for both workers in the Prometheus text format, behind its token', async () => {
    const ready = await request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body.toString())).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', key: 'ok' } });
    expect((await request('GET', '/metrics', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    // Uploads refused: bytes that are no RPM, and a package the entry checks refuse (its findings counted).
    expect((await request('POST', '/api/v1/packages', Buffer.from('not an rpm at all'))).status).toBe(400);
    const refusedOnEntry = fixtures.refusedOnEntry.find((fixture) => !fixture.isSource)!;
    expect((await request('POST', '/api/v1/packages', await readFile(refusedOnEntry.path))).status).toBe(422);
    // Repository generations both workers built already: answered from what was built.
    for (let index = 0; index < 2; index++) expect((await request('GET', '/repo/set/coherent/0/repodata/repomd.xml')).status).toBe(200);
    // Scraped twice, so that both workers answer one scrape: each answers for the whole server.
    const scrapes = await Promise.all([0, 1].map(() => request('GET', '/metrics', undefined, { authorization: `Bearer ${metricsToken}` })));
    for (const scrape of scrapes) {
      expect(scrape.status).toBe(200);
      expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    }
    const text = scrapes[0]!.body.toString();
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    const requests = families.get('rpmgate_http_requests_total')!;
    expect(requests.type).toBe('COUNTER');
    const counted = (route: string) => requests.metrics.filter((sample) => sample.labels?.route === route).reduce((sum, sample) => sum + Number(sample.value), 0);
    expect(counted('/api/v1/sets/:name/:version/promote')).toBe(8);
    // Every request this file made, whichever worker answered it (the health polls of the start aside).
    const all = requests.metrics.filter((sample) => !['/healthz', '/metrics'].includes(sample.labels!.route!)).reduce((sum, sample) => sum + Number(sample.value), 0);
    expect(all).toBe(requestsMade);
    expect(families.get('rpmgate_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(Number(families.get('rpmgate_repodata_builds_total')?.metrics[0]?.value)).toBeGreaterThan(0);
    expect(families.get('rpmgate_fleet_hosts')?.metrics.map((sample) => sample.labels?.status).sort()).toEqual(['conforming', 'drifting', 'no_set', 'unknown_set']);
    expect(families.get('rpmgate_resign_packages')).toBeDefined();
    const samples = (family: string, labels: Record<string, string>) =>
      (families.get(family)?.metrics ?? []).filter((sample) => Object.entries(labels).every(([name, value]) => sample.labels?.[name] === value));
    const sum = (family: string, labels: Record<string, string>) => samples(family, labels).reduce((total, sample) => total + Number(sample.value), 0);
    // Uploads by outcome and reason, summed over both workers.
    expect(sum('rpmgate_uploads_total', { outcome: 'created' })).toBe(uploadsStored);
    expect(sum('rpmgate_uploads_total', { outcome: 'refused', reason: 'invalid_rpm' })).toBe(1);
    expect(sum('rpmgate_uploads_total', { outcome: 'refused', reason: 'entry_checks' })).toBe(1);
    expect(sum('rpmgate_entry_check_findings_total', { check: 'xml-unsafe-text', severity: 'error' })).toBeGreaterThanOrEqual(1);
    // Set repositories were built (misses) and then answered from what was built (hits).
    expect(sum('rpmgate_repodata_lookups_total', { kind: 'set', result: 'miss' })).toBeGreaterThanOrEqual(8);
    expect(sum('rpmgate_repodata_lookups_total', { kind: 'set', result: 'hit' })).toBeGreaterThanOrEqual(2);
    expect(families.get('rpmgate_repodata_build_duration_seconds')?.type).toBe('HISTOGRAM');
    // Every build timed (this parser keeps a histogram's buckets, not its labels: all kinds together).
    const timedBuilds = (families.get('rpmgate_repodata_build_duration_seconds')?.metrics ?? []).reduce((total, sample) => total + Number(sample.buckets?.['+Inf'] ?? 0), 0);
    expect(timedBuilds).toBe(sum('rpmgate_repodata_builds_total', {}));
    // The database's connections, as PostgreSQL sees them: the scrape's own query is active.
    expect(sum('rpmgate_database_connections', { state: 'max' })).toBeGreaterThan(0);
    expect(sum('rpmgate_database_connections', { state: 'active' })).toBeGreaterThanOrEqual(1);
    expect(families.get('rpmgate_database_errors_total')?.type).toBe('COUNTER');
    expect(samples('rpmgate_set_members_not_adopted', {}).map((sample) => `${sample.labels?.state}=${sample.value}`).sort()).toEqual(['failed=0', 'pending=0']);
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(families.has('nodejs_heap_size_used_bytes')).toBe(true);

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) {
      if (toolsRequired) throw new Error('promtool (Debian package prometheus) is missing');
      console.warn('SKIPPED: promtool check metrics (install Debian package prometheus)');
    } else {
      expect(promtool.status, promtool.stdout + promtool.stderr).toBe(0);
    }
  });

  it('replaces a worker that dies, and goes on serving', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await expect.poll(() => workerPids().length, { timeout: 60_000 }).toBe(3);
    expect(serve.log()).toMatch(/"message":"worker died; starting another"/);
    const replacement = workerPids()[2]!;
    expect(isAlive(replacement)).toBe(true);
    for (let index = 0; index < 4; index++) expect((await request('GET', '/healthz')).status).toBe(200);
  });

  it('on SIGTERM finishes the upload under way, then stops everything it started', async () => {
    const bytes = await readFile(fixtures.byName('rg-lib').path);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.write(
      `POST /api/v1/packages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${adminToken}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
    );
    socket.write(bytes.subarray(0, bytes.length >> 1));
    // The upload is under way once a worker writes its part file.
    await expect.poll(async () => (await readdir(path.join(dataDir, 'tmp')).catch(() => [])).length, { timeout: 30_000 }).toBeGreaterThan(0);
    const below = descendantsOf(serve.child.pid!);
    serve.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // write, not end: a half-closed connection is one whose client gave up (Node aborts its request).
    socket.write(bytes.subarray(bytes.length >> 1));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(reply, serve.log().split("\n").filter((line) => !line.includes(`"source":"postgres"`)).slice(-12).join("\n")).toMatch(/^HTTP\/1\.1 201 /);
    expect(await exited(serve.child)).toBe(0);
    await expect.poll(() => below.filter(isAlive), { timeout: 30_000 }).toEqual([]);
    expect(postgresProcessesOf(dataDir)).toEqual([]);
    expect(await portIsFree(port)).toBe(true);
  });
});
