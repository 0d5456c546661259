// `rpmgate backup DIR` while a real `rpmgate serve` takes uploads, then `rpmgate restore DIR` into a new
// data dir and a second `rpmgate serve` on it: the restored store and database agree (store fsck), every
// set's repository answers the same bytes (repomd.xml, primary), the packages stored before the backup are
// all there, dnf installs from it, and a second backup into DIR copies only the new package files.
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createDnfRoot, dnfAvailable } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { exited, freePort, startServeProcess, stopLeftoverPostgres, type ServeProcess } from '../support/serve-process.ts';
import { fetchRepomdFiles } from '../support/served-repodata.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

const availability = await dnfAvailable();
if (!availability.ok && toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);

const adminToken = 'backup-test-admin-token-0123456789';
const env = { RPMGATE_ADMIN_TOKEN: adminToken, RPMGATE_RPMLINT: 'off', RPMGATE_WORKERS: '2' };
let scratch: string;
let sourceDir: string;
let restoredDir: string;
let backupDir: string;
let source: ServeProcess | null = null;
let restored: ServeProcess | null = null;
let loadRpms: string[];
const setNames = ['web/1.0', 'web/1.1', 'db/2.0'];

const api = (server: ServeProcess, route: string, init: RequestInit = {}) =>
  fetch(`${server.url}${route}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } });
const uploadTo = async (server: ServeProcess, file: string) => {
  const answer = await api(server, '/api/v1/packages', { method: 'POST', headers: { 'content-type': 'application/x-rpm' }, body: await readFile(file) });
  expect(answer.status, await answer.clone().text()).toBeLessThan(300);
  return (await answer.json()) as { nevra: string };
};
const cli = (dataDir: string, ...args: string[]) => runCli('rpmgate', [...args, '--json'], { RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '' });

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-backup-'));
  // The embedded PostgreSQL runs as nobody when the tests run as root: it must reach the data dirs.
  await chmod(scratch, 0o755);
  sourceDir = path.join(scratch, 'data');
  restoredDir = path.join(scratch, 'restored');
  backupDir = path.join(scratch, 'backup');
  const [setRpms, load] = await Promise.all([
    buildSmallRpms([
      { name: 'rg-bk-web', version: '1.0', requires: ['rg-bk-lib'] },
      { name: 'rg-bk-web', version: '1.1', requires: ['rg-bk-lib'] },
      { name: 'rg-bk-lib', version: '3.0' },
      { name: 'rg-bk-db', version: '2.0' },
    ]),
    buildSmallRpms(Array.from({ length: 12 }, (_, i) => ({ name: `rg-bk-load${i}`, version: '1.0' }))),
    (async () => {
      source = await startServeProcess({ dataDir: sourceDir, port: await freePort(), env });
    })(),
  ]);
  loadRpms = load;
  const nevras = [];
  for (const file of setRpms) nevras.push((await uploadTo(source!, file)).nevra);
  const create = async (name: string, version: string, packages: string[]) => {
    const answer = await api(source!, '/api/v1/sets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, version, packages }) });
    expect(answer.status).toBe(201);
  };
  await create('web', '1.0', [nevras[0]!, nevras[2]!]);
  await create('web', '1.1', [nevras[1]!, nevras[2]!]);
  await create('db', '2.0', [nevras[3]!]);
  const promoted = await api(source!, '/api/v1/sets/web/1.0/promote', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level: 'qa_ready' }) });
  expect(promoted.status).toBe(200);
}, 300_000);

afterAll(async () => {
  for (const server of [source, restored]) {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  }
  if (sourceDir) stopLeftoverPostgres(sourceDir);
  if (restoredDir) stopLeftoverPostgres(restoredDir);
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

interface BackupReport {
  tables: number;
  rows: number;
  blobs: number;
  blobsCopied: number;
}

describe('backup while uploads go on, restore into a new data dir', () => {
  let first: BackupReport;
  let uploadedBefore: string[] = [];

  it('backs up under upload load, and the restore is whole and consistent', async () => {
    // Uploads run all through the backup; the last three come after it.
    const uploaded: string[] = [];
    const uploads = (async () => {
      for (const file of loadRpms.slice(0, -3)) uploaded.push((await uploadTo(source!, file)).nevra);
    })();
    while (uploaded.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    uploadedBefore = [...uploaded];
    const result = await cli(sourceDir, 'backup', backupDir);
    await uploads;
    for (const file of loadRpms.slice(-3)) await uploadTo(source!, file);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    first = JSON.parse(result.stdout) as BackupReport;
    expect(first.blobs).toBeGreaterThanOrEqual(4 + uploadedBefore.length);
    expect(first.blobsCopied).toBe(first.blobs);

    // Restoring into a data dir that holds anything is refused with one line.
    const refused = await cli(sourceDir, 'restore', backupDir);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^[^\n]*is not empty: restore into a new, empty data dir[^\n]*$/);

    const restoring = await cli(restoredDir, 'restore', backupDir);
    expect(restoring.stderr).toBe('');
    expect(restoring.code).toBe(0);
    expect(JSON.parse(restoring.stdout)).toMatchObject({ rows: first.rows, blobs: first.blobs });
    const fsck = await cli(restoredDir, 'store', 'fsck');
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
  }, 600_000);

  it('serves exactly the backed-up sets: the same repomd.xml and primary bytes, and the packages stored before', async () => {
    restored = await startServeProcess({ dataDir: restoredDir, port: await freePort(), env });
    for (const set of setNames) {
      const [before, after] = await Promise.all([fetchRepomdFiles(`${source!.url}/repo/set/${set}/`), fetchRepomdFiles(`${restored.url}/repo/set/${set}/`)]);
      expect(after.repomd.equals(before.repomd), `${set} repomd.xml`).toBe(true);
      const primary = (files: typeof before.files) => files.find((file) => file.type === 'primary')!.bytes;
      expect(primary(after.files).equals(primary(before.files)), `${set} primary`).toBe(true);
    }
    const sets = (await (await api(restored, '/api/v1/sets')).json()) as { id: string; level: string }[];
    expect(sets.map((set) => `${set.id} ${set.level}`).sort()).toEqual(['db/2.0 integ', 'web/1.0 qa_ready', 'web/1.1 integ']);
    for (const nevra of uploadedBefore) expect((await api(restored, `/api/v1/packages/${nevra}`)).status, nevra).toBe(200);
    // The key came back: the restored server signs with the same key.
    const [keyBefore, keyAfter] = await Promise.all([fetch(`${source!.url}/keys/rpmgate.asc`), fetch(`${restored.url}/keys/rpmgate.asc`)]);
    expect(await keyAfter.text()).toBe(await keyBefore.text());
  }, 300_000);

  it.skipIf(!availability.ok)('dnf installs a set from the restored server, signatures checked', async () => {
    const root = await createDnfRoot();
    try {
      const baseUrl = `${restored!.url}/repo/set/web/1.0/`;
      await root.dnf(['install', 'rg-bk-web'], { repoUrl: baseUrl, setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${restored!.url}/keys/rpmgate.asc`] });
      expect((await root.installed()).filter((nevra) => nevra.startsWith('rg-bk-')).sort()).toEqual(['rg-bk-lib-3.0-1.noarch', 'rg-bk-web-1.0-1.noarch']);
    } finally {
      await root.cleanup();
    }
  }, 300_000);

  it('a second backup into the same directory copies only the new package files', async () => {
    const result = await cli(sourceDir, 'backup', backupDir);
    expect(result.code, result.stderr).toBe(0);
    const second = JSON.parse(result.stdout) as BackupReport;
    expect(second.blobs).toBeGreaterThanOrEqual(first.blobs + 3);
    expect(second.blobsCopied).toBe(second.blobs - first.blobs);
  }, 300_000);
});
