// A database outage: the server answers 503 problem documents (no stack traces, nothing half-stored),
// /healthz says so, and everything works again once PostgreSQL is back.
import { randomBytes } from 'node:crypto';
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

let dir: string;
let cluster: EmbeddedPostgres;
let server: RunningServer;
let fixtures: FixtureSet;
const adminToken = `outage-admin-${randomBytes(8).toString('hex')}`;
const clusterSettings = { fsync: 'off', synchronous_commit: 'off' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-outage-'));
  await chmod(dir, 0o755);
  cluster = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), settings: clusterSettings });
  const sql = postgres({ ...cluster.connection, ...poolOptions, max: 4, connect_timeout: 2 });
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

const headers = () => ({ authorization: `Bearer ${adminToken}` });

describe('when PostgreSQL goes away', () => {
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
  });
});
