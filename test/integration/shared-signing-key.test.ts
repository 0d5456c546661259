// Servers sharing one database and one package store (a shared directory here): given the first
// server's key through RPMGATE_SIGNING_KEY_FILE a second server signs with it (keys-across-servers.test.ts
// has the refusal); told RPMGATE_SIGNING_KEY_TAKEOVER=1 a third makes its own key current. Re-signing
// runs on one server at a time (an advisory lock), and another server takes it over when the lock is free.
import { readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let first: TestServer;
const others: TestServer[] = [];
/** One package store for every server (a shared directory, as NFS would be; S3 in store-s3.test.ts). */
let storeDir: string;
const shared = () => ({ RPMGATE_STORE_URL: `file://${storeDir}` });

beforeAll(async () => {
  storeDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-shared-store-'));
  first = await startTestServer({ env: shared() });
});
afterAll(async () => {
  for (const server of others) await server.close();
  await first?.close();
  await rm(storeDir, { recursive: true, force: true });
});

const currentKey = async (server: TestServer) => (await server.admin.get<{ current: { fingerprint: string } }>('/api/v1/keys')).body.current.fingerprint;

async function keyFileOf(server: TestServer): Promise<string> {
  const dir = path.join(server.dataDir, 'keys');
  const file = (await readdir(dir)).find((name) => name.endsWith('.key.asc'))!;
  return path.join(dir, file);
}

describe('a second server on the same database', () => {
  it('starts with the same key from RPMGATE_SIGNING_KEY_FILE and signs with it', async () => {
    const key = await currentKey(first);
    const second = await startTestServer({ database: first.database, env: { ...shared(), RPMGATE_SIGNING_KEY_FILE: await keyFileOf(first) } });
    others.push(second);
    expect(await currentKey(second)).toBe(key);
    const [file] = await buildSmallRpms([{ name: 'rg-shared-key' }]);
    const uploaded = await (await second.clientFor('developer')).request<{ signedBy: string }>('POST', '/api/v1/packages', { body: await readFile(file!) });
    expect(uploaded.status).toBe(201);
    const [row] = await first.database.sql<{ signed_by: string }[]>`select signed_by from packages where name = 'rg-shared-key'`;
    expect(row!.signed_by).toBe(key);
    expect(second.server.context.rotation.current().state).toBe('idle');
  });

  it('with RPMGATE_SIGNING_KEY_TAKEOVER=1 makes its own key current; one server re-signs while the lock is held elsewhere', async () => {
    const previous = await currentKey(first);
    // Another session holds the re-signing lock: the new server must not re-sign.
    const holder = await first.database.sql.reserve();
    await holder`select pg_advisory_lock(hashtextextended('job:key-rotation', 0))`;
    let third: TestServer;
    try {
      third = await startTestServer({ database: first.database, env: { ...shared(), RPMGATE_SIGNING_KEY_TAKEOVER: '1' } });
      others.push(third);
      const own = await currentKey(third);
      expect(own).not.toBe(previous);
      const [recorded] = await first.database.sql<{ fingerprint: string }[]>`select fingerprint from signing_key_of_record`;
      expect(recorded!.fingerprint).toBe(own);
      await third.server.context.rotation.settled();
      expect(third.server.context.rotation.current().state).toBe('elsewhere');
      const [unsigned] = await first.database.sql<{ count: number }[]>`select count(*)::int as count from packages where signed_by is distinct from ${own}`;
      expect(unsigned!.count).toBe(1);
    } finally {
      await holder`select pg_advisory_unlock(hashtextextended('job:key-rotation', 0))`;
      holder.release();
    }
    // Free again: the next attempt (the retry timer, here called at once) takes the job.
    await third!.server.context.rotation.start();
    await third!.server.context.rotation.settled();
    expect(third!.server.context.rotation.current()).toMatchObject({ state: 'done', resigned: 1 });
    const [left] = await first.database.sql<{ count: number }[]>`select count(*)::int as count from packages where signed_by is distinct from ${await currentKey(third!)}`;
    expect(left!.count).toBe(0);
  });
});
