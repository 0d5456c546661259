// Repodata built from cached chunks and from member lists brought up to date by the change log
// (server/repodata) is byte for byte the document a from-scratch concatenation gives: after
// promotions, an obsolete set, new packages and a changed fragment, for level and set repositories,
// and again after a restart with an empty cache.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentHead, documentTail, repodataKinds } from '../../common/repodata/document.ts';
import { parseRepomd } from '../../common/repodata/parse.ts';
import { loadCorpus, type LoadedCorpus } from '../../bench/support/load.ts';
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

/** The documents as the repository's members' fragments concatenated in order, straight from SQL. */
async function expectedDocuments(where: 'level' | 'set', value: string | number) {
  const sql = server.database.sql;
  const rows =
    where === 'level'
      ? await sql<{ primary_xml: string; filelists_xml: string; other_xml: string }[]>`
          select r.primary_xml, r.filelists_xml, r.other_xml from packages p join package_repodata r on r.package_id = p.id
          where p.level_rank >= ${value} and not p.is_source order by p.name collate "C", p.id`
      : await sql<{ primary_xml: string; filelists_xml: string; other_xml: string }[]>`
          select r.primary_xml, r.filelists_xml, r.other_xml from package_sets s join package_set_members m on m.set_id = s.id
          join packages p on p.id = m.package_id join package_repodata r on r.package_id = p.id
          where s.name = ${value} and not p.is_source order by p.name collate "C", p.id`;
  const column = { primary: 'primary_xml', filelists: 'filelists_xml', other: 'other_xml' } as const;
  return Object.fromEntries(
    repodataKinds.map((kind) => [kind, documentHead(kind, rows.length) + rows.map((row) => row[column[kind]]).join('') + documentTail(kind)]),
  ) as Record<(typeof repodataKinds)[number], string>;
}

/** Fetches a repository's three documents, checking each against its repomd record. */
async function servedDocuments(repoPath: string) {
  const repomd = await parseRepomd(Buffer.from(await (await fetch(`${server.url}${repoPath}repodata/repomd.xml`)).arrayBuffer()));
  const documents = {} as Record<(typeof repodataKinds)[number], string>;
  for (const record of repomd.records) {
    const bytes = Buffer.from(await (await fetch(`${server.url}${repoPath}${record.href}`)).arrayBuffer());
    const open = gunzipSync(bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(record.checksum);
    expect(createHash('sha256').update(open).digest('hex')).toBe(record.openChecksum);
    expect(open.length).toBe(record.openSize);
    documents[record.type as (typeof repodataKinds)[number]] = open.toString('utf8');
  }
  return documents;
}

const levels = { integ: 0, qa_ready: 1, pre_release: 2 } as const;

async function expectAllRepositoriesRight() {
  for (const [level, rank] of Object.entries(levels)) {
    expect(await servedDocuments(`/repo/level/${level}/`), level).toEqual(await expectedDocuments('level', rank));
  }
  for (const name of ['big', 'small']) {
    expect(await servedDocuments(`/repo/set/${name}/1/`), name).toEqual(await expectedDocuments('set', name));
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
    expect((await servedDocuments('/repo/level/qa_ready/')).other).toContain('Initial package, rebuilt');
  });

  it('again after a restart with an empty repodata cache', async () => {
    await rm(path.join(server.dataDir, 'repodata'), { recursive: true, force: true });
    await server.restart();
    await expectAllRepositoriesRight();
  });
});
