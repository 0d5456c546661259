// `rpmgate serve` as a user runs it, for tests: a real child process with its embedded PostgreSQL under
// a data dir, found by its port; and what a stopped server must leave behind: a free port, no
// PostgreSQL of its data dir, no data-dir lock.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  log(): string;
}

export interface ServeOptions {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port. */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

export async function startServeProcess(options: ServeOptions): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(repositoryRoot, 'bin/rpmgate.js'), 'serve'], {
    env: { ...process.env, PORT: String(options.port), RPMGATE_DATA_DIR: options.dataDir, DATABASE_URL: '', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${options.port}`;
  await waitForHealth(url, () => (child.exitCode !== null ? `rpmgate serve exited (${child.exitCode}): ${log}` : null), () => log);
  return { child, url, log: () => log };
}

/** Polls /healthz until it answers 200; `failed()` names a reason to give up early. */
export async function waitForHealth(url: string, failed: () => string | null, log: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const reason = failed();
    if (reason) throw new Error(reason);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`rpmgate serve did not answer at ${url}: ${log()}`);
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The pid in the cluster's postmaster.pid when a process by that pid is alive, else null. */
export function postmasterPid(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
}

/** Every live postgres process of this cluster: the postmaster names it, its children work in it (cwd). */
export function postgresProcessesOf(dataDir: string): number[] {
  const cluster = path.join(dataDir, 'pg');
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!command[0]?.includes('postgres')) continue;
      if (command.includes(cluster) || readlinkSync(`/proc/${entry}/cwd`) === cluster) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops whatever PostgreSQL a failed test left running in the data dir (fast shutdown). */
export function stopLeftoverPostgres(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid === null) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    // already gone
  }
}
