// A long-lived rpmlint process (rpmlint-worker.py) that checks one batch of files per request:
// rpmlint's Python start-up (~0.4 s, most of a small batch's cost) is paid once per worker instead of
// once per run. Each worker runs with the bounds a one-off run has (its own environment, an
// address-space limit, as nobody when the server is root); a request over its time limit kills the
// worker, and a worker is replaced after a number of packages so that nothing accumulates in it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const workerScript = path.resolve(fileURLToPath(new URL('.', import.meta.url)), 'rpmlint-worker.py');

/** Packages a worker checks before it is replaced by a fresh one. */
const packagesPerWorker = 200;

export interface WorkerOptions {
  /** The Python interpreter that runs rpmlint (its script's #! line). */
  python: string;
  memoryMegabytes: number;
  timeoutSeconds: number;
  env: Record<string, string>;
}

/**
 * The interpreter of the rpmlint found in PATH, when rpmlint is a Python script (Debian's is):
 * null otherwise, and rpmlint then runs as one process per batch.
 */
export function findRpmlintPython(command: string, pathEnv: string): string | null {
  const candidates = command.includes('/') ? [command] : pathEnv.split(':').filter(Boolean).map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    let head: string;
    try {
      head = readFileSync(candidate, { encoding: 'latin1' }).slice(0, 200);
    } catch {
      continue;
    }
    const interpreter = /^#!\s*(\S*python3?[\d.]*)\s*$/m.exec(head.split('\n')[0] ?? '')?.[1];
    return interpreter ?? null;
  }
  return null;
}

export class RpmlintWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  private pending: { resolve: (output: string) => void; reject: (why: string) => void; timer: NodeJS.Timeout } | null = null;
  private exitReason: string | null = null;
  private stderr = '';
  checkedPackages = 0;

  constructor(private readonly options: WorkerOptions) {
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    // sh sets the bound, then becomes the interpreter: $0 is python, "$1" the worker script.
    const script = `ulimit -v ${options.memoryMegabytes * 1024}; exec "$0" "$1"`;
    this.child = spawn('/bin/sh', ['-c', script, options.python, workerScript], {
      cwd: os.tmpdir(),
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...asNobody,
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.receive(chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-2000)));
    this.child.stdin.on('error', () => {});
    this.child.on('error', (error) => this.died(error.message));
    this.child.on('close', (code, signal) => this.died(signal ? `it died of ${signal}` : `it exited with status ${code}: ${this.stderr.trim().split('\n').pop() ?? ''}`));
    // An idle worker never keeps the server (or a test) from exiting; it ends with its stdin.
    this.unref();
  }

  get alive(): boolean {
    return this.exitReason === null;
  }

  get worn(): boolean {
    return this.checkedPackages >= packagesPerWorker;
  }

  /** rpmlint's output for these arguments, or a rejection saying why it could not check. */
  run(argv: string[], packages: number): Promise<string> {
    if (this.pending) return Promise.reject('the worker is busy');
    if (this.exitReason !== null) return Promise.reject(this.exitReason);
    this.ref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.died(`it was stopped after ${this.options.timeoutSeconds} s or ran out of memory`);
        this.stop();
      }, this.options.timeoutSeconds * 1000);
      this.pending = { resolve, reject, timer };
      this.checkedPackages += packages;
      this.child.stdin.write(`${JSON.stringify(argv)}\n`);
    });
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let newline = this.buffer.indexOf('\n'); newline >= 0; newline = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      const pending = this.pending;
      if (!pending) continue;
      this.pending = null;
      clearTimeout(pending.timer);
      this.unref();
      let answer: { code?: number; out?: string; error?: string };
      try {
        answer = JSON.parse(line) as typeof answer;
      } catch {
        pending.reject(`it answered something else than JSON: ${line.slice(0, 200)}`);
        continue;
      }
      // rpmlint exits 0 (clean), 64 (errors found) or 66 (badness over the threshold).
      if (answer.error !== undefined) pending.reject(answer.error);
      else if (answer.code === 0 || answer.code === 64 || answer.code === 66) pending.resolve(answer.out ?? '');
      else pending.reject(`it exited with status ${String(answer.code)}`);
    }
  }

  private died(reason: string): void {
    this.exitReason ??= reason;
    const pending = this.pending;
    this.pending = null;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(this.exitReason);
    }
    this.unref();
  }

  private ref(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
  }

  private unref(): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  }
}
