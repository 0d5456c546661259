// Package files addressed by content (sql/0010): primary.xml names Packages/<digest>/<NVRA>.rpm, whose
// bytes never change; re-signing keeps the replaced file downloadable at its own href, moves the alias
// Packages/<NVRA>.rpm to the new file with a later Last-Modified, and publishes its repodata once per
// group; a second activation mid-run ends every package on the last key; a database upgraded from
// 0009 gets exactly the hrefs the renderer writes now.
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPrimaryPackage } from '../../common/repodata/primary.ts';
import { parseRpm, readRpmFile } from '../../common/rpm/reader.ts';
import { defaultMigrationsDir, migrate } from '../../server/db/migrate.ts';
import { renderPackageRepodata } from '../../server/services/package-repodata.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { createTestDatabase } from '../support/database.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
const setBase = () => `${server.url}/repo/set/files/1/`;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  const integ = await server.clientFor('integ');
  for (const fixture of fixtures.packages) await integ.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
  await integ.post('/api/v1/sets', { name: 'files', version: '1', packages: [fixtures.byName('rg-lib').nevra, fixtures.byName('rg-epoch').nevra] });
});
afterAll(async () => {
  await server?.close();
});

interface Located {
  href: string;
  pkgid: string;
}

/** Each package of the set repository as its primary.xml places it, by name. */
async function primaryLocations(): Promise<Map<string, Located>> {
  const entries = await fetchPrimaryEntries(setBase());
  return new Map(entries.map((entry) => [entry.name, { href: entry.location.href!, pkgid: entry.pkgid }]));
}

async function fetchFile(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const encodeHref = (href: string) => href.split('/').map(encodeURIComponent).join('/');

interface Activation {
  fingerprint: string;
  keyId: string;
  /** The job's status as the activation answered it. */
  rotation: { state: string; fingerprint: string | null; total: number };
}

async function rotateKey(): Promise<Activation> {
  const added = await server.admin.post<{ fingerprint: string; keyId: string }>('/api/v1/keys', { algorithm: 'ed25519' });
  const activated = await server.admin.post<{ rotation: Activation['rotation'] }>(`/api/v1/keys/${added.body.fingerprint}/activate`, {});
  expect(activated.status).toBe(202);
  return { fingerprint: added.body.fingerprint, keyId: added.body.keyId, rotation: activated.body.rotation };
}

/** Hex of each OpenPGP signature packet a package file carries (issuer key ID and fingerprint inside). */
const signaturePackets = (bytes: Buffer) => parseRpm(bytes).signatures.map((signature) => Buffer.from(signature.packet).toString('hex'));

async function packagesGeneration(): Promise<number> {
  const [row] = await server.database.sql<{ generation: number }[]>`select generation from repo_generations where scope = 'packages'`;
  return Number(row!.generation);
}

describe('content-addressed package hrefs', () => {
  it('primary.xml places each package under the first 16 hex of its sha256; the href serves it immutable', async () => {
    const located = await primaryLocations();
    expect(located.size).toBe(2);
    for (const { href, pkgid } of located.values()) {
      expect(href).toMatch(new RegExp(`^Packages/${pkgid.slice(0, 16)}/[^/]+\\.rpm$`));
      const { response, sha256 } = await fetchFile(setBase() + encodeHref(href));
      expect(response.status).toBe(200);
      expect(sha256).toBe(pkgid);
      expect(response.headers.get('etag')).toBe(`"${pkgid}"`);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect(Date.parse(response.headers.get('last-modified')!)).not.toBeNaN();
    }
    const lib = located.get('rg-lib')!;
    const wrongDigest = lib.href.replace(/Packages\/[0-9a-f]{16}\//, 'Packages/0000000000000000/');
    expect((await fetch(setBase() + encodeHref(wrongDigest))).status).toBe(404);
    expect((await fetch(setBase() + encodeHref(lib.href.replace(/\/([0-9a-f]{16})\//, '/$1x/')))).status).toBe(404);
    // The digest is looked up among the files of the package the repository holds, not across packages.
    const epoch = located.get('rg-epoch')!;
    expect((await fetch(`${setBase()}Packages/${epoch.pkgid.slice(0, 16)}/${path.posix.basename(lib.href)}`)).status).toBe(404);
  });

  it('after re-signing: the previous href serves the previous bytes, the new href the new ones, the alias the current file with a later Last-Modified', async () => {
    const before = await primaryLocations();
    const lib = before.get('rg-lib')!;
    const alias = `${setBase()}Packages/${path.posix.basename(lib.href)}`;
    const aliasBefore = await fetchFile(alias);
    expect(aliasBefore.response.status).toBe(200);
    expect(aliasBefore.sha256).toBe(lib.pkgid);
    expect(aliasBefore.response.headers.get('cache-control')).toBe('no-cache');
    const lastModified = aliasBefore.response.headers.get('last-modified')!;
    expect((await fetch(alias, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);

    const generationBefore = await packagesGeneration();
    const { fingerprint, keyId } = await rotateKey();
    await server.server.context.rotation.settled();
    expect(server.server.context.rotation.current()).toMatchObject({ state: 'done', fingerprint, failed: [] });
    const resigned = server.server.context.rotation.current().resigned;
    expect(resigned).toBe(fixtures.packages.length);
    // Published per group, not per package (and at least once: the job is done, its repodata visible).
    const bumps = (await packagesGeneration()) - generationBefore;
    expect(bumps).toBeGreaterThanOrEqual(1);
    expect(bumps).toBeLessThan(resigned);

    const after = await primaryLocations();
    const libAfter = after.get('rg-lib')!;
    expect(libAfter.pkgid).not.toBe(lib.pkgid);
    expect(libAfter.href).not.toBe(lib.href);
    const current = await fetchFile(setBase() + encodeHref(libAfter.href));
    expect(current.sha256).toBe(libAfter.pkgid);
    // A host holding the primary.xml of before the rotation still gets what it describes.
    const previous = await fetchFile(setBase() + encodeHref(lib.href));
    expect(previous.response.status).toBe(200);
    expect(previous.sha256).toBe(lib.pkgid);
    expect(previous.bytes.equals(aliasBefore.bytes)).toBe(true);
    expect(previous.response.headers.get('etag')).toBe(`"${lib.pkgid}"`);
    expect(previous.response.headers.get('cache-control')).toContain('immutable');
    expect(previous.response.headers.get('last-modified')).toBe(lastModified);
    // The previous file is signed by the previous key, the current one by the new key.
    expect(signaturePackets(current.bytes).some((hex) => hex.includes(keyId))).toBe(true);
    expect(signaturePackets(previous.bytes).some((hex) => hex.includes(keyId))).toBe(false);

    // The alias moved to the new file; its old Last-Modified no longer answers 304.
    const aliasAfter = await fetchFile(alias, { 'if-modified-since': lastModified });
    expect(aliasAfter.response.status).toBe(200);
    expect(aliasAfter.sha256).toBe(libAfter.pkgid);
    expect(Date.parse(aliasAfter.response.headers.get('last-modified')!)).toBeGreaterThan(Date.parse(lastModified));
    expect(aliasAfter.response.headers.get('etag')).toBe(`"${libAfter.pkgid}"`);
    expect((await fetch(alias, { headers: { 'if-none-match': `"${lib.pkgid}"` } })).status).toBe(200);
    expect((await fetch(alias, { headers: { 'if-modified-since': aliasAfter.response.headers.get('last-modified')! } })).status).toBe(304);
  });

  it('a second activation while the job runs restarts it: every package ends signed by the last key', async () => {
    const [counted] = await server.database.sql<{ count: number }[]>`select count(*)::int as count from packages`;
    const packageCount = counted!.count;
    const interim = (await rotateKey()).fingerprint;
    const activation = await rotateKey();
    const last = activation.fingerprint;
    // The answer to the second activation is a run for its key over every package, not the interim run.
    expect(activation.rotation).toMatchObject({ state: 'running', fingerprint: last, total: packageCount });
    await server.server.context.rotation.settled();
    expect(server.server.context.rotation.current()).toMatchObject({ state: 'done', fingerprint: last, resigned: packageCount, failed: [] });
    const rows = await server.database.sql<{ signed_by: string }[]>`select signed_by from packages`;
    expect(rows.every((row) => row.signed_by === last)).toBe(true);
    // Whatever the interim key signed before its run was stopped stays, blob and all, as a previous file.
    const interimFiles = await server.database.sql<{ sha256: string }[]>`select sha256 from package_previous_files where signed_by = ${interim}`;
    expect(interimFiles.length).toBeLessThanOrEqual(packageCount);
    for (const { sha256 } of interimFiles) expect(await server.server.context.store.stat(sha256)).not.toBeNull();
    const located = await primaryLocations();
    const { sha256 } = await fetchFile(setBase() + encodeHref(located.get('rg-epoch')!.href));
    expect(sha256).toBe(located.get('rg-epoch')!.pkgid);
  });
});

describe('sql/0010 on a database with fragments of the previous format', () => {
  it('rewrites each location href to what the renderer writes now, records served_since, and moves the packages generation', async () => {
    const database = await createTestDatabase();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-migrations-before-'));
    try {
      const names = (await readdir(defaultMigrationsDir)).filter((name) => name.endsWith('.sql')).sort();
      const mine = names.indexOf('0010_content_addressed_package_files.sql');
      expect(mine).toBeGreaterThan(0);
      for (const name of names.slice(0, mine)) await cp(path.join(defaultMigrationsDir, name), path.join(dir, name));
      await migrate(database.sql, dir);

      const fixture = fixtures.byName('rg-text');
      const parsed = await readRpmFile(fixture.path);
      const pkg = parsed.package;
      const uploadedAt = new Date('2026-01-02T03:04:05Z');
      const filename = path.basename(fixture.path);
      const served = { sha256: fixture.sha256, size: (await readFile(fixture.path)).length, headerRange: pkg.headerRange, filename, uploadedAt };
      const current = renderPackageRepodata(pkg, served);
      // As rpmgate rendered it before: the same fragment at Packages/<NVRA>.rpm.
      const previousPrimary = renderPrimaryPackage(
        { ...pkg, sizes: { ...pkg.sizes, package: served.size } },
        { pkgid: served.sha256, locationHref: `Packages/${filename}`, fileTime: Math.floor(uploadedAt.getTime() / 1000) },
      );
      expect(previousPrimary).not.toBe(current.primary);
      const sql = database.sql;
      const [row] = await sql<{ id: number }[]>`
        insert into packages (nevra, name, epoch, version, release, arch, is_source, sourcerpm, filename, original_sha256,
          original_size, sha256, size, summary, license, url, vendor, buildhost, buildtime, installed_size, header_start,
          header_end, uploaded_at, uploaded_by)
        values (${fixture.nevra}, ${pkg.name}, ${pkg.epoch}, ${pkg.version}, ${pkg.release}, ${pkg.arch}, ${pkg.isSource},
          ${pkg.sourcerpm}, ${filename}, ${fixture.sha256}, ${served.size}, ${fixture.sha256}, ${served.size}, ${pkg.summary},
          ${pkg.license}, ${pkg.url}, ${pkg.vendor}, ${pkg.buildhost}, ${pkg.buildtime}, ${pkg.sizes.installed},
          ${pkg.headerRange.start}, ${pkg.headerRange.end}, ${uploadedAt}, 'test')
        returning id`;
      await sql`insert into package_repodata (package_id, primary_xml, filelists_xml, other_xml)
                values (${row!.id}, ${previousPrimary}, ${current.filelists}, ${current.other})`;
      const [before] = await sql<{ generation: number }[]>`select generation from repo_generations where scope = 'packages'`;

      const { applied } = await migrate(sql);
      expect(applied[0]).toBe('0010_content_addressed_package_files.sql');
      const [after] = await sql<{ primary_xml: string; served_since: Date; generation: number }[]>`
        select r.primary_xml, p.served_since, (select generation from repo_generations where scope = 'packages') as generation
        from package_repodata r join packages p on p.id = r.package_id where p.id = ${row!.id}`;
      expect(after!.primary_xml).toBe(current.primary);
      expect(after!.served_since.getTime()).toBeGreaterThan(uploadedAt.getTime());
      expect(Number(after!.generation)).toBe(Number(before!.generation) + 1);
      const [digest] = await sql<{ same: boolean }[]>`
        select d.fragments_sha256 = package_fragments_sha256(r.primary_xml, r.filelists_xml, r.other_xml) as same
        from package_repodata r join package_fragment_digests d using (package_id) where r.package_id = ${row!.id}`;
      expect(digest!.same).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await database.close();
    }
  });
});
