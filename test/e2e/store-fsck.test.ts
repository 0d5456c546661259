// A row whose file is gone or cut short (disk damage, a bad restore) is found before an answer starts:
// a problem document, never a 200 with a Content-Length and then a truncated body; the server logs it as
// one JSON line; and `rpmgate store fsck` lists such rows and the files no row names (--repair removes
// the stray ones). A real `rpmgate serve` with its embedded PostgreSQL, then the real CLI on its data dir.
// The damaged packages are ones the server has not answered yet: a small package file it has answered
// is kept in memory, verified by its sha256, and answered from there (warm-files.ts) whatever later
// happens to the disk; fsck is what finds that damage.
import { chmod, mkdir, mkdtemp, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { exited, freePort, startServeProcess, stopLeftoverPostgres, type ServeProcess } from '../support/serve-process.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

const adminToken = 'fsck-test-admin-token-0123456789';
let dataDir: string;
let serve: ServeProcess | null = null;
/** A package no test damages, answered before the others are damaged. */
let intact: { href: string; size: number };
const packages: { nevra: string; filename: string; sha256: string; size: number; href: string; bytes: Buffer }[] = [];

const blobPath = (sha256: string) => path.join(dataDir, 'blobs', sha256.slice(0, 2), sha256);
const api = (route: string, init: RequestInit = {}) =>
  fetch(`${serve!.url}${route}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } });
const fsck = (...args: string[]) => runCli('rpmgate', ['store', 'fsck', ...args], { RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '' });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-fsck-'));
  await chmod(dataDir, 0o755);
  const [files] = await Promise.all([
    buildSmallRpms([{ name: 'rg-fsck-gone' }, { name: 'rg-fsck-cut' }, { name: 'rg-fsck-intact' }]),
    (async () => {
      serve = await startServeProcess({ dataDir, port: await freePort(), env: { RPMGATE_ADMIN_TOKEN: adminToken } });
    })(),
  ]);
  for (const file of files) {
    const stored = await api('/api/v1/packages', { method: 'POST', headers: { 'content-type': 'application/x-rpm' }, body: await readFile(file) });
    expect(stored.status).toBe(201);
    const view = (await stored.json()) as { nevra: string; filename: string; sha256: string; size: number };
    // The served file's bytes as a backup would hold them, to restore them at the end.
    packages.push({ ...view, href: `/repo/set/fsck/1.0/Packages/${view.sha256.slice(0, 16)}/${view.filename}`, bytes: await readFile(blobPath(view.sha256)) });
  }
  const set = await api('/api/v1/sets', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'fsck', version: '1.0', packages: packages.map((p) => p.nevra) }),
  });
  expect(set.status).toBe(201);
  intact = packages.pop()!;
}, 180_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM');
    await exited(serve.child);
  }
  stopLeftoverPostgres(dataDir);
  await rm(dataDir, { recursive: true, force: true });
});

describe('a row without its file, served', () => {
  it('answers the intact package whole', async () => {
    const answer = await fetch(serve!.url + intact.href);
    expect(answer.status).toBe(200);
    expect((await answer.arrayBuffer()).byteLength).toBe(intact.size);
  });

  it('a missing file: 500 problem+json before any byte of the package, for GET, HEAD and a Range; logged as one JSON line', async () => {
    const [gone] = packages;
    await rm(blobPath(gone!.sha256));
    for (const init of [{}, { method: 'HEAD' }, { headers: { range: 'bytes=0-99' } }] as RequestInit[]) {
      const answer = await fetch(serve!.url + gone!.href, init);
      expect(answer.status, JSON.stringify(init)).toBe(500);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      if (init.method !== 'HEAD') {
        const problem = (await answer.json()) as { detail: string };
        expect(problem.detail).toMatch(/stored file is missing or damaged.*rpmgate store fsck/);
      }
    }
    const lines = serve!.log().split('\n').filter((line) => line.includes(gone!.sha256));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'error', message: 'stored file missing', expectedSize: gone!.size, foundSize: null });
    expect(String(record.path)).toContain(gone!.sha256);
  });

  it('a file cut short: 500 problem+json, not a 200 with a cut body', async () => {
    const [, cut] = packages;
    await truncate(blobPath(cut!.sha256), Math.floor(cut!.size / 2));
    const answer = await fetch(serve!.url + cut!.href);
    expect(answer.status).toBe(500);
    expect(((await answer.json()) as { code: string }).code).toBe('internal');
    const line = serve!.log().split('\n').find((entry) => entry.includes(cut!.sha256));
    expect(JSON.parse(line!)).toMatchObject({ message: 'stored file missing', expectedSize: cut!.size, foundSize: Math.floor(cut!.size / 2) });
  });
});

describe('rpmgate store fsck', () => {
  const strayOld = 'ab'.repeat(32);
  const strayYoung = 'cd'.repeat(32);

  beforeAll(async () => {
    // Files no row names: one left long ago, one as young as an upload in flight.
    for (const [sha256, age] of [[strayOld, 2 * 3600], [strayYoung, 0]] as const) {
      await mkdir(path.dirname(blobPath(sha256)), { recursive: true });
      await writeFile(blobPath(sha256), 'not a package');
      const when = new Date(Date.now() - age * 1000);
      await utimes(blobPath(sha256), when, when);
    }
    // The embedded database belongs to the server: fsck runs with the server stopped.
    serve!.child.kill('SIGTERM');
    await exited(serve!.child);
  }, 60_000);

  it('lists the rows without their file and the old stray file, and exits 1', async () => {
    const result = await fsck();
    expect(result.code, result.stderr).toBe(1);
    const [gone, cut] = packages;
    expect(result.stdout).toContain(`row without its file: ${gone!.nevra} served file ${gone!.sha256}: missing; restore blobs/`);
    expect(result.stdout).toContain(`row without its file: ${cut!.nevra} served file ${cut!.sha256}: ${Math.floor(cut!.size / 2)} bytes, not ${cut!.size}`);
    expect(result.stdout).toContain(`file without a row: ${strayOld}`);
    expect(result.stdout).not.toContain(strayYoung);
    expect(result.stderr.trim()).toBe('rpmgate: the store and the database disagree: 2 row(s) without their file, 1 file(s) without a row');
  }, 120_000);

  it('--json gives the same findings as one document', async () => {
    const result = await fsck('--json');
    const report = JSON.parse(result.stdout) as { missing: { sha256: string; role: string }[]; stray: { sha256: string }[]; clean: boolean };
    expect(report.missing.map((file) => file.sha256).sort()).toEqual(packages.map((p) => p.sha256).sort());
    expect(report.stray.map((blob) => blob.sha256)).toEqual([strayOld]);
    expect(report.clean).toBe(false);
  }, 120_000);

  it('--repair removes the stray file but invents no package file; restored files make it clean', async () => {
    const repaired = await fsck('--repair');
    expect(repaired.code).toBe(1);
    expect(repaired.stdout).toContain(`file without a row: ${strayOld} (13 bytes,`);
    await expect(readFile(blobPath(strayOld))).rejects.toThrow();
    await expect(readFile(blobPath(strayYoung))).resolves.toBeDefined();

    // The administrator restores the package files from a backup: store and database agree again (the
    // young stray file is an upload in flight as far as fsck can tell).
    for (const pkg of packages) await writeFile(blobPath(pkg.sha256), pkg.bytes);
    const restored = await fsck();
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/checked 6 file row\(s\) and 7 blob\(s\)\nstore and database agree/);
  }, 120_000);
});
