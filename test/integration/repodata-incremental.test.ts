// Repodata built from cached chunks and from member lists brought up to date by the change log
// (server/repodata) is byte for byte the document a from-scratch concatenation gives: after
// promotions, an obsolete set, new packages and a changed fragment, for level and set repositories,
// and again after a restart with an empty cache.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, type LoadedCorpus } from '../../bench/support/load.ts';
import { renderFromDatabase } from '../support/repodata-from-database.ts';
import { fetchServedDocuments } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let corpus: LoadedCorpus;
let signedBy: string;

beforeAll(async () => {
  server = await startTestServer();
  signedBy = server.server.context.keyring.current().info.fingerprint;
  // ≈ 5 chunks (a chunk ends at a digest starting with a zero byte: 1 package in 256).
  // Signed by the server's key, as uploads would be: nothing for the background re-signing to do.
  corpus = await loadCorpus(server.database.sql, 1200, { signedBy });
  await createSet('big', corpus.nevras.slice(0, 1000));
  await createSet('small', corpus.nevras.slice(1000, 1050));
  await createSet('doomed', corpus.nevras.slice(1050, 1150));
});
afterAll(async () => {
  await server?.close();
});

async function createSet(name: string, packages: string[]) {
  const { status } = await server.admin.post('/api/v1/sets', { name, version: '1', packages, allowUnresolved: true, noSources: true });
  expect(status).toBe(201);
}

async function promote(name: string, level: string) {
  const { status } = await server.admin.post(`/api/v1/sets/${name}/1/promote`, { level });
  expect(status).toBe(200);
}

const levels = { integ: 0, qa_ready: 1, pre_release: 2 } as const;

async function expectAllRepositoriesRight() {
  const sql = server.database.sql;
  for (const [level, rank] of Object.entries(levels)) {
    const expected = await renderFromDatabase(sql, { kind: 'level', rank, source: false });
    expect(await fetchServedDocuments(`${server.url}/repo/level/${level}/`), level).toEqual(expected);
  }
  for (const name of ['big', 'small']) {
    const expected = await renderFromDatabase(sql, { kind: 'set', name, version: '1', source: false });
    expect(await fetchServedDocuments(`${server.url}/repo/set/${name}/1/`), name).toEqual(expected);
  }
}

describe('chunked, incremental repodata', () => {
  it('matches a from-scratch concatenation before any change', async () => {
    await expectAllRepositoriesRight();
  });

  it('after promotions, one moving 1,000 packages at once', async () => {
    await promote('big', 'qa_ready');
    await expectAllRepositoriesRight();
    await promote('small', 'qa_ready');
    await promote('small', 'pre_release');
    await expectAllRepositoriesRight();
  });

  it('after a set becomes obsolete and new packages arrive', async () => {
    await promote('doomed', 'obsolete');
    await loadCorpus(server.database.sql, 30, { first: 1200, signedBy });
    await expectAllRepositoriesRight();
  });

  it('after a fragment changes (as re-signing rewrites it)', async () => {
    const sql = server.database.sql;
    const [member] = await sql<{ id: number }[]>`select id from packages where nevra = ${corpus.nevras[10]!}`;
    await sql`update package_repodata set other_xml = replace(other_xml, 'Initial package', 'Initial package, rebuilt') where package_id = ${member!.id}`;
    // What re-signing does besides: every repository's generation moves.
    await sql`update repo_generations set generation = generation + 1, changed_at = now()`;
    // The server learns of a change made behind its back by notification, a moment later: wait for it.
    await server.server.context.repositories.refresh();
    await expectAllRepositoriesRight();
    expect((await fetchServedDocuments(`${server.url}/repo/level/qa_ready/`)).other).toContain('Initial package, rebuilt');
  });

  it('again after a restart with an empty repodata cache', async () => {
    await rm(path.join(server.dataDir, 'repodata'), { recursive: true, force: true });
    await server.restart();
    await expectAllRepositoriesRight();
  });
});
