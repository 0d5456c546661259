// The repodata cache (server/repodata/cache.ts) on a real PostgreSQL, for interleavings a server
// meets under load: repositories that hold the same packages (two empty levels, a set and the level
// it reached) share one plan, and may build it at the same moment on an empty cache.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus } from '../../bench/support/load.ts';
import type { Database } from '../../server/db/connect.ts';
import { migrate } from '../../server/db/migrate.ts';
import { silentLogger } from '../../server/log.ts';
import { RepodataCache, type RepoRequest } from '../../server/repodata/cache.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Database;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.sql);
  await loadCorpus(database.sql, 300);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-test-repodata-cache-'));
});
afterAll(async () => {
  await database?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function freshCache(storeDir: string, memoryBudget = 16 * 1024 * 1024): RepodataCache {
  return new RepodataCache({
    sql: database.sql,
    storeDir,
    log: silentLogger,
    signRepomd: null,
    gzipLevel: 6,
    memoryBudget,
    retentionMs: 3600_000,
  });
}

describe('the repodata cache', () => {
  it('builds one plan for several repositories at once, on an empty cache, and answers each', async () => {
    const request = (id: string): RepoRequest => ({ id, selector: { kind: 'level', rank: 0, source: false }, generation: '1.1', timestamp: 1_750_000_000 });
    for (let attempt = 0; attempt < 3; attempt++) {
      const cache = freshCache(path.join(dataDir, `attempt-${attempt}`));
      await cache.open();
      const snapshots = await Promise.all(['level/integ', 'set/1', 'set/2'].map((id) => cache.snapshot(request(id))));
      expect(new Set(snapshots.map((snapshot) => snapshot.etag)).size).toBe(1);
      expect(snapshots[0]!.packageCount).toBe(300);
    }
  });

  it('reads a file memory does not hold once for many requests at once, and counts it once: it stays in memory', async () => {
    const storeDir = path.join(dataDir, 'hot');
    const built = freshCache(storeDir);
    await built.open();
    const snapshot = await built.snapshot({ id: 'level/integ', selector: { kind: 'level', rank: 0, source: false }, generation: '1.1', timestamp: 1_750_000_000 });
    const primary = /href="repodata\/([^"]*primary\.xml\.gz)"/.exec(snapshot.repomd.toString())![1]!;
    const size = (await stat(path.join(storeDir, primary))).size;
    // A new process's memory: the file is on disk only, and fits its budget (a quarter at most per file).
    const cache = freshCache(storeDir, 4 * size);
    await cache.open();
    expect(cache.hotFile(primary)).toBeNull();
    const answers = await Promise.all(Array.from({ length: 8 }, () => cache.readFile(primary)));
    const first = answers[0]!;
    expect('bytes' in first && first.bytes.length).toBe(size);
    // One read: every request got the same bytes.
    expect(answers.every((answer) => answer !== null && 'bytes' in answer && 'bytes' in first && answer.bytes === first.bytes)).toBe(true);
    expect(cache.hotFile(primary)?.length).toBe(size);
    // Read again once held, it is still counted once: the budget keeps it beside three more of its size.
    for (let round = 0; round < 5; round++) await cache.readFile(primary);
    expect(cache.hotFile(primary)?.length).toBe(size);
  });
});
