// `rpmgate serve` as a user runs it: a real process with its embedded PostgreSQL under a fresh data
// dir. It answers, stops cleanly on SIGTERM (PostgreSQL too), keeps its data across restarts, and a
// crash in the middle of an upload leaves neither a partial file nor a row pointing at nothing.
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { runCli } from '../support/cli.ts';
import { exited, freePort, postmasterPid, startServeProcess, stopLeftoverPostgres } from '../support/serve-process.ts';

const adminToken = 'serve-test-admin-token-0123456789';
let dataDir: string;
let port: number;
let fixtures: FixtureSet;
let child: ChildProcess | null = null;

function url(): string {
  return `http://127.0.0.1:${port}`;
}

async function startServe(): Promise<ChildProcess> {
  return (await startServeProcess({ dataDir, port, env: { RPMGATE_ADMIN_TOKEN: adminToken } })).child;
}

function postgresRunning(): boolean {
  return postmasterPid(dataDir) !== null;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-serve-'));
  await chmod(dataDir, 0o755);
  port = await freePort();
  fixtures = await buildFixtures();
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
  // Whatever happened above, leave no PostgreSQL behind.
  stopLeftoverPostgres(dataDir);
  await rm(dataDir, { recursive: true, force: true });
});

describe('rpmgate serve', () => {
  it('starts with an embedded PostgreSQL, mints tokens and takes uploads from the CLI', async () => {
    child = await startServe();
    const token = await runCli('rpmgate', ['token', 'create', '--role', 'developer', '--name', 'dev'], { RPMGATE_URL: url(), RPMGATE_TOKEN: adminToken });
    expect(token.code, token.stderr).toBe(0);
    const developer = token.stdout.trim();
    expect(developer).toMatch(/^rg_/);
    const upload = await runCli('rpmgate', ['upload', fixtures.byName('rg-epoch').path], { RPMGATE_URL: url(), RPMGATE_TOKEN: developer });
    expect(upload.code, upload.stderr).toBe(0);
  });

  it('stops cleanly on SIGTERM, PostgreSQL included', async () => {
    child!.kill('SIGTERM');
    expect(await exited(child!)).toBe(0);
    expect(postgresRunning()).toBe(false);
  });

  it('keeps its data across a restart, and migrate finds nothing to do', async () => {
    child = await startServe();
    const response = await fetch(`${url()}/api/v1/packages?name=rg-epoch`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(((await response.json()) as unknown[]).length).toBe(1);
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    expect(postgresRunning()).toBe(false);
    const migrate = await runCli('rpmgate', ['migrate'], { RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '' });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toMatch(/up to date/);
  });

  it('a crash in the middle of an upload leaves no partial file and no row', async () => {
    child = await startServe();
    const bytes = await readFile(fixtures.byName('rg-lib').path);
    // Send the headers and half the body, then kill the server while it waits for the rest.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /api/v1/packages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${adminToken}\r\nContent-Length: ${bytes.length}\r\n\r\n`,
    );
    socket.write(bytes.subarray(0, bytes.length >> 1));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await readdir(path.join(dataDir, 'tmp'))).length).toBe(1);
    child.kill('SIGKILL');
    await exited(child);
    socket.destroy();

    // The crashed server's PostgreSQL is still running: the new server adopts it.
    expect(postgresRunning()).toBe(true);
    child = await startServe();
    expect(await readdir(path.join(dataDir, 'tmp'))).toEqual([]);
    const response = await fetch(`${url()}/api/v1/packages?name=rg-lib`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(await response.json()).toEqual([]);
    const blobs = (await Promise.all((await readdir(path.join(dataDir, 'blobs'))).map((dir) => readdir(path.join(dataDir, 'blobs', dir))))).flat();
    // Only rg-epoch's blobs: the upload as sent and the signed file served.
    expect(blobs.length).toBeLessThanOrEqual(2);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(postgresRunning()).toBe(false);
  });

  it('refuses a second server on the same data dir with one clear line', async () => {
    child = await startServe();
    const second = await runCli('rpmgate', ['serve'], { PORT: String(await freePort()), RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '' });
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toMatch(/^rpmgate: another rpmgate \(pid \d+\) is using the data dir/);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
