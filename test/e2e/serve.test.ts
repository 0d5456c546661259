// `rpmgate serve` as a user runs it: a real process with its embedded PostgreSQL under a fresh data
// dir. It answers, stops cleanly on SIGTERM (PostgreSQL too), keeps its data across restarts, and a
// crash in the middle of an upload leaves neither a partial file nor a row pointing at nothing. And
// `npm start &` stops with everything it started when its pid is signalled.
import { spawn, type ChildProcess } from 'node:child_process';
import { logRecords } from '../support/log-records.ts';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { runCli } from '../support/cli.ts';
import {
  descendantsOf,
  exited,
  freePort,
  isAlive,
  portIsFree,
  postgresProcessesOf,
  postmasterPid,
  repositoryRoot,
  startServeProcess,
  stopLeftoverPostgres,
  waitForHealth,
} from '../support/serve-process.ts';

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
    // The upload has begun once its part file exists (polled: a loaded machine takes its time).
    await expect.poll(async () => (await readdir(path.join(dataDir, 'tmp'))).length, { timeout: 30_000 }).toBe(1);
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

// `npm start &` as the README says: the pid the shell gets is npm's, and signalling it must stop the
// server and its PostgreSQL (npm passes SIGINT and SIGTERM to the script's process, which must be the
// server itself, not a shell or a launcher in between).
describe('npm start', () => {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  let startDir: string;
  const left: number[] = [];

  beforeAll(async () => {
    startDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-npm-start-'));
    await chmod(startDir, 0o755);
  });
  afterAll(async () => {
    // Whatever a failed run left behind (we started these processes).
    for (const pid of left) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const signal of signals) stopLeftoverPostgres(path.join(startDir, signal));
    await rm(startDir, { recursive: true, force: true });
  });

  for (const signal of signals) {
    it(`stops the server and its PostgreSQL when the pid of "npm start &" gets ${signal}`, async () => {
      const dataDir = path.join(startDir, signal);
      const npmPort = await freePort();
      const shell = spawn('sh', ['-c', 'npm start & echo $!; wait'], {
        cwd: repositoryRoot,
        env: { ...process.env, PORT: String(npmPort), RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '', RPMGATE_ADMIN_TOKEN: adminToken },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      shell.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      shell.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await expect.poll(() => /^\d+\n/.test(output)).toBe(true);
      const npmPid = Number(output.split('\n')[0]);
      await waitForHealth(`http://127.0.0.1:${npmPort}`, () => (shell.exitCode !== null ? `npm start ended: ${output}` : null), () => output);
      const below = descendantsOf(npmPid);
      left.push(npmPid, ...below);
      expect(postgresProcessesOf(dataDir).length).toBeGreaterThan(0);

      process.kill(npmPid, signal);
      expect(await exited(shell), output).toBe(0);
      await expect.poll(() => below.filter(isAlive), { timeout: 30_000 }).toEqual([]);
      expect(postgresProcessesOf(dataDir)).toEqual([]);
      expect(existsSync(path.join(dataDir, 'rpmgate.pid'))).toBe(false);
      expect(await portIsFree(npmPort)).toBe(true);
    });
  }
});

describe('a signal while rpmgate serve starts', () => {
  it('stops it once started, with its PostgreSQL, and leaves no half cluster behind', async () => {
    const startDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-early-signal-'));
    await chmod(startDir, 0o755);
    const serve = spawn(process.execPath, [path.join(repositoryRoot, 'bin/rpmgate.js'), 'serve'], {
      env: { ...process.env, PORT: String(await freePort()), RPMGATE_DATA_DIR: startDir, DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    serve.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    try {
      // initdb writes into a staging directory first: the signal comes in the middle of it.
      await expect.poll(async () => (await readdir(startDir)).some((name) => name.startsWith('pg.init-')), { timeout: 60_000, interval: 20 }).toBe(true);
      serve.kill('SIGTERM');
      expect(await exited(serve), log).toBe(0);
      expect(logRecords(log).some((r) => r.message === 'shutting down' && r.signal === 'SIGTERM')).toBe(true);
      expect(postgresProcessesOf(startDir)).toEqual([]);
      expect((await readdir(startDir)).filter((name) => name.startsWith('pg.init-') || name === 'rpmgate.pid')).toEqual([]);
    } finally {
      if (serve.exitCode === null) serve.kill('SIGKILL');
      stopLeftoverPostgres(startDir);
      await rm(startDir, { recursive: true, force: true });
    }
  });
});
