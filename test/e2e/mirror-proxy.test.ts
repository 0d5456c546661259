// The caching proxy /repo/mirror/{name}/ in front of an upstream made by the real tools (rpmsign'd
// packages, createrepo_c, gpg-signed repomd.xml) on loopback: Debian's dnf installs through it with
// gpgcheck and repo_gpgcheck against the upstream's key (packages pulled through on first request and
// served unmodified); 20 concurrent first requests fetch once; with the upstream stopped, what is cached
// still installs and what is not is a 502 problem; bytes that do not match the upstream checksum are
// refused and nothing is stored.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createVendorKey, makeUpstream, serveDirectory, type StaticServer, type Upstream, type VendorKey } from '../support/upstream-repo.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** mirror proxy end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

let server: TestServer;
let fixtures: FixtureSet;
let vendor: VendorKey;
let upstream: Upstream;
let http: StaticServer;
const roots: DnfRoot[] = [];

beforeAll(async () => {
  if (!availability.ok) return;
  [server, fixtures, vendor] = await Promise.all([startTestServer(), buildFixtures(), createVendorKey()]);
  upstream = await makeUpstream({ rpms: fixtures.packages.filter((p) => !p.isSource).map((p) => p.path), compress: 'xz', signPackagesWith: vendor, signRepomdWith: vendor });
  http = await serveDirectory(upstream.dir);
  await server.admin.post('/api/v1/mirrors', { name: 'vendor', baseurl: http.url, key: vendor.publicKey });
  const { status } = await server.admin.post('/api/v1/mirrors/vendor/sync', undefined);
  expect(status).toBe(200);
}, 300_000);
afterEach(async () => {
  for (const root of roots.splice(0)) await root.cleanup();
});
afterAll(async () => {
  await http?.stop();
  await upstream?.cleanup();
  await vendor?.cleanup();
  await server?.close();
});

async function newRoot(): Promise<DnfRoot> {
  const root = await createDnfRoot();
  roots.push(root);
  return root;
}

const vendorTrust = () => ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=file://${vendor.publicKeyFile}`];
const mirrorUrl = () => `${server.url}/repo/mirror/vendor/`;
const packageRequests = () => [...http.requests.entries()].filter(([p]) => p.endsWith('.rpm'));

describe.skipIf(!availability.ok)('the caching proxy of a mirror', () => {
  it('serves the synced metadata unchanged, and dnf installs through it with the upstream key', async () => {
    for (const file of ['repodata/repomd.xml', 'repodata/repomd.xml.asc']) {
      const answer = await fetch(mirrorUrl() + file);
      expect(answer.status).toBe(200);
      expect(Buffer.from(await answer.arrayBuffer()).equals(await readFile(path.join(upstream.dir, file)))).toBe(true);
    }
    const before = packageRequests().length;
    const root = await newRoot();
    await root.dnf(['install', 'rg-app'], { repoUrl: mirrorUrl(), setopts: vendorTrust() });
    const installed = await root.installed();
    expect(installed).toContain('rg-app-1.0-1.noarch');
    expect(installed).toContain('rg-lib-2.1-1.x86_64');
    const pulled = packageRequests().length - before;
    expect(pulled).toBe(installed.length);
    // Served unmodified: the vendor's signature, byte for byte the upstream's file.
    const app = await fetch(`${mirrorUrl()}Packages/rg-app-1.0-1.noarch.rpm`);
    expect(Buffer.from(await app.arrayBuffer()).equals(await readFile(upstream.files.get('rg-app-1.0-1.noarch.rpm')!))).toBe(true);
    // A second install is served from the cache: the upstream is not asked again.
    const again = await newRoot();
    await again.dnf(['install', 'rg-app'], { repoUrl: mirrorUrl(), setopts: vendorTrust() });
    expect(packageRequests().length - before).toBe(installed.length);
  });

  it('20 concurrent first requests of one package fetch it from the upstream once', async () => {
    const file = 'rg-text-1.0-1.noarch.rpm';
    const href = `/Packages/${file}`;
    expect(http.requests.get(href)).toBeUndefined();
    http.delayMs = 300;
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(mirrorUrl() + href.slice(1)).then(async (r) => ({ status: r.status, bytes: Buffer.from(await r.arrayBuffer()) }))));
    http.delayMs = 0;
    const expected = await readFile(upstream.files.get(file)!);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.bytes.equals(expected)).toBe(true);
    }
    expect(http.requests.get(href)).toBe(1);
  });

  it('with the upstream stopped, cached packages still install and an uncached one is a 502 problem', async () => {
    const root = await newRoot();
    await root.dnf(['install', 'rg-hello-2.0'], { repoUrl: mirrorUrl(), setopts: vendorTrust() });
    await http.stop();
    try {
      const offline = await newRoot();
      await offline.dnf(['install', 'rg-hello-2.0', 'rg-app'], { repoUrl: mirrorUrl(), setopts: vendorTrust() });
      expect(await offline.installed()).toContain('rg-hello-2.0-1.noarch');
      const missing = await fetch(`${mirrorUrl()}Packages/rg-weak-1.0-1.noarch.rpm`);
      expect(missing.status).toBe(502);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await missing.json()) as { detail: string };
      expect(problem.detail).toMatch(/cannot reach the upstream/);
    } finally {
      await http.start();
    }
  });

  it('refuses bytes that do not match the upstream checksum, and stores nothing', async () => {
    const file = 'rg-weak-1.0-1.noarch.rpm';
    const original = await readFile(upstream.files.get(file)!);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 10]! ^= 0xff;
    await writeFile(upstream.files.get(file)!, damaged);
    try {
      const answer = await fetch(`${mirrorUrl()}Packages/${file}`);
      expect(answer.status).toBe(502);
      expect(((await answer.json()) as { detail: string }).detail).toMatch(/checksum mismatch/);
      const [row] = await server.database.sql<{ cached_sha256: string | null }[]>`
        select cached_sha256 from mirror_packages where location_href = ${`Packages/${file}`}`;
      expect(row!.cached_sha256).toBeNull();
    } finally {
      await writeFile(upstream.files.get(file)!, original);
    }
    const good = await fetch(`${mirrorUrl()}Packages/${file}`);
    expect(good.status).toBe(200);
  });

  it('answers 404 for what the mirror does not list', async () => {
    expect((await fetch(`${mirrorUrl()}Packages/nothing-1-1.noarch.rpm`)).status).toBe(404);
    expect((await fetch(`${server.url}/repo/mirror/nosuch/repodata/repomd.xml`)).status).toBe(404);
  });
});
