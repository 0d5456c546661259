// A database outage: the server answers 503 problem documents (no stack traces, nothing half-stored),
// fast (within 2 s, so that clients read the 503 rather than time out), /healthz says so, and everything
// works again once PostgreSQL is back. The embedded PostgreSQL of `rpmgate serve` comes back by itself.
import { randomBytes } from 'node:crypto';
import { logRecords } from '../support/log-records.ts';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../server/config.ts';
import { poolOptions } from '../../server/db/connect.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../server/db/embedded-postgres.ts';
import { silentLogger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/runtime.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import {
  exited,
  freePort,
  portIsFree,
  postgresProcessesOf,
  postmasterPid,
  startServeProcess,
  stopLeftoverPostgres,
  type ServeProcess,
} from '../support/serve-process.ts';

const adminToken = `outage-admin-${randomBytes(8).toString('hex')}`;
const clusterSettings = { fsync: 'off', synchronous_commit: 'off' };
const headers = () => ({ authorization: `Bearer ${adminToken}` });

describe('when PostgreSQL goes away', () => {
  let dir: string;
  let cluster: EmbeddedPostgres;
  let server: RunningServer;
  let fixtures: FixtureSet;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-outage-'));
    await chmod(dir, 0o755);
    cluster = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), settings: clusterSettings });
    const sql = postgres({ ...cluster.connection, ...poolOptions, max: 4 });
    const config = readConfig({ PORT: '0', RPMGATE_DATA_DIR: path.join(dir, 'data'), RPMGATE_ADMIN_TOKEN: adminToken });
    server = await startServer(config, { log: silentLogger, database: { sql, close: () => sql.end({ timeout: 1 }) } });
    fixtures = await buildFixtures();
  });
  afterAll(async () => {
    await server?.close();
    await server?.context.sql.end({ timeout: 1 });
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 problem documents and stores nothing, then recovers', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await cluster.stop();

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);

    const listing = await fetch(`${server.url}/api/v1/sets`, { headers: headers() });
    expect(listing.status).toBe(503);
    expect(listing.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await listing.json()) as { detail: string; status: number };
    expect(problem.status).toBe(503);
    expect(problem.detail).toMatch(/database is unavailable/);
    expect(JSON.stringify(problem)).not.toMatch(/\bat \S+\.ts:\d+/);

    const upload = await fetch(`${server.url}/api/v1/packages`, {
      method: 'POST',
      headers: headers(),
      body: await readFile(fixtures.byName('rg-epoch').path),
    });
    expect(upload.status).toBe(503);
    expect(await readdir(path.join(dir, 'data', 'tmp'))).toEqual([]);

    const repo = await fetch(`${server.url}/repo/level/integ/repodata/repomd.xml`);
    expect(repo.status).toBe(503);

    cluster = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), settings: clusterSettings });
    await expect.poll(async () => (await fetch(`${server.url}/healthz`)).status, { timeout: 20_000 }).toBe(200);
    const retry = await fetch(`${server.url}/api/v1/packages`, {
      method: 'POST',
      headers: headers(),
      body: await readFile(fixtures.byName('rg-epoch').path),
    });
    expect(retry.status).toBe(201);

    // The metrics say what happened: requests that met the outage (the upload among them, refused before
    // its route, at the token's check), and the upload stored once the database was back.
    const metrics = await server.context.metrics.exposition();
    expect(Number(/^rpmgate_database_errors_total\{kind="unavailable"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^rpmgate_uploads_total\{outcome="created",reason=""\} 1$/m);
  });
});

interface TimedAnswer {
  status: number;
  contentType: string | null;
  /** ms from the moment PostgreSQL was killed to the answer. */
  after: number;
}

describe('when the embedded PostgreSQL of `rpmgate serve` is killed', () => {
  let dataDir: string;
  let port: number;
  let serve: ServeProcess | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-outage-serve-'));
    await chmod(dataDir, 0o755);
    port = await freePort();
    serve = await startServeProcess({ dataDir, port, env: { RPMGATE_ADMIN_TOKEN: adminToken } });
  });
  afterAll(async () => {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await exited(serve.child);
    }
    stopLeftoverPostgres(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  const answer = async (killedAt: number, pathname: string, init: RequestInit = {}): Promise<TimedAnswer> => {
    const response = await fetch(`http://127.0.0.1:${port}${pathname}`, { ...init, headers: { ...headers(), 'content-type': 'application/json' }, signal: AbortSignal.timeout(30_000) });
    await response.arrayBuffer();
    return { status: response.status, contentType: response.headers.get('content-type'), after: Date.now() - killedAt };
  };
  const databaseRequests = (killedAt: number) => [
    answer(killedAt, '/api/v1/sets'),
    answer(killedAt, '/api/v1/packages?name=rg-epoch'),
    answer(killedAt, '/api/v1/hosts'),
    // The cleanup's dry run holds a connection of its own (its temporary table).
    answer(killedAt, '/api/v1/cleanup?limit=5'),
    answer(killedAt, '/api/v1/tokens', { method: 'POST', body: JSON.stringify({ role: 'developer', name: 'during-outage' }) }),
  ];
  /** 503 problem+json while PostgreSQL is away, or 200/201 once it is back: never slow, never 500. */
  const expectFastAndRight = (answers: TimedAnswer[]) => {
    for (const a of answers) {
      expect(a.after, JSON.stringify(a)).toBeLessThan(2_000);
      if (a.status === 503) expect(a.contentType).toBe('application/problem+json');
      else expect([200, 201], JSON.stringify(a)).toContain(a.status);
    }
  };

  async function killPostgresUnderLoad(): Promise<{ inFlight: TimedAnswer; during: TimedAnswer[]; killed: number }> {
    const killed = postmasterPid(dataDir)!;
    expect(killed).not.toBeNull();
    // A transaction of our own holds a lock the next request waits for: that request is in flight
    // (its query sent, its answer not yet read) when PostgreSQL dies.
    const holder = postgres({ host: path.join(dataDir, 'pg', 'socket'), port: 5432, user: 'rpmgate', database: 'postgres', max: 2, onnotice: () => {} });
    const lock = await holder.reserve();
    await lock`begin`;
    await lock`lock table package_sets in access exclusive mode`;
    let killedAt = Number.POSITIVE_INFINITY;
    const inFlight = answer(0, '/api/v1/sets').then((a) => ({ ...a, after: Date.now() - killedAt }));
    await expect.poll(async () => (await holder`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'`)[0]!.n).toBe(1);

    killedAt = Date.now();
    process.kill(killed, 'SIGKILL');
    const during = await Promise.all(databaseRequests(killedAt));
    await holder.end({ timeout: 0 }).catch(() => {});
    return { inFlight: await inFlight, during, killed };
  }

  it('answers 503 within 2 s, in flight and after, and brings PostgreSQL back by itself', async () => {
    expect((await answer(Date.now(), '/api/v1/sets')).status).toBe(200);
    const { inFlight, during, killed } = await killPostgresUnderLoad();

    expect(inFlight.status, JSON.stringify(inFlight)).toBe(503);
    expect(inFlight.contentType).toBe('application/problem+json');
    expect(inFlight.after).toBeLessThan(2_000);
    expectFastAndRight(during);
    expect(during.some((a) => a.status === 503)).toBe(true);

    // Requests keep answering fast while rpmgate restarts PostgreSQL, until they succeed again.
    const since = Date.now();
    let back = false;
    while (!back && Date.now() - since < 60_000) {
      const answers = await Promise.all(databaseRequests(Date.now()));
      expectFastAndRight(answers);
      back = answers.every((a) => a.status !== 503);
      if (!back) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(back).toBe(true);
    const restarted = postmasterPid(dataDir);
    expect(restarted).not.toBeNull();
    expect(restarted).not.toBe(killed);
    const records = logRecords(serve!.log());
    expect(records.some((r) => r.level === 'warn' && /^the embedded PostgreSQL \(pid \d+\) exited \(signal SIGKILL\); restarting it/.test(r.message ?? ''))).toBe(true);
    expect(records.some((r) => r.message === 'the embedded PostgreSQL is running again')).toBe(true);
  });

  it('stops on SIGTERM with the PostgreSQL it restarted: port, cluster and data dir are free', async () => {
    serve!.child.kill('SIGTERM');
    expect(await exited(serve!.child)).toBe(0);
    expect(postgresProcessesOf(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'rpmgate.pid'))).toBe(false);
    expect(await portIsFree(port)).toBe(true);
  });

  it('supervises a PostgreSQL it adopted from a crashed rpmgate as well, and stops it', async () => {
    serve = await startServeProcess({ dataDir, port, env: { RPMGATE_ADMIN_TOKEN: adminToken } });
    serve.child.kill('SIGKILL');
    await exited(serve.child);
    const left = postmasterPid(dataDir);
    expect(left).not.toBeNull();

    serve = await startServeProcess({ dataDir, port, env: { RPMGATE_ADMIN_TOKEN: adminToken } });
    expect(serve.log()).toMatch(/adopting the PostgreSQL \(pid \d+\)/);
    const { inFlight, during } = await killPostgresUnderLoad();
    expect(inFlight.status, JSON.stringify(inFlight)).toBe(503);
    expect(inFlight.after).toBeLessThan(2_000);
    expectFastAndRight(during);
    await expect.poll(async () => (await answer(Date.now(), '/api/v1/sets')).status, { timeout: 60_000, interval: 200 }).toBe(200);
    expect(postmasterPid(dataDir)).not.toBe(left);

    serve.child.kill('SIGTERM');
    expect(await exited(serve.child)).toBe(0);
    expect(postgresProcessesOf(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'rpmgate.pid'))).toBe(false);
    expect(await portIsFree(port)).toBe(true);
  });
});
