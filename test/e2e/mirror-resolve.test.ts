// `set create --resolve` across the store and the mirrors, against an upstream made by the real tools
// (rpmbuild fixtures, createrepo_c, rpmsign with a vendor key) served on loopback: a requirement the
// store satisfies is taken from the store even when the upstream has a newer build; one only the
// upstream satisfies adopts the newest upstream build that does (verified, checked, signed by rpmgate,
// its SRPM tied), and what that one requires is resolved in turn; Debian's dnf then installs the set
// with gpgcheck and repo_gpgcheck.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { setSettled } from '../support/set-adoption.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { createVendorKey, makeUpstream, serveDirectory, type StaticServer, type Upstream, type VendorKey } from '../support/upstream-repo.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** mirror resolve end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

let fixtures: FixtureSet;
let vendor: VendorKey;
const upstreams: Upstream[] = [];
const https: StaticServer[] = [];
const servers: TestServer[] = [];
const roots: DnfRoot[] = [];

interface Added {
  nevra: string;
  level?: string;
  reason: string;
}

beforeAll(async () => {
  if (!availability.ok) return;
  [fixtures, vendor] = await Promise.all([buildFixtures(), createVendorKey()]);
  const hellos = ['rg-hello-1.0-1.noarch', 'rg-hello-2.0^git1-1.noarch', 'rg-hello-3.0~rc1-1.noarch'];
  const binaries = ['rg-app', 'rg-lib', 'rg-epoch'].map((name) => fixtures.byName(name).path).concat(hellos.map((nevra) => fixtures.byName(nevra).path));
  const sources = ['rg-app-1.0-1.src', 'rg-lib-2.1-1.src', 'rg-hello-3.0~rc1-1.src'].map((nevra) => fixtures.byName(nevra).path);
  const binary = await makeUpstream({ rpms: binaries, compress: 'gz', signPackagesWith: vendor, signRepomdWith: vendor });
  const source = await makeUpstream({ rpms: sources, compress: 'gz', signPackagesWith: vendor, signRepomdWith: vendor });
  upstreams.push(binary, source);
  for (const up of upstreams) https.push(await serveDirectory(up.dir));
}, 300_000);
afterEach(async () => {
  for (const root of roots.splice(0)) await root.cleanup();
});
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const http of https) await http.stop();
  for (const up of upstreams) await up.cleanup();
  await vendor?.cleanup();
});

/** A server with the vendor mirror synced and `uploads` stored. */
async function serverWith(uploads: string[]): Promise<TestServer> {
  const server = await startTestServer();
  servers.push(server);
  expect((await server.admin.post('/api/v1/mirrors', { name: 'vendor', baseurl: https[0]!.url, sourceBaseurl: https[1]!.url, key: vendor.publicKey })).status).toBe(201);
  expect((await server.admin.post('/api/v1/mirrors/vendor/sync', undefined)).status).toBe(200);
  for (const name of uploads) await server.admin.request('POST', '/api/v1/packages', { body: await readFile(fixtures.byName(name).path) });
  return server;
}

async function createResolved(server: TestServer, name: string, packages: string[]): Promise<Added[]> {
  const integ = await server.clientFor('integ');
  const { status, body } = await integ.request<{ added: Added[] }>('POST', '/api/v1/sets', {
    json: { name, version: '1', packages, resolve: true },
    accept: [422],
  });
  expect(status, JSON.stringify(body)).toBe(201);
  // Upstream members are adopted in the background; the set is complete once they are in.
  const settled = await setSettled(integ, `${name}/1`);
  expect(settled.complete, JSON.stringify(settled.pending)).toBe(true);
  return body.added;
}

const stored = async (server: TestServer, nevra: string) => (await server.database.sql`select 1 from packages where nevra = ${nevra}`).length > 0;

describe.skipIf(!availability.ok)('set create --resolve across store and mirrors', () => {
  it('takes from the store what the store satisfies, and adopts from the mirror only what it does not', async () => {
    const server = await serverWith(['rg-epoch', 'rg-hello-2.0-1.noarch']);
    const added = await createResolved(server, 'store-first', [fixtures.byName('rg-app').nevra]);
    // rg-app requires rg-lib-api >= 2.0 (only upstream), rg-hello >= 2.0 and /usr/bin/rg-hello (stored
    // 2.0; the upstream's 3.0~rc1 is newer but not needed), rg-epoch >= 3:1.0 (stored).
    expect(added).toContainEqual({ nevra: 'rg-app-1.0-1.noarch', reason: 'adopted from mirror vendor' });
    const lib = added.find((a) => a.nevra === 'rg-lib-2.1-1.x86_64');
    expect(lib?.reason, JSON.stringify(added)).toMatch(/^required by rg-app-1\.0-1\.noarch: rg-lib-api >= 2\.0 \(adopted from mirror vendor\)$/);
    expect(added.find((a) => a.nevra === 'rg-hello-2.0-1.noarch')?.reason).toMatch(/^required by rg-app-1\.0-1\.noarch: /);
    expect(added.find((a) => a.nevra.startsWith('rg-hello-') && a.reason.includes('mirror'))).toBeUndefined();
    expect(await stored(server, 'rg-hello-3.0~rc1-1.noarch')).toBe(false);
    const { body: set } = await server.admin.get<{ members: { nevra: string }[] }>('/api/v1/sets/store-first/1');
    expect(set.members.map((m) => m.nevra)).toEqual(
      expect.arrayContaining(['rg-app-1.0-1.noarch', 'rg-lib-2.1-1.x86_64', 'rg-hello-2.0-1.noarch', 'rg-epoch-3:1.5-2.noarch', 'rg-lib-2.1-1.src']),
    );
  });

  it('adopts the newest upstream build that satisfies, resolves what it requires in turn, and dnf installs the set', async () => {
    const server = await serverWith([]);
    const added = await createResolved(server, 'all-upstream', [fixtures.byName('rg-app').nevra]);
    const viaMirror = added.filter((a) => a.reason.startsWith('required by') && a.reason.endsWith('(adopted from mirror vendor)')).map((a) => a.nevra);
    expect(viaMirror.sort()).toEqual(['rg-epoch-3:1.5-2.noarch', 'rg-hello-3.0~rc1-1.noarch', 'rg-lib-2.1-1.x86_64']);
    // Older builds the upstream lists were not taken.
    expect(await stored(server, 'rg-hello-1.0-1.noarch')).toBe(false);
    expect(await stored(server, 'rg-hello-2.0^git1-1.noarch')).toBe(false);

    const root = await createDnfRoot();
    roots.push(root);
    await root.dnf(['install', 'rg-app'], {
      repoUrl: `${server.url}/repo/set/all-upstream/1/`,
      setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`],
    });
    expect(await root.installed()).toEqual(
      expect.arrayContaining(['rg-app-1.0-1.noarch', 'rg-lib-2.1-1.x86_64', 'rg-hello-3.0~rc1-1.noarch', 'rg-epoch-3:1.5-2.noarch']),
    );
  });

  it('without --resolve, a requirement only the upstream satisfies is reported unresolved and nothing more is adopted', async () => {
    const server = await serverWith(['rg-epoch']);
    const integ = await server.clientFor('integ');
    const { status, body } = await integ.request<{ detail: string }>('POST', '/api/v1/sets', {
      json: { name: 'no-resolve', version: '1', packages: [fixtures.byName('rg-app').nevra] },
      accept: [422],
    });
    expect(status).toBe(422);
    expect(body.detail).toMatch(/unresolved dependencies: rg-app-1\.0-1\.noarch requires/);
    expect(await stored(server, 'rg-lib-2.1-1.x86_64')).toBe(false);
  });

  it('resolves a file requirement outside primary\'s file list from the mirror\'s full file lists, read on demand', async () => {
    const rpms = await buildSmallRpms([{ name: 'rg-fl-provider' }, { name: 'rg-fl-user', requires: ['/usr/share/rg-fl-provider/evr'] }]);
    const up = await makeUpstream({ rpms, compress: 'xz' });
    upstreams.push(up);
    const http = await serveDirectory(up.dir);
    https.push(http);
    const server = await startTestServer();
    servers.push(server);
    expect((await server.admin.post('/api/v1/mirrors', { name: 'files', baseurl: http.url })).status).toBe(201);
    expect((await server.admin.post('/api/v1/mirrors/files/sync', undefined)).status).toBe(200);
    // primary.xml lists /etc and *bin/ files only: the path is in filelists.xml alone.
    expect(await server.database.sql`select 1 from mirror_package_files where path = '/usr/share/rg-fl-provider/evr'`).toHaveLength(0);
    const added = await createResolved(server, 'file-needs', ['rg-fl-user-1.0-1.noarch']);
    expect(added).toContainEqual({ nevra: 'rg-fl-provider-1.0-1.noarch', reason: 'required by rg-fl-user-1.0-1.noarch: /usr/share/rg-fl-provider/evr (adopted from mirror files)' });
    expect(await stored(server, 'rg-fl-provider-1.0-1.noarch')).toBe(true);
  });
});
