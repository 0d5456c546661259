// Upstream packages adopted into rpmgate: a vendor-signed upstream with a binary and a source repository
// (rpmsign, createrepo_c, gpg), a set naming upstream packages beside an uploaded one; the adopted ones
// are verified against the vendor's key, checked on entry, signed by rpmgate, stored like uploads, with
// their SRPMs in the set's source repository; Debian's dnf installs the mixed set with gpgcheck and
// repo_gpgcheck against rpmgate's key. A package signed by another key, and one the entry checks refuse,
// are refused and nothing is stored. Set members are adopted in the background: with the upstream down
// the set answers at once with them pending, serves what is stored, cannot be promoted, and completes by
// itself once the upstream is back; a member the entry checks refuse fails for good and is never served.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { consoleLogin } from '../support/console.ts';
import { agentClient, machineId, report } from '../support/fleet.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { setSettled, type SetWithPending } from '../support/set-adoption.ts';
import { createVendorKey, makeUpstream, serveDirectory, type StaticServer, type Upstream, type VendorKey } from '../support/upstream-repo.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** mirror adoption end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

let server: TestServer;
let fixtures: FixtureSet;
let vendor: VendorKey;
let other: VendorKey;
const upstreams: Upstream[] = [];
const https: StaticServer[] = [];
const roots: DnfRoot[] = [];

const upstreamBinaries = ['rg-app', 'rg-lib', 'rg-hello'];

beforeAll(async () => {
  if (!availability.ok) return;
  // The entry checks as shipped, plus a deny list that refuses rg-unsatisfiable (it requires rg-does-not-exist).
  const policyDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-policy-'));
  await writeFile(path.join(policyDir, 'policy.yaml'), 'deniedDependencies: ["rg-does-not-*"]\n');
  [server, fixtures, vendor, other] = await Promise.all([
    startTestServer({ env: { RPMGATE_POLICY_FILE: path.join(policyDir, 'policy.yaml'), RPMGATE_MIRROR_RETRY_SECONDS: '1' } }),
    buildFixtures(),
    createVendorKey(),
    createVendorKey('Other Vendor <other@upstream.example>'),
  ]);
  // rg-hello 2.0 (and its SRPM) is for the test that creates a set while the upstream is down.
  const binaries = [...upstreamBinaries.map((name) => fixtures.byName(name).path), fixtures.byName('rg-unsatisfiable').path, fixtures.byName('rg-hello-2.0-1.noarch').path];
  const sources = upstreamBinaries
    .map((name) => fixtures.byName(`${name === 'rg-lib' ? 'rg-lib-2.1-1' : fixtures.byName(name).nevra.replace(/\.noarch$/, '')}.src`).path)
    .concat(fixtures.byName('rg-hello-2.0-1.src').path);
  const binary = await makeUpstream({ rpms: binaries, compress: 'gz', signPackagesWith: vendor, signRepomdWith: vendor });
  const source = await makeUpstream({ rpms: sources, compress: 'gz', signPackagesWith: vendor, signRepomdWith: vendor });
  // An upstream whose metadata the vendor signs but whose package another key signed.
  const foreign = await makeUpstream({ rpms: [fixtures.byName('rg-weak').path], compress: 'gz', signPackagesWith: other, signRepomdWith: vendor });
  upstreams.push(binary, source, foreign);
  for (const up of upstreams) https.push(await serveDirectory(up.dir));
  await server.admin.post('/api/v1/mirrors', { name: 'vendor', baseurl: https[0]!.url, sourceBaseurl: https[1]!.url, key: vendor.publicKey });
  await server.admin.post('/api/v1/mirrors', { name: 'foreign', baseurl: https[2]!.url, key: vendor.publicKey });
  for (const name of ['vendor', 'foreign']) expect((await server.admin.post(`/api/v1/mirrors/${name}/sync`, undefined)).status).toBe(200);
  // One package of the company's own, uploaded.
  const integ = await server.clientFor('integ');
  for (const p of [fixtures.byName('rg-epoch'), fixtures.byName('rg-epoch-1.5-2.src')]) await integ.request('POST', '/api/v1/packages', { body: await readFile(p.path) });
}, 300_000);
afterEach(async () => {
  for (const root of roots.splice(0)) await root.cleanup();
});
afterAll(async () => {
  for (const http of https) await http.stop();
  for (const up of upstreams) await up.cleanup();
  await vendor?.cleanup();
  await other?.cleanup();
  await server?.close();
});

describe.skipIf(!availability.ok)('upstream packages in sets', () => {
  it('a set naming upstream and uploaded packages: adopted, signed by rpmgate, sources tied, installed by dnf with gpgcheck and repo_gpgcheck', async () => {
    const integ = await server.clientFor('integ');
    const named = [...upstreamBinaries.map((name) => fixtures.byName(name).nevra), fixtures.byName('rg-epoch').nevra];
    const { status, body } = await integ.request<{ added: { nevra: string; reason: string }[] }>('POST', '/api/v1/sets', {
      json: { name: 'mixed', version: '1', packages: named },
      accept: [422],
    });
    expect(status, JSON.stringify(body)).toBe(201);
    for (const name of upstreamBinaries) expect(body.added).toContainEqual({ nevra: fixtures.byName(name).nevra, reason: 'adopted from mirror vendor' });
    const set = await setSettled(integ, 'mixed/1');
    expect(set.complete, JSON.stringify(set.pending)).toBe(true);
    const members = set.members.map((m) => m.nevra);
    for (const name of upstreamBinaries) expect(members).toContain(fixtures.byName(name).nevra);
    expect(members).toContain('rg-app-1.0-1.src');
    expect(members).toContain('rg-lib-2.1-1.src');
    expect(members.some((m) => /^rg-epoch-.*\.src$/.test(m))).toBe(true);
    const adopted = await server.database.sql<{ nevra: string; uploaded_by: string; mirror_name: string }[]>`
      select p.nevra, p.uploaded_by, a.mirror_name from mirror_adoptions a join packages p on p.id = a.package_id order by p.nevra`;
    expect(adopted.map((row) => row.nevra)).toEqual(expect.arrayContaining(['rg-app-1.0-1.noarch', 'rg-app-1.0-1.src']));
    expect(adopted.every((row) => row.mirror_name === 'vendor' && /mirror vendor/.test(row.uploaded_by))).toBe(true);

    const root = await createDnfRoot();
    roots.push(root);
    await root.dnf(['install', 'rg-app'], {
      repoUrl: `${server.url}/repo/set/mixed/1/`,
      setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`],
    });
    const installed = await root.installed();
    expect(installed).toEqual(expect.arrayContaining(['rg-app-1.0-1.noarch', 'rg-lib-2.1-1.x86_64', 'rg-epoch-3:1.5-2.noarch']));
    // The source repository lists the adopted SRPM.
    const srcRepomd = await fetch(`${server.url}/repo/set/mixed/1/source/repodata/repomd.xml`);
    expect(srcRepomd.status).toBe(200);
    const srpm = await fetch(`${server.url}/repo/set/mixed/1/source/Packages/rg-app-1.0-1.src.rpm`);
    expect(srpm.status).toBe(200);
  });

  it('refuses a package signed by another key than the mirror\'s, and stores nothing', async () => {
    const nevra = fixtures.byName('rg-weak').nevra;
    const result = await rpmgate(server, server.adminToken, ['mirror', 'fetch', nevra]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/upstream signature does not verify/);
    expect(await server.database.sql`select 1 from packages where nevra = ${nevra}`).toHaveLength(0);
  });

  it('a package the entry checks refuse is reported and never stored', async () => {
    const refused = fixtures.byName('rg-unsatisfiable');
    const { status, body } = await server.admin.request<{ refused: { nevra: string; findings?: unknown[] }[] }>('POST', '/api/v1/mirrors/fetch', {
      json: { packages: [refused.nevra] },
      accept: [422],
    });
    expect(status, JSON.stringify(body)).toBe(422);
    expect(body.refused[0]?.nevra, JSON.stringify(body)).toBe(refused.nevra);
    expect(body.refused[0]!.findings).toBeDefined();
    expect(await server.database.sql`select 1 from packages where nevra = ${refused.nevra}`).toHaveLength(0);
  });

  it('mirror fetch of a stored package finds it stored; an unknown one is refused', async () => {
    const nevra = fixtures.byName('rg-hello').nevra;
    let result = await rpmgate(server, server.adminToken, ['mirror', 'fetch', nevra]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/stored already/);
    result = await rpmgate(server, server.adminToken, ['mirror', 'fetch', 'nothing-1-1.noarch']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not in any mirror/);
  });

  it('with the upstream down, the set answers at once with its upstream members pending, serves what is stored, cannot be promoted, and completes when the upstream is back', async () => {
    const integ = await server.clientFor('integ');
    const upstreamNevra = fixtures.byName('rg-hello-2.0-1.noarch').nevra;
    const uploaded = fixtures.byName('rg-epoch').nevra;
    await https[0]!.stop();
    await https[1]!.stop();
    try {
      const created = await rpmgate(server, await server.tokenFor('integ'), ['set', 'create', 'down', '1', upstreamNevra, uploaded, '--no-wait']);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toMatch(/not complete: \d upstream member\(s\) not adopted yet/);
      expect(created.stdout).toContain(`${upstreamNevra} from mirror vendor: pending`);
      // The first attempt fails against the stopped upstream and is retried. The binary and its source
      // are adopted side by side, so wait for the binary's own first attempt.
      let set: SetWithPending;
      let waiting: SetWithPending['pending'][number] | undefined;
      for (;;) {
        set = (await integ.get<SetWithPending>('/api/v1/sets/down/1')).body;
        waiting = set.pending.find((m) => m.nevra === upstreamNevra);
        if (!waiting || waiting.attempts > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(set.complete).toBe(false);
      expect(waiting, JSON.stringify(set.pending)).toBeDefined();
      expect(waiting!.state).toBe('pending');
      expect(waiting!.lastError).toMatch(/127\.0\.0\.1|upstream|ECONNREFUSED|fetch failed/i);
      expect(set.packages).toContain(uploaded);
      expect(set.packages).not.toContain(upstreamNevra);
      // The set's repository lists only what is stored: dnf never sees a package it cannot download.
      const listed = (await fetchPrimaryEntries(`${server.url}/repo/set/down/1/`)).map((entry) => entry.name);
      expect(listed).toEqual(['rg-epoch']);
      // A host on the set, with what the set serves so far: conforming to the stored members.
      const hostReport = report('pending-host', [uploaded], { set: 'down/1' });
      const reported = await (await agentClient(server)).request<{ status: string }>('POST', '/api/v1/hosts/report', { json: hostReport });
      expect(reported.body.status).toBe('conforming');
      const refused = await integ.request<{ detail: string }>('POST', '/api/v1/sets/down/1/promote', { json: { level: 'qa_ready' }, accept: [409] });
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toMatch(/not complete: 2 upstream member\(s\) are still being adopted/);
    } finally {
      await https[0]!.start();
      await https[1]!.start();
    }
    const settled = await setSettled(integ, 'down/1', 30_000);
    expect(settled.complete, JSON.stringify(settled.pending)).toBe(true);
    expect(settled.packages).toEqual(expect.arrayContaining([uploaded, upstreamNevra, 'rg-hello-2.0-1.src']));
    const listed = (await fetchPrimaryEntries(`${server.url}/repo/set/down/1/`)).map((entry) => entry.name).sort();
    expect(listed).toEqual(['rg-epoch', 'rg-hello']);
    // The host is judged again against the grown set: the adopted member is missing on it.
    const { body: host } = await integ.get<{ status: string; conformance: { missing: string[] } }>(`/api/v1/hosts/${machineId('pending-host')}`);
    expect(host.status).toBe('drifting');
    expect(host.conformance.missing).toEqual([upstreamNevra]);
    const promoted = await integ.request<{ level: string }>('POST', '/api/v1/sets/down/1/promote', { json: { level: 'qa_ready' } });
    expect(promoted.body.level).toBe('qa_ready');
  });

  it('a member the entry checks refuse fails for good: reported by set create and set show, never served, and the set stays at integ', async () => {
    const refused = fixtures.byName('rg-unsatisfiable').nevra;
    const uploaded = fixtures.byName('rg-epoch').nevra;
    const token = await server.tokenFor('integ');
    const created = await rpmgate(server, token, ['set', 'create', 'refused', '1', refused, uploaded, '--allow-unresolved']);
    expect(created.code).toBe(1);
    expect(created.stderr).toMatch(new RegExp(`refused/1 was created, but 1 upstream member\\(s\\) were refused: ${refused.replace(/[.^$]/g, '\\$&')}`));
    const shown = await rpmgate(server, token, ['set', 'show', 'refused/1']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`${refused} from mirror vendor: failed`);
    // The console's set page says so too.
    const login = await consoleLogin(server.url, token);
    const html = await (await fetch(`${server.url}/ui/sets/refused/1`, { headers: { cookie: login.cookie } })).text();
    expect(html).toContain('Upstream members not adopted yet');
    expect(html).toMatch(new RegExp(`${refused.replace(/[.^$]/g, '\\$&')}</td><td>vendor</td><td>refused</td>`));
    expect(await server.database.sql`select 1 from packages where nevra = ${refused}`).toHaveLength(0);
    // Operators see it in the metrics, to alert on.
    expect(await server.server.context.metrics.exposition()).toMatch(/^rpmgate_set_members_not_adopted\{state="failed"\} 1$/m);
    expect((await fetchPrimaryEntries(`${server.url}/repo/set/refused/1/`)).map((entry) => entry.name)).toEqual(['rg-epoch']);
    const integ = await server.clientFor('integ');
    const promote = await integ.request<{ detail: string }>('POST', '/api/v1/sets/refused/1/promote', { json: { level: 'qa_ready' }, accept: [409] });
    expect(promote.status).toBe(409);
    expect(promote.body.detail).toMatch(/were refused .*it can never be promoted/);
  });
});
