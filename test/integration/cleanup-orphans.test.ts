// The orphan rule's exceptions, read through GET /api/v1/cleanup on the real server and database: a
// source package tied to a binary that a set holds is kept, one whose binaries are orphans too goes
// with them, and the agent's package (served at /repo/agent/, in no set) is never an orphan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupPreview } from '../../server/retention/preview.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { insertSyntheticPackage } from '../support/synthetic-package.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  const sql = server.database.sql;
  // Stored long ago (synthetic packages are dated 1970): old enough to be orphans.
  await insertSyntheticPackage(sql, { name: 'rg-kept', version: '1.0', arch: 'x86_64' });
  await insertSyntheticPackage(sql, { name: 'rg-kept', version: '1.0', isSource: true });
  await insertSyntheticPackage(sql, { name: 'rg-lost', version: '1.0', arch: 'x86_64' });
  await insertSyntheticPackage(sql, { name: 'rg-lost', version: '1.0', isSource: true });
  await insertSyntheticPackage(sql, { name: 'rpmgate-agent', version: '1.0', arch: 'noarch' });
  await server.admin.post('/api/v1/sets', { name: 'keeper', version: '1.0', packages: ['rg-kept-1.0-1.x86_64'], allowUnresolved: true, noSources: true });
});

afterAll(async () => {
  await server?.close();
});

describe('orphans', () => {
  it('are packages in no set, except a source of a kept binary and the agent package', async () => {
    const preview = (await server.admin.get<CleanupPreview>('/api/v1/cleanup')).body;
    expect(preview.warn.filter((w) => w.kind === 'package').map((w) => w.object).sort()).toEqual(['rg-lost-1.0-1.src', 'rg-lost-1.0-1.x86_64']);
    expect(preview.warn.find((w) => w.object === 'rg-lost-1.0-1.x86_64')!.reason).toBe('orphan: in no set, stored on 1970-01-01 (more than 30 days ago)');
  });
});
