// A new user's first minutes, with the real programs: `rpmgate serve` on a fresh data dir without any
// admin token writes one to DATA_DIR/initial-admin-token (0600) and, on a terminal (a real pty through
// script(1)), names the URL, the data dir, the key and the next commands; a command run while the server
// is still starting waits for it; a second start writes nothing and tells no token. And the CLI itself:
// the bundle answers --version, and an edited source makes bin/ run the sources instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { exited, freePort, repositoryRoot, stopLeftoverPostgres, waitForHealth } from '../support/serve-process.ts';

let base: string;
let dataDir: string;
let port: number;
const children: ChildProcess[] = [];

/** `rpmgate serve` under script(1), so that its stdout is a terminal; everything it shows is collected. */
function serveOnTerminal(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const command = `${process.execPath} ${path.join(repositoryRoot, 'bin/rpmgate.js')} serve 2>/dev/null`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...process.env, PORT: String(port), RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '', RPMGATE_ADMIN_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output.replace(/\r/g, '') };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // script(1) passes the signal to the session it runs, whose leader is rpmgate serve.
  child.kill('SIGTERM');
  await exited(child);
  await waitForFree();
}

async function waitForFree(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const lock = await stat(path.join(dataDir, 'pg', 'postmaster.pid')).then(() => true, () => false);
    if (!lock) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForText(output: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`never printed "${text}": ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-first-hour-'));
  await chmod(base, 0o755);
  dataDir = path.join(base, 'var');
  port = await freePort();
});
afterAll(async () => {
  for (const child of children) await stop(child);
  stopLeftoverPostgres(dataDir);
  await rm(base, { recursive: true, force: true });
});

describe('the first start', () => {
  let tokenFile: string;
  let firstServer: { child: ChildProcess; output: () => string };

  it('a command run at once after starting the server waits for it, then works', async () => {
    const server = serveOnTerminal({});
    firstServer = server;
    // No wait in between: the server is still creating its database.
    const url = `http://127.0.0.1:${port}`;
    // The shell that started it shares its data dir (./var by default): the command sees the server starting.
    const first = await runCli('rpmgate', ['set', 'list'], { RPMGATE_URL: url, RPMGATE_TOKEN: 'rg_not-a-token', RPMGATE_DATA_DIR: dataDir });
    // It reached the server (which refused the made-up token), after saying it waited.
    expect(first.stderr).toContain(`rpmgate: waiting up to 30 s for ${url} to start (connection refused)`);
    expect(first.stderr).toMatch(/rpmgate: .*token/i);
    expect(first.code).toBe(2);
    await waitForText(server.output, 'npx rpmgate token create');
  }, 120_000);

  it('writes an admin token readable by its owner only, and the terminal names URL, data dir, key and next commands', async () => {
    const server = firstServer.output();
    tokenFile = path.join(dataDir, 'initial-admin-token');
    expect(((await stat(tokenFile)).mode & 0o777).toString(8)).toBe('600');
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const lines = server.split('\n');
    expect(lines[0]).toBe(`rpmgate is ready at http://127.0.0.1:${port}`);
    expect(lines[1]).toBe(`  data directory  ${dataDir}`);
    expect(lines[2]).toMatch(/^ {2}signing key {5}([0-9A-F]{4} ){9}[0-9A-F]{4} {2}\(hosts trust http:\/\/127\.0\.0\.1:\d+\/keys\/rpmgate\.asc\)$/);
    expect(lines[3]).toBe(`  admin token     written to ${tokenFile} (first start; readable by this user only)`);
    expect(lines[4]).toBe('next:');
    expect(lines[5]).toBe(`  export RPMGATE_URL=http://127.0.0.1:${port} RPMGATE_TOKEN=$(cat ${tokenFile})`);
    expect(server).not.toContain(token);
    // The token is an admin's: it mints tokens.
    const created = await runCli('rpmgate', ['token', 'create', '--role', 'developer', '--name', 'alice'], { RPMGATE_URL: `http://127.0.0.1:${port}`, RPMGATE_TOKEN: token });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^rg_/);
  });

  it('a second start writes no token and tells none', async () => {
    for (const child of children) await stop(child);
    const before = await readFile(tokenFile, 'utf8');
    const again = serveOnTerminal({});
    await waitForText(again.output, 'next:');
    expect(again.output()).not.toContain('written to');
    expect(again.output()).toContain('an admin token exists already');
    expect(await readFile(tokenFile, 'utf8')).toBe(before);
    await stop(again.child);
  }, 120_000);

  it('without a terminal, the same facts are one JSON log record', async () => {
    const child = spawn(process.execPath, [path.join(repositoryRoot, 'bin/rpmgate.js'), 'serve'], {
      env: { ...process.env, PORT: String(port), RPMGATE_DATA_DIR: dataDir, DATABASE_URL: '', RPMGATE_ADMIN_TOKEN: 'first-hour-admin-0123456789' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForHealth(`http://127.0.0.1:${port}`, () => null, () => log);
    await waitForText(() => log, '"rpmgate ready"');
    const record = JSON.parse(log.split('\n').find((line) => line.includes('"rpmgate ready"'))!) as Record<string, unknown>;
    expect(record).toMatchObject({ url: `http://127.0.0.1:${port}`, dataDir, next: [`export RPMGATE_URL=http://127.0.0.1:${port} RPMGATE_TOKEN=$RPMGATE_ADMIN_TOKEN`, 'npx rpmgate token create --role developer --name alice'] });
    expect(record.keyFingerprint).toMatch(/^[0-9a-f]{40}$/);

    // What happened, for people: one line per upload (stored or refused, why), promotion, token, key;
    // repositories named by their URL path.
    const env = { RPMGATE_URL: `http://127.0.0.1:${port}`, RPMGATE_TOKEN: 'first-hour-admin-0123456789' };
    const [rpm] = await buildSmallRpms([{ name: 'rg-first-hour-log' }]);
    const junk = path.join(base, 'junk.rpm');
    await writeFile(junk, 'not an rpm');
    for (const args of [
      ['token', 'create', '--role', 'qa', '--name', 'log-qa'],
      ['upload', rpm!],
      ['upload', junk],
      ['set', 'create', 'logged', '1.0', 'rg-first-hour-log-1.0-1.noarch'],
      ['set', 'promote', 'logged/1.0', 'qa_ready', '--comment', 'green'],
      ['key', 'add'],
    ]) await runCli('rpmgate', args, env);
    await fetch(`http://127.0.0.1:${port}/repo/set/logged/1.0/repodata/repomd.xml`).then((r) => r.text());
    await waitForText(() => log, '"repodata built"');
    const records = log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const find = (message: string) => records.filter((r) => r.message === message);
    expect(find('token created')).toEqual([expect.objectContaining({ name: 'log-qa', role: 'qa', by: 'bootstrap-admin' })]);
    expect(find('upload stored')).toEqual([expect.objectContaining({ nevra: 'rg-first-hour-log-1.0-1.noarch', by: 'bootstrap-admin' })]);
    expect(find('upload refused')).toEqual([expect.objectContaining({ status: 400, by: 'bootstrap-admin', reason: expect.any(String) })]);
    expect(find('set promoted')).toEqual([expect.objectContaining({ set: 'logged/1.0', level: 'qa_ready', by: 'bootstrap-admin', comment: 'green' })]);
    expect(find('signing key added')).toEqual([expect.objectContaining({ fingerprint: expect.stringMatching(/^[0-9a-f]{40}$/) })]);
    expect(find('repodata built').map((r) => r.repo)).toContain('set/logged/1.0');
    await stop(child);
  }, 120_000);
});

describe('the CLI starts from its bundle while it is fresh', () => {
  it('--version prints the version of package.json, from the bundle and from the sources alike', async () => {
    const { version } = JSON.parse(await readFile(path.join(repositoryRoot, 'package.json'), 'utf8')) as { version: string };
    expect((await runCli('rpmgate', ['--version'])).stdout.trim()).toBe(version);
    expect((await runCli('rpmgate', ['--version'], { RPMGATE_FROM_SOURCES: '1' })).stdout.trim()).toBe(version);
    expect((await runCli('rpmgate-agent', ['--version'])).stdout.trim()).toBe(version);
  });

  it('bin/launch.js takes a bundle only while no source listed in its sources.json is newer', async () => {
    const { bundleIsFresh } = (await import(pathToFileURL(path.join(repositoryRoot, 'bin/launch.js')).href)) as { bundleIsFresh(bundle: URL, root: URL): boolean };
    const root = path.join(base, 'checkout');
    await mkdir(path.join(root, 'dist/cli'), { recursive: true });
    await writeFile(path.join(root, 'a.ts'), '');
    await writeFile(path.join(root, 'dist/cli/rpmgate.mjs'), '');
    await writeFile(path.join(root, 'dist/cli/sources.json'), JSON.stringify({ sources: ['a.ts'] }));
    const bundle = pathToFileURL(path.join(root, 'dist/cli/rpmgate.mjs'));
    const rootUrl = pathToFileURL(`${root}/`);
    const at = (seconds: number) => new Date(1_700_000_000_000 + seconds * 1000);
    await utimes(path.join(root, 'a.ts'), at(0), at(0));
    await utimes(path.join(root, 'dist/cli/rpmgate.mjs'), at(10), at(10));
    expect(bundleIsFresh(bundle, rootUrl)).toBe(true);
    // An edited source: the sources run, not the stale bundle.
    await utimes(path.join(root, 'a.ts'), at(20), at(20));
    expect(bundleIsFresh(bundle, rootUrl)).toBe(false);
    // A source that is gone, or no bundle at all.
    await utimes(path.join(root, 'a.ts'), at(0), at(0));
    await rm(path.join(root, 'a.ts'));
    expect(bundleIsFresh(bundle, rootUrl)).toBe(false);
    expect(bundleIsFresh(pathToFileURL(path.join(root, 'dist/cli/none.mjs')), rootUrl)).toBe(false);
  });

  it('the sources list of the built bundle names the checkout files it holds, no npm package', async () => {
    const listed = (JSON.parse(await readFile(path.join(repositoryRoot, 'dist/cli/sources.json'), 'utf8')) as { sources: string[] }).sources;
    expect(listed).toContain('server/cli/program.ts');
    expect(listed).toContain('common/http-client.ts');
    expect(listed).toContain('package.json');
    expect(listed.some((file) => file.includes('node_modules') || file.startsWith('server/db/'))).toBe(false);
  });
});
