// Mirror sync against upstreams made by the real tools (createrepo_c, rpmsign, gpg) and served on
// loopback: gz, xz and zstd metadata; signed and unsigned upstreams with and without --key; incremental
// syncs; and every upstream failure (down, 404, checksum mismatch, bad signature, malformed XML) refused
// with a clear message while the previous sync's state stays as it was.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startServer } from '../../server/runtime.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { createVendorKey, makeUpstream, serveDirectory, type StaticServer, type Upstream, type VendorKey } from '../support/upstream-repo.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface SyncAnswer {
  mirror: string;
  status: string;
  packages: number;
  added: number;
  removed: number;
}

interface Problem {
  status: number;
  code: string;
  detail: string;
}

let fixtures: FixtureSet;
let server: TestServer;
let vendor: VendorKey;
let otherVendor: VendorKey;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fixtures = await buildFixtures();
  [server, vendor, otherVendor] = await Promise.all([startTestServer(), createVendorKey(), createVendorKey('Other Vendor <other@upstream.example>')]);
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await server?.close();
  await vendor?.cleanup();
  await otherVendor?.cleanup();
});

async function upstream(options: Omit<Parameters<typeof makeUpstream>[0], 'rpms'> & { rpms?: string[] }): Promise<{ repo: Upstream; http: StaticServer }> {
  const repo = await makeUpstream({ rpms: options.rpms ?? fixtures.packages.filter((p) => !p.isSource).map((p) => p.path), ...options });
  const http = await serveDirectory(repo.dir);
  cleanups.push(() => repo.cleanup(), () => http.stop());
  return { repo, http };
}

async function addMirror(name: string, baseurl: string, keys: string[] = []): Promise<void> {
  const body: Record<string, unknown> = { name, baseurl };
  if (keys.length > 0) body.key = keys;
  const { status } = await server.admin.post('/api/v1/mirrors', body);
  expect(status).toBe(201);
}

async function sync(name: string): Promise<{ status: number; body: SyncAnswer & Problem }> {
  const { status, body } = await server.admin.request<SyncAnswer & Problem>('POST', `/api/v1/mirrors/${name}/sync`, { accept: [409, 502, 504, 404] });
  return { status, body };
}

async function recorded(name: string): Promise<{ nevra: string; id: number }[]> {
  return server.database.sql<{ nevra: string; id: number }[]>`
    select p.nevra, p.id from mirror_packages p join mirrors m on m.id = p.mirror_id where m.name = ${name} order by p.nevra`;
}

const binaryNevras = () => fixtures.packages.filter((p) => !p.isSource).map((p) => p.nevra).sort();

describe('mirror sync', () => {
  for (const compress of ['gz', 'xz', 'zstd'] as const) {
    it(`records every package of a ${compress}-compressed upstream, with dependencies and primary's files`, async () => {
      const { http } = await upstream({ compress });
      await addMirror(`up-${compress}`, http.url);
      const { status, body } = await sync(`up-${compress}`);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.status).toBe('synced');
      expect(body.packages).toBe(binaryNevras().length);
      expect((await recorded(`up-${compress}`)).map((row) => row.nevra)).toEqual(binaryNevras());
      const [app] = await server.database.sql<{ deps: string[] }[]>`
        select array_agg(d.kind || ' ' || d.name || ' ' || d.flags || ' ' || d.evr order by d.kind, d.name) as deps
        from mirror_package_dependencies d join mirror_packages p on p.id = d.mirror_package_id join mirrors m on m.id = p.mirror_id
        where m.name = ${`up-${compress}`} and p.name = 'rg-app'`;
      expect(app!.deps).toContain('requires rg-lib-api 12 2.0');
      expect(app!.deps).toContain('requires rg-epoch 12 3:1.0');
      expect(app!.deps).toContain('requires /usr/bin/rg-hello 0 ');
      const owners = await server.database.sql`
        select p.nevra from mirror_package_files f join mirror_packages p on p.id = f.mirror_package_id join mirrors m on m.id = p.mirror_id
        where m.name = ${`up-${compress}`} and f.path = '/usr/bin/rg-hello'`;
      expect(owners.length).toBeGreaterThan(0);
      expect(http.requests.get('/repodata/repomd.xml')).toBe(1);
      // No package is downloaded by a sync.
      expect([...http.requests.keys()].filter((p) => p.endsWith('.rpm'))).toEqual([]);
    });
  }

  it('is incremental: an unchanged upstream touches nothing, a changed one adds and removes only what changed', async () => {
    const rpms = fixtures.packages.filter((p) => !p.isSource).map((p) => p.path);
    const { repo, http } = await upstream({ compress: 'gz', rpms: rpms.slice(1) });
    await addMirror('incremental', http.url);
    expect((await sync('incremental')).body.added).toBe(rpms.length - 1);
    const before = await recorded('incremental');
    // What a host read through the proxy just before the upstream changes.
    const proxied = `${server.url}/repo/mirror/incremental/`;
    const oldRepomd = await (await fetch(`${proxied}repodata/repomd.xml`)).text();
    const oldPrimaryHref = /<location href="([^"]+primary\.xml\.gz)"/.exec(oldRepomd)![1]!;
    const oldPrimary = Buffer.from(await (await fetch(proxied + oldPrimaryHref)).arrayBuffer());
    const again = await sync('incremental');
    expect(again.body).toMatchObject({ status: 'unchanged', added: 0, removed: 0, packages: rpms.length - 1 });
    // One package more, one less.
    await makeUpstream({ rpms: [rpms[0]!, ...rpms.slice(2)], compress: 'gz', dir: repo.dir });
    await rmFile(path.join(repo.dir, 'Packages', path.basename(rpms[1]!)));
    const changed = await sync('incremental');
    expect(changed.body).toMatchObject({ status: 'synced', added: 1, removed: 1, packages: rpms.length - 1 });
    const after = await recorded('incremental');
    const kept = before.filter((row) => after.some((other) => other.nevra === row.nevra));
    expect(kept.length).toBe(rpms.length - 2);
    for (const row of kept) expect(after.find((other) => other.nevra === row.nevra)!.id).toBe(row.id);

    // Safe while hosts download: the host that read the previous repomd.xml still gets the files it named.
    const newRepomd = await (await fetch(`${proxied}repodata/repomd.xml`)).text();
    expect(newRepomd).not.toContain(oldPrimaryHref);
    const late = await fetch(proxied + oldPrimaryHref);
    expect(late.status).toBe(200);
    expect(Buffer.from(await late.arrayBuffer()).equals(oldPrimary)).toBe(true);
    // Superseded files are forgotten by a later sync once older than the hold time (6 hours).
    await server.database.sql`update mirror_metadata_files set superseded_at = now() - interval '7 hours' where superseded_at is not null`;
    await makeUpstream({ rpms: rpms.slice(2), compress: 'gz', dir: repo.dir });
    expect((await sync('incremental')).body).toMatchObject({ status: 'synced', removed: 1 });
    expect((await fetch(proxied + oldPrimaryHref)).status).toBe(404);
  });

  it('a signed upstream syncs with its key; without the key it is trusted as it is', async () => {
    const { http } = await upstream({ compress: 'gz', signRepomdWith: vendor, signPackagesWith: vendor });
    await addMirror('signed', http.url, [vendor.publicKey]);
    expect((await sync('signed')).status).toBe(200);
    await addMirror('signed-nokey', http.url);
    expect((await sync('signed-nokey')).status).toBe(200);
  });

  it('refuses an unsigned upstream when the mirror has a key, and one signed by another key', async () => {
    const unsigned = await upstream({ compress: 'gz' });
    await addMirror('unsigned-key', unsigned.http.url, [vendor.publicKey]);
    const refused = await sync('unsigned-key');
    expect(refused.status).toBe(502);
    expect(refused.body.detail).toMatch(/repomd\.xml\.asc: the upstream is not signed \(404\)/);
    expect(await recorded('unsigned-key')).toEqual([]);

    const other = await upstream({ compress: 'gz', signRepomdWith: otherVendor });
    await addMirror('other-key', other.http.url, [vendor.publicKey]);
    const bad = await sync('other-key');
    expect(bad.status).toBe(502);
    expect(bad.body.detail).toMatch(/bad signature/);
    expect(await recorded('other-key')).toEqual([]);
  });

  it('upstream failures fail the sync with a clear message and keep the previous state', async () => {
    const { repo, http } = await upstream({ compress: 'gz', signRepomdWith: vendor });
    await addMirror('failing', http.url, [vendor.publicKey]);
    expect((await sync('failing')).status).toBe(200);
    const good = await recorded('failing');
    const [goodMirror] = await server.database.sql<{ repomd_xml: Buffer }[]>`select repomd_xml from mirrors where name = 'failing'`;
    const repomdPath = path.join(repo.dir, 'repodata/repomd.xml');
    const repomd = await readFile(repomdPath, 'utf8');
    const primaryName = (await readdir(path.join(repo.dir, 'repodata'))).find((name) => name.endsWith('primary.xml.gz'))!;
    const primaryPath = path.join(repo.dir, 'repodata', primaryName);
    const primary = await readFile(primaryPath);

    const expectKept = async () => {
      expect(await recorded('failing')).toEqual(good);
      const [row] = await server.database.sql<{ repomd_xml: Buffer; last_error: string }[]>`select repomd_xml, last_error from mirrors where name = 'failing'`;
      expect(row!.repomd_xml.equals(goodMirror!.repomd_xml)).toBe(true);
      return row!.last_error;
    };

    // A tampered repomd.xml: the signature no longer matches.
    await writeFile(repomdPath, repomd.replace('<revision>', '<revision>9'));
    let failed = await sync('failing');
    expect([failed.status, failed.body.detail]).toEqual([502, expect.stringMatching(/bad signature/)]);
    expect(await expectKept()).toMatch(/bad signature/);
    await writeFile(repomdPath, repomd);

    // primary.xml.gz whose bytes do not match repomd.xml's checksum (re-signed so only the checksum is wrong).
    await writeFile(primaryPath, gzipSync(Buffer.from('<metadata packages="0"></metadata>')));
    failed = await sync('failing');
    expect([failed.status, failed.body.detail]).toEqual([502, expect.stringMatching(/checksum mismatch/)]);
    await expectKept();
    await writeFile(primaryPath, primary);

    // A file repomd.xml names is missing.
    await rmFile(primaryPath);
    failed = await sync('failing');
    expect([failed.status, failed.body.detail]).toEqual([502, expect.stringMatching(/answered 404/)]);
    await expectKept();
    await writeFile(primaryPath, primary);

    // The upstream is down.
    await http.stop();
    failed = await sync('failing');
    expect(failed.status).toBe(502);
    expect(failed.body.detail).toMatch(/cannot reach the upstream/);
    await expectKept();
    await http.start();
    expect((await sync('failing')).body.status).toBe('unchanged');
  });

  it('malformed primary XML (with a matching checksum) fails the sync and keeps the previous state', async () => {
    const good = await upstream({ compress: 'gz' });
    await addMirror('malformed', good.http.url);
    expect((await sync('malformed')).status).toBe(200);
    const before = await recorded('malformed');
    // An upstream whose primary is cut in the middle of a <package>, repomd.xml stating its true checksum.
    const primaryName = (await readdir(path.join(good.repo.dir, 'repodata'))).find((name) => name.endsWith('primary.xml.gz'))!;
    const primaryPath = path.join(good.repo.dir, 'repodata', primaryName);
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(await readFile(primaryPath)).toString('utf8');
    const cut = gzipSync(Buffer.from(text.slice(0, Math.floor(text.length / 2)) + '<<<'));
    const { createHash } = await import('node:crypto');
    const oldSum = createHash('sha256').update(await readFile(primaryPath)).digest('hex');
    const newSum = createHash('sha256').update(cut).digest('hex');
    await writeFile(primaryPath, cut);
    const repomdPath = path.join(good.repo.dir, 'repodata/repomd.xml');
    await writeFile(repomdPath, (await readFile(repomdPath, 'utf8')).replace(oldSum, newSum));
    const failed = await sync('malformed');
    expect(failed.status).toBe(502);
    expect(failed.body.detail).toMatch(/malformed upstream metadata/);
    expect(await recorded('malformed')).toEqual(before);
  });

  it('mirror commands: add, list, show, sync, remove through the CLI; only admins', async () => {
    const { http } = await upstream({ compress: 'xz' });
    const token = server.adminToken;
    let result = await rpmgate(server, token, ['mirror', 'add', 'cli', http.url, '--key', vendor.publicKeyFile, '--arch', 'x86_64']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/added mirror cli/);
    result = await rpmgate(server, token, ['mirror', 'add', 'cli-nokey', http.url]);
    expect(result.code, result.stderr).toBe(0);
    result = await rpmgate(server, token, ['mirror', 'sync', 'cli']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/not signed/);
    result = await rpmgate(server, token, ['mirror', 'sync', 'cli-nokey']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/mirror cli-nokey: \d+ packages, \d+ added, 0 removed/);
    result = await rpmgate(server, token, ['mirror', 'show', 'cli']);
    expect(result.stdout).toMatch(/last error:\s+.*not signed/);
    expect(result.stdout).toMatch(/arches:\s+x86_64/);
    result = await rpmgate(server, token, ['mirror', 'list']);
    expect(result.stdout).toMatch(/cli-nokey/);
    const developer = await server.tokenFor('developer');
    result = await rpmgate(server, developer, ['mirror', 'list']);
    expect(result.code).toBe(1);
    result = await rpmgate(server, token, ['mirror', 'remove', 'cli']);
    expect(result.code, result.stderr).toBe(0);
    result = await rpmgate(server, token, ['mirror', 'show', 'cli']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no mirror cli/);
  });
});

describe('scheduled mirror syncs (RPMGATE_MIRROR_SYNC_INTERVAL)', () => {
  it('with two servers on one database, ask the upstream about once per interval, not once per server', async () => {
    const { http } = await upstream({ compress: 'gz' });
    await addMirror('scheduled', http.url);
    const keyFile = path.join(server.dataDir, 'keys', `${server.server.context.keyring.current().info.fingerprint}.key.asc`);
    const started = Date.now();
    const scheduled = [];
    // Two servers whose timers fire half a second apart: each would sync on its own turn.
    for (const delay of [0, 500]) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-mirror-schedule-'));
      const config = readConfig({ PORT: '0', RPMGATE_DATA_DIR: dataDir, RPMGATE_ADMIN_TOKEN: server.adminToken, RPMGATE_RPMLINT: 'off', RPMGATE_MIRROR_SYNC_INTERVAL: '1', RPMGATE_SIGNING_KEY_FILE: keyFile });
      scheduled.push({ dataDir, running: await startServer(config, { log: createLogger(false), database: server.database }) });
    }
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    for (const { dataDir, running } of scheduled) {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    }
    const seconds = (Date.now() - started) / 1000;
    const asked = http.requests.get('/repodata/repomd.xml') ?? 0;
    // Each server's timer fires every second: two servers syncing on their own would ask ~12 times.
    expect(asked).toBeGreaterThanOrEqual(2);
    expect(asked).toBeLessThanOrEqual(Math.ceil(seconds * 1.4));
    expect((await recorded('scheduled')).map((p) => p.nevra)).toEqual(binaryNevras());
  });
});

async function rmFile(file: string): Promise<void> {
  const { rm } = await import('node:fs/promises');
  await rm(file, { force: true });
}
