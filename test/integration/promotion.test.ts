// The package-set life cycle through the real HTTP API: every cell of the role × target-level matrix,
// forbidden steps, the history, level repositories following promotions (read back from the served
// repodata), sources following binaries, concurrent promotions, and product channels.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRpmgateError } from '../../common/errors.ts';
import type { ApiClient } from '../../common/http-client.ts';
import type { Role } from '../../common/roles.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
const clients = new Map<Role, ApiClient>();
const allRoles: Role[] = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'];

/** INTERFACE.md's promotion matrix. */
const allowed: Record<string, Role[]> = {
  qa_ready: ['integ', 'admin'],
  pre_release: ['qa', 'release_manager', 'admin'],
  release: ['release_manager', 'admin'],
  obsolete: ['cpe', 'release_manager', 'admin'],
};
const previous: Record<string, string | null> = { qa_ready: 'integ', pre_release: 'qa_ready', release: 'pre_release', obsolete: null };
const path = ['qa_ready', 'pre_release', 'release'];

interface SetDocument {
  id: string;
  level: string;
  history: { from: string; to: string; by: string; at: string; comment: string }[];
}

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  for (const role of allRoles) clients.set(role, await server.clientFor(role, `${role}-user`));
  const uploader = clients.get('integ')!;
  for (const fixture of fixtures.packages) await uploader.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
});
afterAll(async () => {
  await server?.close();
});

let counter = 0;
async function freshSet(level: string, packages = ['rg-epoch-3:1.5-2.noarch'], name = 'matrix'): Promise<string> {
  const version = `${++counter}`;
  await server.admin.post('/api/v1/sets', { name, version, packages });
  for (const step of path.slice(0, path.indexOf(level) + 1)) await promote(server.admin, `${name}/${version}`, step);
  return `${name}/${version}`;
}

function promote(client: ApiClient, id: string, level: string, comment = '') {
  return client.post<SetDocument>(`/api/v1/sets/${id}/promote`, { level, comment });
}

async function statusOf(promise: Promise<{ status: number }>): Promise<number> {
  try {
    return (await promise).status;
  } catch (error) {
    if (isRpmgateError(error)) return error.status;
    throw error;
  }
}

describe('the promotion matrix', () => {
  const cells = Object.keys(allowed).flatMap((target) => allRoles.map((role) => ({ role, target, ok: allowed[target]!.includes(role) })));

  it.each(cells)('$role promoting to $target: allowed=$ok', async ({ role, target, ok }) => {
    const id = await freshSet(previous[target] ?? 'integ');
    let status: number;
    let detail = '';
    try {
      status = (await promote(clients.get(role)!, id, target)).status;
    } catch (error) {
      if (!isRpmgateError(error)) throw error;
      status = error.status;
      detail = error.message;
    }
    expect(status).toBe(ok ? 200 : 403);
    if (!ok) {
      // The 403 names the caller's role and exactly the roles allowed for that level.
      expect(detail).toContain(`role ${role} may not promote to ${target}; allowed: ${allowed[target]!.join(', ')}`);
    }
    const { body } = await server.admin.get<SetDocument>(`/api/v1/sets/${id}`);
    expect(body.level).toBe(ok ? target : (previous[target] ?? 'integ'));
  });

  it('a 403 names the roles allowed for that level', async () => {
    const id = await freshSet('pre_release');
    try {
      await promote(clients.get('qa')!, id, 'release');
      throw new Error('qa promoted to release');
    } catch (error) {
      if (!isRpmgateError(error)) throw error;
      expect(error.status).toBe(403);
      expect(error.message).toContain('release_manager, admin');
      expect(error.extra.allowedRoles).toEqual(['release_manager', 'admin']);
    }
  });

  it.each([
    ['integ', 'pre_release'],
    ['integ', 'release'],
    ['qa_ready', 'release'],
    ['pre_release', 'qa_ready'],
    ['release', 'qa_ready'],
    ['release', 'pre_release'],
  ])('from %s to %s is not a forward step: 409', async (from, to) => {
    const id = await freshSet(from);
    expect(await statusOf(promote(server.admin, id, to))).toBe(409);
  });

  it.each(['integ', 'qa_ready', 'pre_release', 'release'])('obsolete is reachable from %s, and final', async (from) => {
    const id = await freshSet(from);
    expect(await statusOf(promote(clients.get('cpe')!, id, 'obsolete'))).toBe(200);
    for (const level of ['qa_ready', 'pre_release', 'release', 'obsolete']) {
      expect(await statusOf(promote(server.admin, id, level))).toBe(409);
    }
  });

  it('refuses a level that is not one (400) and an unknown set (404)', async () => {
    const id = await freshSet('integ');
    expect(await statusOf(promote(server.admin, id, 'integ'))).toBe(400);
    expect(await statusOf(promote(server.admin, id, 'gold'))).toBe(400);
    expect(await statusOf(promote(server.admin, 'matrix/none', 'qa_ready'))).toBe(404);
  });
});

describe('history', () => {
  it('records who, when, from, to and the comment of every promotion', async () => {
    const before = Date.now();
    await server.admin.post('/api/v1/sets', { name: 'history', version: '1', packages: ['rg-epoch-3:1.5-2.noarch'] });
    await promote(clients.get('integ')!, 'history/1', 'qa_ready', 'integration green');
    await promote(clients.get('qa')!, 'history/1', 'pre_release', 'qa signed off');
    const { body } = await clients.get('developer')!.get<SetDocument>('/api/v1/sets/history/1');
    expect(body.level).toBe('pre_release');
    expect(body.history.map(({ at: _at, ...step }) => step)).toEqual([
      { from: 'integ', to: 'qa_ready', by: 'integ-user', comment: 'integration green' },
      { from: 'qa_ready', to: 'pre_release', by: 'qa-user', comment: 'qa signed off' },
    ]);
    for (const step of body.history) expect(Date.parse(step.at)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('two concurrent promotions of one set: one succeeds, the other gets 409, one history entry', async () => {
    await server.admin.post('/api/v1/sets', { name: 'race', version: '1', packages: ['rg-epoch-3:1.5-2.noarch'] });
    const statuses = await Promise.all([
      statusOf(promote(clients.get('integ')!, 'race/1', 'qa_ready', 'a')),
      statusOf(promote(server.admin, 'race/1', 'qa_ready', 'b')),
    ]);
    expect(statuses.sort()).toEqual([200, 409]);
    const { body } = await server.admin.get<SetDocument>('/api/v1/sets/race/1');
    expect(body.history).toHaveLength(1);
    expect(body.level).toBe('qa_ready');
  });

  it('promotions to different levels racing: the history stays a chain that ends at the set\'s level', async () => {
    // qa_ready and obsolete are both legal from integ: each race ends in one of three ways (one
    // refused by the compare-and-set, or both applied in either order), never in a broken history.
    for (let round = 0; round < 10; round++) {
      await server.admin.post('/api/v1/sets', { name: 'race2', version: String(round), packages: ['rg-epoch-3:1.5-2.noarch'] });
      const statuses = await Promise.all([
        statusOf(promote(clients.get('integ')!, `race2/${round}`, 'qa_ready')),
        statusOf(promote(clients.get('cpe')!, `race2/${round}`, 'obsolete')),
      ]);
      for (const status of statuses) expect([200, 409]).toContain(status);
      const { body } = await server.admin.get<SetDocument>(`/api/v1/sets/race2/${round}`);
      expect(body.history).toHaveLength(statuses.filter((status) => status === 200).length);
      let level = 'integ';
      for (const step of body.history) {
        expect(step.from).toBe(level);
        level = step.to;
      }
      expect(body.level).toBe(level);
    }
  });
});

/** Names (name-version) of the packages a served repository holds, read from its repodata. */
async function served(repoPath: string): Promise<string[]> {
  return (await fetchPrimaryEntries(`${server.url}${repoPath}`)).map((entry) => `${entry.name}-${entry.version.ver}`).sort();
}

describe('level repositories follow promotions', () => {
  it('a package rises with its set and leaves every level repository when its only set is obsolete', async () => {
    const hello = 'rg-hello-2.0-1.noarch';
    await server.admin.post('/api/v1/sets', { name: 'levels', version: '1', packages: [hello], noSources: true });
    expect(await served('/repo/level/integ/')).toContain('rg-hello-2.0');
    expect(await served('/repo/level/qa_ready/')).not.toContain('rg-hello-2.0');

    await promote(clients.get('integ')!, 'levels/1', 'qa_ready');
    expect(await served('/repo/level/qa_ready/')).toContain('rg-hello-2.0');
    expect(await served('/repo/level/integ/')).toContain('rg-hello-2.0');
    expect(await served('/repo/level/pre_release/')).not.toContain('rg-hello-2.0');
    // The source follows its binary, though the set does not hold it.
    expect(await served('/repo/level/qa_ready/source/')).toContain('rg-hello-2.0');

    const detail = await clients.get('developer')!.get<{ level: string; sets: string[] }>(`/api/v1/packages/${hello}`);
    expect(detail.body).toMatchObject({ level: 'qa_ready', sets: ['levels/1'] });
    const source = await clients.get('developer')!.get<{ level: string; sets: string[] }>('/api/v1/packages/rg-hello-2.0-1.src');
    expect(source.body).toMatchObject({ level: 'qa_ready', sets: [] });

    await promote(clients.get('qa')!, 'levels/1', 'pre_release');
    await promote(clients.get('release_manager')!, 'levels/1', 'release');
    for (const level of ['integ', 'qa_ready', 'pre_release', 'release']) {
      expect(await served(`/repo/level/${level}/`), level).toContain('rg-hello-2.0');
    }
    await promote(clients.get('cpe')!, 'levels/1', 'obsolete');
    expect((await server.admin.get<{ level: string }>(`/api/v1/packages/${hello}`)).body.level).toBe('obsolete');
    for (const level of ['integ', 'qa_ready', 'pre_release', 'release']) {
      expect(await served(`/repo/level/${level}/`), level).not.toContain('rg-hello-2.0');
      expect(await served(`/repo/level/${level}/source/`), level).not.toContain('rg-hello-2.0');
    }
    expect((await fetch(`${server.url}/repo/level/obsolete/repodata/repomd.xml`)).status).toBe(404);
  });

  it('a package held by two sets takes the higher level', async () => {
    const lib = 'rg-lib-2.1-1.x86_64';
    await server.admin.post('/api/v1/sets', { name: 'two', version: '1', packages: [lib] });
    await server.admin.post('/api/v1/sets', { name: 'two', version: '2', packages: [lib] });
    await promote(server.admin, 'two/1', 'qa_ready');
    await promote(server.admin, 'two/1', 'pre_release');
    await promote(server.admin, 'two/2', 'qa_ready');
    expect(await served('/repo/level/pre_release/')).toContain('rg-lib-2.1');
    await promote(server.admin, 'two/1', 'obsolete');
    expect(await served('/repo/level/pre_release/')).not.toContain('rg-lib-2.1');
    expect(await served('/repo/level/qa_ready/')).toContain('rg-lib-2.1');
  });
});

describe('product channels', () => {
  it('finds the newest version at or above a level, and the channel repository follows it', async () => {
    const [v1, v2] = fixtures.allNamed('rg-hello');
    await server.admin.post('/api/v1/sets', { name: 'channel', version: '1.9', packages: [v1!.nevra] });
    await server.admin.post('/api/v1/sets', { name: 'channel', version: '1.10', packages: [v2!.nevra] });
    await promote(server.admin, 'channel/1.9', 'qa_ready');

    const { body } = await clients.get('qa')!.get<SetDocument[]>('/api/v1/sets?name=channel&level=qa_ready');
    expect(body.map((s) => s.id)).toEqual(['channel/1.9']);
    expect(await served('/repo/set/channel/latest/qa_ready/')).toEqual([`rg-hello-${v1!.version}`]);
    const repoFile = await (await fetch(`${server.url}/repo/set/channel/latest/qa_ready.repo`)).text();
    expect(repoFile).toContain(`baseurl=${server.url}/repo/set/channel/latest/qa_ready/`);

    // 1.10 is newer than 1.9 by rpm's version order (not by text order).
    await promote(server.admin, 'channel/1.10', 'qa_ready');
    const after = await clients.get('qa')!.get<SetDocument[]>('/api/v1/sets?name=channel&level=qa_ready');
    expect(after.body.map((s) => s.id)).toEqual(['channel/1.10', 'channel/1.9']);
    expect(await served('/repo/set/channel/latest/qa_ready/')).toEqual([`rg-hello-${v2!.version}`]);
  });

  it('a channel with no set at that level is 404', async () => {
    expect((await fetch(`${server.url}/repo/set/channel/latest/release/repodata/repomd.xml`)).status).toBe(404);
  });
});
