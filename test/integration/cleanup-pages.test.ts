// The cleanup reads its eligible objects and the warnings a page at a time (a temporary table of its
// connection, matched against the warnings there), so that its memory follows a page, not the store.
// With pages of two, across many page boundaries, on the real server and database: the dry run says
// what a dry run in one page says, and the runs warn, withdraw and delete every object they should.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CleanupJob } from '../../server/retention/job.ts';
import type { CleanupPreview } from '../../server/retention/preview.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { insertSyntheticPackage } from '../support/synthetic-package.ts';

const day = 86_400_000;
let server: TestServer;
const orphans = Array.from({ length: 7 }, (_, index) => `rg-pg-orphan-${index + 1}-1.0-1.noarch`);
const setPackages = Array.from({ length: 5 }, (_, index) => `rg-pg-set-${index + 1}-1.0-1.noarch`);

beforeAll(async () => {
  server = await startTestServer();
  const sql = server.database.sql;
  // Synthetic packages are dated 1970: old enough to be orphans.
  for (let index = 1; index <= 7; index++) await insertSyntheticPackage(sql, { name: `rg-pg-orphan-${index}`, version: '1.0', arch: 'noarch' });
  for (let index = 1; index <= 5; index++) {
    await insertSyntheticPackage(sql, { name: `rg-pg-set-${index}`, version: '1.0', arch: 'noarch' });
    // pg/1 .. pg/4 are redundant: pg/5 is newer at the same level.
    await server.admin.post('/api/v1/sets', { name: 'pg', version: String(index), packages: [setPackages[index - 1]], allowUnresolved: true, noSources: true });
  }
});

afterAll(async () => {
  await server?.close();
});

describe('the cleanup in pages of two', () => {
  it('previews what one page previews, then warns, withdraws and deletes across the pages', async () => {
    const paged = new CleanupJob(server.server.context, { pageSize: 2 });
    const now = new Date();
    const whole = await server.server.context.cleanup.preview(now, null);
    expect(await paged.preview(now, null)).toEqual(whole);
    expect(whole.warn.map((item) => `${item.kind} ${item.object}`).sort()).toEqual(
      [...orphans.map((nevra) => `package ${nevra}`), ...['1', '2', '3', '4'].map((version) => `set pg/${version}`)].sort(),
    );
    expect(whole.counts.warn).toBe(11);

    const first = await paged.run(now);
    expect(first.warned).toBe(11);
    expect(first.counts.deleted).toBe(0);
    // Mail is off: the warnings count as notified now, and are due after the delay.
    const later = new Date(now.getTime() + 15 * day);
    const due = await paged.preview(later, null);
    expect(due).toEqual(await server.server.context.cleanup.preview(later, null));
    expect(due.counts).toMatchObject({ delete: 11, warn: 0, waiting: 0, withdraw: 0 });

    // One orphan becomes needed: its warning is withdrawn, the rest go.
    await server.admin.post('/api/v1/sets', { name: 'keep', version: '1', packages: [orphans[2]], allowUnresolved: true, noSources: true });
    const second = await paged.run(later);
    expect(second.counts).toEqual({ deleted: 10, withdrawn: 1, skipped: 0 });
    expect(second.withdrawn).toEqual([{ object: `package ${orphans[2]}`, sparedBecause: 'set keep/1 holds it' }]);
    expect(second.deleted.map((item) => `${item.kind} ${item.object}`).sort()).toEqual(
      [...orphans.filter((_, index) => index !== 2).map((nevra) => `package ${nevra}`), ...['1', '2', '3', '4'].map((version) => `set pg/${version}`)].sort(),
    );
    const left = await server.database.sql<{ nevra: string }[]>`select nevra from packages where nevra like 'rg-pg-%' order by nevra`;
    expect(left.map((row) => row.nevra)).toEqual([orphans[2], ...setPackages]);

    // What the deleted sets held is orphaned now: warned by the next run, nothing else pending.
    const after = await paged.preview(later, null);
    expect(after.counts).toMatchObject({ delete: 0, waiting: 0, withdraw: 0, warn: 4 });
    expect(after.warn.map((item) => item.object).sort()).toEqual(setPackages.slice(0, 4));
  });

  it('answers many dry runs at once (each holds a connection of its own: unbounded, they would take the whole pool and wait on it)', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => server.admin.request<CleanupPreview>('GET', '/api/v1/cleanup?limit=5')));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.counts.warn).toBe(4);
    }
  }, 60_000);
});
