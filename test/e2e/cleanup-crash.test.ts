// A cleanup killed (SIGKILL, as a power cut) at each step in turn — after recording warnings, after one
// deletion committed, after every row went and before any file, after the first file went — leaves no
// row without its file, and a rerun finishes and removes the files no row names. A real `rpmgate serve`
// with its embedded PostgreSQL, the real `rpmgate store fsck` on its data dir.
import { chmod, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { exited, freePort, startServeProcess, stopLeftoverPostgres, type ServeProcess } from '../support/serve-process.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

const adminToken = 'cleanup-crash-admin-token-0123456789';
const points = ['cleanup:warned', 'cleanup:one-deleted', 'cleanup:rows-deleted', 'cleanup:one-file-removed'] as const;
let dataDir: string;
let policyFile: string;
let port: number;
let serve: ServeProcess | null = null;
let rpms: string[][];

const api = (route: string, init: RequestInit = {}) =>
  fetch(`${serve!.url}${route}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...init.headers } });

async function start(crashAt?: string): Promise<void> {
  // A test that failed midway left its server running: stopped here, not leaked.
  await stop();
  serve = await startServeProcess({
    dataDir,
    port,
    // One process: the crash point kills the server itself (with workers, the supervisor would restart the worker).
    env: { RPMGATE_ADMIN_TOKEN: adminToken, RPMGATE_POLICY_FILE: policyFile, RPMGATE_WORKERS: '1', ...(crashAt ? { RPMGATE_TEST_CRASH_AT: crashAt } : {}) },
  });
}

async function stop(): Promise<void> {
  if (serve && serve.child.exitCode === null && serve.child.signalCode === null) {
    serve.child.kill('SIGTERM');
    await exited(serve.child);
  }
  serve = null;
}

/** Runs the cleanup; 'crashed' when the server died answering. */
async function run(): Promise<{ deleted: unknown[]; warned: number } | 'crashed'> {
  try {
    const response = await api('/api/v1/cleanup/run', { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    return (await response.json()) as { deleted: unknown[]; warned: number };
  } catch {
    return 'crashed';
  }
}

async function fsck(): Promise<{ missing: unknown[]; stray: { sha256: string }[] }> {
  const result = await runCli('rpmgate', ['store', 'fsck', '--json'], { RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '' });
  return JSON.parse(result.stdout) as { missing: unknown[]; stray: { sha256: string }[] };
}

/** Every blob made two hours old: what a crash left behind is then past the sweep's grace period. */
async function ageBlobs(): Promise<void> {
  const old = new Date(Date.now() - 2 * 3_600_000);
  const blobs = path.join(dataDir, 'blobs');
  for (const shard of await readdir(blobs)) {
    for (const name of await readdir(path.join(blobs, shard))) await utimes(path.join(blobs, shard, name), old, old);
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-cleanup-crash-'));
  await chmod(dataDir, 0o755);
  policyFile = path.join(dataDir, 'policy.json');
  // No delay and no orphan age: a first run warns, the second deletes.
  await writeFile(policyFile, JSON.stringify({ cleanup: { warningDays: 0, orphanDays: 0, strayBlobGraceHours: 1 } }));
  port = await freePort();
  rpms = await Promise.all(
    points.map((_, i) => buildSmallRpms([{ name: `rg-crash${i}`, version: '1.0' }, { name: `rg-crash${i}`, version: '2.0' }, { name: `rg-crash${i}-orphan` }])),
  );
}, 300_000);

afterAll(async () => {
  await stop();
  stopLeftoverPostgres(dataDir);
  await rm(dataDir, { recursive: true, force: true });
});

describe.each(points.map((point, index) => ({ point, index })))('killed at $point', ({ point, index }) => {
  it('leaves no row without its file, and a rerun finishes and gives the rest back', async () => {
    await start(point);
    for (const file of rpms[index]!) {
      expect((await api('/api/v1/packages', { method: 'POST', headers: { 'content-type': 'application/x-rpm' }, body: await readFile(file) })).status).toBe(201);
    }
    for (const version of ['1.0', '2.0']) {
      const created = await api('/api/v1/sets', { method: 'POST', body: JSON.stringify({ name: `crash${index}`, version, packages: [`rg-crash${index}-${version}-1.noarch`] }) });
      expect(created.status).toBe(201);
    }
    const first = await run();
    const outcome = first === 'crashed' ? first : await run();
    expect(outcome).toBe('crashed');
    await exited(serve!.child);
    serve = null;

    // Killed: every row still has its file.
    expect((await fsck()).missing).toEqual([]);

    await ageBlobs();
    // Killed after rows went and before (some of) their files: those files are left, named by no row.
    const left = await fsck();
    expect(left.missing).toEqual([]);
    if (point === 'cleanup:rows-deleted' || point === 'cleanup:one-file-removed') expect(left.stray.length).toBeGreaterThanOrEqual(1);
    await start();
    const rerun = await run();
    expect(rerun).not.toBe('crashed');
    const sets = (await (await api(`/api/v1/sets?name=crash${index}`)).json()) as { version: string }[] | { sets: { version: string }[] };
    const versions = (Array.isArray(sets) ? sets : sets.sets).map((set) => set.version);
    expect(versions).toEqual(['2.0']);
    expect((await api(`/api/v1/packages/rg-crash${index}-orphan-1.0-1.noarch`)).status).toBe(404);
    await stop();

    const after = await fsck();
    expect(after).toMatchObject({ missing: [], stray: [] });
  }, 180_000);
});
