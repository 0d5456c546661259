// Debian's real dnf installing from rpmgate over HTTP, in throwaway installroots, with gpgcheck and
// repo_gpgcheck on: a set repository pins exact versions though newer ones exist at the level; a level
// repository changes on the next makecache after a promotion; a channel moves to the newer set.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { toolsRequired } from '../support/requirements.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** dnf end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

let server: TestServer;
let fixtures: FixtureSet;
const roots: DnfRoot[] = [];

beforeAll(async () => {
  if (!availability.ok) return;
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  const integ = await server.clientFor('integ');
  for (const fixture of fixtures.packages) await integ.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
  const hello = fixtures.allNamed('rg-hello').map((p) => p.nevra);
  await integ.post('/api/v1/sets', { name: 'demo', version: '1', packages: [hello[0], fixtures.byName('rg-epoch').nevra] });
  await integ.post('/api/v1/sets', { name: 'demo', version: '2', packages: [hello[2], fixtures.byName('rg-epoch').nevra] });
  await integ.post('/api/v1/sets/demo/1/promote', { level: 'qa_ready' });
});
afterEach(async () => {
  for (const root of roots.splice(0)) await root.cleanup();
});
afterAll(async () => {
  await server?.close();
});

async function newRoot(): Promise<DnfRoot> {
  const root = await createDnfRoot();
  roots.push(root);
  return root;
}

/** Options that make dnf check both the packages' and the metadata's signatures against the server's key. */
function signed(): string[] {
  return ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`];
}

describe.skipIf(!availability.ok)('dnf against rpmgate', () => {
  it('installs the set version from a set repository though newer versions are at the level', async () => {
    const root = await newRoot();
    await root.dnf(['install', 'rg-hello'], { repoUrl: `${server.url}/repo/set/demo/1/`, setopts: signed() });
    expect(await root.installed()).toEqual(['rg-hello-1.0-1.noarch']);

    const other = await newRoot();
    await other.dnf(['install', 'rg-hello'], { repoUrl: `${server.url}/repo/level/integ/`, setopts: signed() });
    // rpm's order: 3.0~rc1 > 2.0^git1 > 2.0 > 1.0.
    expect(await other.installed()).toEqual(['rg-hello-3.0~rc1-1.noarch']);
  });

  it('downloads a version with ^ (requested percent-encoded) from a set repository', async () => {
    const root = await newRoot();
    await root.dnf(['install', 'rg-hello'], { repoUrl: `${server.url}/repo/set/demo/2/`, setopts: signed() });
    expect(await root.installed()).toEqual(['rg-hello-2.0^git1-1.noarch']);
  });

  it('sees a promotion on the next makecache of a level repository', async () => {
    const root = await newRoot();
    const qaReady = `${server.url}/repo/level/qa_ready/`;
    await root.dnf(['install', 'rg-hello'], { repoUrl: qaReady, setopts: signed() });
    expect(await root.installed()).toContain('rg-hello-1.0-1.noarch');

    await server.admin.post('/api/v1/sets/demo/2/promote', { level: 'qa_ready' });
    // --refresh rather than metadata_expire=0: libdnf counts metadata as expired only once its age
    // exceeds metadata_expire in whole seconds, so within the second of the last fetch it is still fresh.
    await root.dnf(['--refresh', 'makecache'], { repoUrl: qaReady, setopts: signed() });
    await root.dnf(['upgrade', 'rg-hello'], { repoUrl: qaReady, setopts: signed() });
    expect(await root.installed()).toContain('rg-hello-2.0^git1-1.noarch');
  });

  it('a host on a channel gets the newer set after its promotion', async () => {
    const integ = await server.clientFor('integ');
    const hello = fixtures.allNamed('rg-hello').map((p) => p.nevra);
    await integ.post('/api/v1/sets', { name: 'chan', version: '1.9', packages: [hello[0]] });
    await integ.post('/api/v1/sets', { name: 'chan', version: '1.10', packages: [hello[1]] });
    await integ.post('/api/v1/sets/chan/1.9/promote', { level: 'qa_ready' });

    const root = await newRoot();
    const channel = `${server.url}/repo/set/chan/latest/qa_ready/`;
    await root.dnf(['install', 'rg-hello'], { repoUrl: channel, setopts: signed() });
    expect(await root.installed()).toEqual([hello[0]]);

    await integ.post('/api/v1/sets/chan/1.10/promote', { level: 'qa_ready' });
    await root.dnf(['--refresh', 'upgrade', 'rg-hello'], { repoUrl: channel, setopts: signed() });
    expect(await root.installed()).toEqual([hello[1]]);
  });

  it('installs a package with dependencies from a set made with resolve', async () => {
    const integ = await server.clientFor('integ');
    const { status } = await integ.post('/api/v1/sets', { name: 'app', version: '1', packages: [fixtures.byName('rg-app').nevra], resolve: true });
    expect(status).toBe(201);
    const root = await newRoot();
    await root.dnf(['install', 'rg-app'], { repoUrl: `${server.url}/repo/set/app/1/`, setopts: signed() });
    const installed = await root.installed();
    expect(installed).toContain(fixtures.byName('rg-app').nevra);
    expect(installed).toContain('rg-lib-2.1-1.x86_64');
  });
});
