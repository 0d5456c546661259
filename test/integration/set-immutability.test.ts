// A set version keeps its meaning in the database itself (sql/0009), whatever SQL is run directly:
// a released set is never deleted, a deleted set leaves a tombstone that refuses the same NAME/VERSION
// again, TRUNCATE is refused, and a sealed set's members never change (sql/0002).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRpmgateError } from '../../common/errors.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;

const hello = 'rg-hello-1.0-1.noarch';
const epoch = 'rg-epoch-3:1.5-2.noarch';

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  for (const name of ['rg-hello', 'rg-epoch']) {
    for (const fixture of fixtures.packages.filter((p) => p.name === name)) {
      await server.admin.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
    }
  }
});
afterAll(async () => {
  await server?.close();
});

async function createSet(name: string, version: string, packages: string[]) {
  await server.admin.post('/api/v1/sets', { name, version, packages, noSources: true });
}

async function promoteTo(id: string, levels: string[]) {
  for (const level of levels) await server.admin.post(`/api/v1/sets/${id}/promote`, { level });
}

async function setId(name: string, version: string): Promise<number> {
  const [row] = await server.database.sql<{ id: number }[]>`select id from package_sets where name = ${name} and version = ${version}`;
  return row!.id;
}

/** The SQL of a direct re-creation, as a script or an operator would write it, sealed at the end. */
async function insertSealedSet(name: string, version: string, nevras: string[]) {
  await server.database.sql.begin(async (tx) => {
    const [set] = await tx<{ id: number }[]>`
      insert into package_sets (name, version, created_by) values (${name}, ${version}, 'sql') returning id`;
    await tx`insert into package_set_members (set_id, package_id) select ${set!.id}, id from packages where nevra = any(${nevras})`;
    await tx`update package_sets set sealed = true where id = ${set!.id}`;
  });
}

describe('deleting a set', () => {
  it('refuses to delete a set at release', async () => {
    await createSet('shipped', '1.0', [hello]);
    await promoteTo('shipped/1.0', ['qa_ready', 'pre_release', 'release']);
    const sql = server.database.sql;
    await expect(sql`delete from package_sets where name = 'shipped'`).rejects.toThrow(/shipped\/1\.0 was released: a released set is never deleted/);
    expect(await sql`select 1 from package_set_members where set_id = ${await setId('shipped', '1.0')}`).toHaveLength(1);
  });

  it('refuses to delete a set that was at release and is obsolete now', async () => {
    await createSet('retired', '1.0', [hello]);
    await promoteTo('retired/1.0', ['qa_ready', 'pre_release', 'release', 'obsolete']);
    const sql = server.database.sql;
    // Not even with its promotion history gone first.
    await sql`delete from set_promotions where set_id = ${await setId('retired', '1.0')}`;
    await expect(sql`delete from package_sets where name = 'retired'`).rejects.toThrow(/a released set is never deleted/);
    await expect(sql`update package_sets set released_at = null where name = 'retired'`).rejects.toThrow(/released_at is kept/);
  });

  it('deletes an integ set and leaves a tombstone with the digest of its members', async () => {
    await createSet('scratch', '1.0', [hello, epoch]);
    const sql = server.database.sql;
    await sql`delete from package_sets where name = 'scratch' and version = '1.0'`;
    expect(await sql`select 1 from package_sets where name = 'scratch'`).toHaveLength(0);
    const [tombstone] = await sql<{ level: string; member_count: number; members_sha256: string; deleted_at: Date }[]>`
      select level, member_count, members_sha256, deleted_at from package_set_tombstones where name = 'scratch' and version = '1.0'`;
    const members = await sql<{ nevra: string; original_sha256: string }[]>`
      select nevra, original_sha256 from packages where nevra in (${hello}, ${epoch}) order by nevra`;
    const lines = members.map((m) => `${m.nevra} ${m.original_sha256}`).join('\n');
    expect(tombstone).toMatchObject({ level: 'integ', member_count: 2, members_sha256: createHash('sha256').update(lines).digest('hex') });
    expect(tombstone!.deleted_at).toBeInstanceOf(Date);
  });

  it('deletes a qa_ready set too', async () => {
    await createSet('scratch', '2.0', [hello]);
    await promoteTo('scratch/2.0', ['qa_ready']);
    await server.database.sql`delete from package_sets where name = 'scratch' and version = '2.0'`;
    expect(await server.database.sql`select level from package_set_tombstones where name = 'scratch' and version = '2.0'`).toEqual([{ level: 'qa_ready' }]);
  });
});

describe('a deleted NAME/VERSION', () => {
  it('cannot be created again by SQL, with other members or the same', async () => {
    await createSet('reborn', '1.0', [hello]);
    await server.database.sql`delete from package_sets where name = 'reborn'`;
    const refusal = /package set reborn\/1\.0 existed before and was deleted; a version never changes meaning, use a new version/;
    await expect(insertSealedSet('reborn', '1.0', [epoch])).rejects.toThrow(refusal);
    await expect(insertSealedSet('reborn', '1.0', [hello])).rejects.toThrow(refusal);
    expect(await server.database.sql`select 1 from package_sets where name = 'reborn'`).toHaveLength(0);
    // A new version of the product is fine.
    await insertSealedSet('reborn', '1.1', [epoch]);
  });

  it('cannot be created again through the API: 409 with the reason', async () => {
    await createSet('again', '1.0', [hello]);
    await server.database.sql`delete from package_sets where name = 'again'`;
    const error = await server.admin.post('/api/v1/sets', { name: 'again', version: '1.0', packages: [epoch] }).then(
      () => null,
      (e: unknown) => (isRpmgateError(e) ? e : Promise.reject(e)),
    );
    expect(error).toMatchObject({ status: 409, code: 'conflict' });
    expect(error!.message).toBe('package set again/1.0 existed before and was deleted; a version never changes meaning, use a new version');
    // Nor respelled as a version rpm orders the same.
    const respelled = await server.admin.post('/api/v1/sets', { name: 'again', version: '1.00', packages: [epoch] }).then(
      () => null,
      (e: unknown) => (isRpmgateError(e) ? e : Promise.reject(e)),
    );
    expect(respelled).toMatchObject({ status: 409, code: 'conflict' });
    expect(respelled!.message).toContain('again/1.0 existed before and was deleted, and rpm orders 1.00 as the same version');
  });

  it('keeps its tombstone: the tombstone cannot be updated, deleted or truncated', async () => {
    await createSet('buried', '1.0', [hello]);
    const sql = server.database.sql;
    await sql`delete from package_sets where name = 'buried'`;
    await expect(sql`delete from package_set_tombstones where name = 'buried'`).rejects.toThrow(/permanent/);
    await expect(sql`update package_set_tombstones set version = '1.0-gone' where name = 'buried'`).rejects.toThrow(/permanent/);
    await expect(sql`truncate package_set_tombstones`).rejects.toThrow(/cannot be truncated/);
    expect(await sql`select 1 from package_set_tombstones where name = 'buried'`).toHaveLength(1);
  });
});

describe('TRUNCATE', () => {
  it('is refused on package_sets and package_set_members', async () => {
    await createSet('kept', '1.0', [hello]);
    const sql = server.database.sql;
    await expect(sql`truncate package_set_members`).rejects.toThrow(/package_set_members cannot be truncated/);
    await expect(sql`truncate package_sets cascade`).rejects.toThrow(/package_sets cannot be truncated/);
    await expect(sql`truncate package_sets, package_set_members, set_promotions, hosts cascade`).rejects.toThrow(/cannot be truncated/);
    expect(await sql`select 1 from package_set_members where set_id = ${await setId('kept', '1.0')}`).toHaveLength(1);
  });
});

describe("a sealed set's members", () => {
  it('cannot be updated, deleted or added to', async () => {
    await createSet('sealed', '1.0', [hello]);
    const sql = server.database.sql;
    const id = await setId('sealed', '1.0');
    const [other] = await sql<{ id: number }[]>`select id from packages where nevra = ${epoch}`;
    await expect(sql`update package_set_members set package_id = ${other!.id} where set_id = ${id}`).rejects.toThrow(/cannot change/);
    await expect(sql`delete from package_set_members where set_id = ${id}`).rejects.toThrow(/cannot change/);
    await expect(sql`insert into package_set_members (set_id, package_id) values (${id}, ${other!.id})`).rejects.toThrow(/sealed/);
    await expect(sql`update package_sets set sealed = false where id = ${id}`).rejects.toThrow(/sealed/);
    expect(await sql`select p.nevra from package_set_members m join packages p on p.id = m.package_id where m.set_id = ${id}`).toEqual([{ nevra: hello }]);
  });
});
