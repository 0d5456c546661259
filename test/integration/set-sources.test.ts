// Source packages follow their binaries whichever arrived first: an SRPM uploaded after its binaries'
// set was sealed is in the set's and the channel's source repository (unless the set was made with
// noSources), takes the highest level of its own sets and its binaries, and deleting a set moves what
// the level repositories hold at once.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;

async function upload(predicate: (p: FixtureSet['packages'][number]) => boolean) {
  for (const fixture of fixtures.packages.filter(predicate)) {
    const { status } = await server.admin.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
    expect(status, fixture.fileName).toBeLessThan(300);
  }
}

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  // Binaries only, to begin with.
  await upload((p) => !p.isSource && ['rg-hello', 'rg-lib', 'rg-epoch'].includes(p.name));
});
afterAll(async () => {
  await server?.close();
});

async function served(repoPath: string): Promise<string[]> {
  return (await fetchPrimaryEntries(`${server.url}${repoPath}`)).map((entry) => `${entry.name}-${entry.version.ver}-${entry.version.rel}.${entry.arch}`).sort();
}

async function packageDetail(nevra: string) {
  return (await server.admin.get<{ level: string; sets: string[] }>(`/api/v1/packages/${encodeURIComponent(nevra)}`)).body;
}

describe('a source uploaded after its binaries\' set', () => {
  it('joins the set\'s and the channel\'s source repositories, not those of a set made with noSources', async () => {
    await server.admin.post('/api/v1/sets', { name: 'late', version: '1', packages: ['rg-hello-1.0-1.noarch', 'rg-lib-2.1-1.x86_64'] });
    await server.admin.post('/api/v1/sets', { name: 'bare', version: '1', packages: ['rg-hello-1.0-1.noarch'], noSources: true });
    await server.admin.post('/api/v1/sets/late/1/promote', { level: 'qa_ready' });
    expect(await served('/repo/set/late/1/source/')).toEqual([]);
    // Asked for before the sources exist: the cached answers must move when they arrive.
    expect(await served('/repo/set/late/latest/qa_ready/source/')).toEqual([]);

    await upload((p) => p.isSource && ['rg-hello', 'rg-lib'].includes(p.name));
    const sources = ['rg-hello-1.0-1.src', 'rg-lib-2.1-1.src'];
    expect(await served('/repo/set/late/1/source/')).toEqual(sources);
    expect(await served('/repo/set/late/latest/qa_ready/source/')).toEqual(sources);
    expect(await served('/repo/level/qa_ready/source/')).toEqual(expect.arrayContaining(sources));
    expect(await served('/repo/set/bare/1/source/')).toEqual([]);
    // Binaries stay where they were.
    expect(await served('/repo/set/late/1/')).toEqual(['rg-hello-1.0-1.noarch', 'rg-lib-2.1-1.x86_64']);

    // The SRPM is downloadable from the set's source repository, at the href its primary names.
    for (const entry of await fetchPrimaryEntries(`${server.url}/repo/set/late/1/source/`)) {
      expect((await fetch(`${server.url}/repo/set/late/1/source/${entry.location.href}`, { method: 'HEAD' })).status).toBe(200);
    }

    expect(await packageDetail('rg-hello-1.0-1.src')).toMatchObject({ level: 'qa_ready', sets: ['late/1'] });
  });

  it('takes the highest level of its own sets and its binaries', async () => {
    await upload((p) => p.isSource && p.name === 'rg-epoch');
    const source = fixtures.packages.find((p) => p.isSource && p.name === 'rg-epoch')!.nevra;
    await server.admin.post('/api/v1/sets', { name: 'epoch-bin', version: '1', packages: ['rg-epoch-3:1.5-2.noarch'], noSources: true });
    await server.admin.post('/api/v1/sets/epoch-bin/1/promote', { level: 'qa_ready' });
    expect((await packageDetail(source)).level).toBe('qa_ready');
    // Its own set above its binaries' level.
    await server.admin.post('/api/v1/sets', { name: 'epoch-src', version: '1', packages: [source] });
    for (const level of ['qa_ready', 'pre_release']) await server.admin.post('/api/v1/sets/epoch-src/1/promote', { level });
    expect((await packageDetail(source)).level).toBe('pre_release');
    expect(await served('/repo/level/pre_release/source/')).toContain(source.replace(/^rg-epoch-3:/, 'rg-epoch-'));
    // And back to its binaries' level when that set is obsolete.
    await server.admin.post('/api/v1/sets/epoch-src/1/promote', { level: 'obsolete' });
    expect((await packageDetail(source)).level).toBe('qa_ready');
  });
});

describe('deleting a set', () => {
  it('moves its packages\' levels and the level repositories in the deleting transaction', async () => {
    await server.admin.post('/api/v1/sets', { name: 'doomed', version: '1', packages: ['rg-hello-2.0-1.noarch'], noSources: true });
    await server.admin.post('/api/v1/sets/doomed/1/promote', { level: 'qa_ready' });
    expect(await served('/repo/level/qa_ready/')).toContain('rg-hello-2.0-1.noarch');
    expect((await packageDetail('rg-hello-2.0-1.noarch')).level).toBe('qa_ready');

    await server.database.sql`delete from package_sets where name = 'doomed' and version = '1'`;
    expect(await packageDetail('rg-hello-2.0-1.noarch')).toMatchObject({ level: 'integ', sets: [] });
    // Deleted behind the server's back (as another server would): it learns by notification.
    let holds = true;
    for (const deadline = Date.now() + 5000; holds && Date.now() < deadline; ) {
      holds = (await served('/repo/level/qa_ready/')).includes('rg-hello-2.0-1.noarch');
      if (holds) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(holds).toBe(false);
    expect((await fetch(`${server.url}/repo/set/doomed/1/repodata/repomd.xml`)).status).toBe(404);
  });
});
