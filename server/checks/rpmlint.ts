// Debian's rpmlint, run on uploaded files with the project's configuration (config/rpmlint.toml).
// Starting rpmlint costs ~0.45 s and each package ~0.06 s, so uploads arriving together are checked
// by one run: the first file opens a short gathering window, and the run takes every file queued by
// then (one file per name.arch and one source package per run, since rpmlint names packages, not
// files, in its output). It runs in its own process with a timeout and an address-space bound, as
// nobody when the server is root, on copies in a directory of its own: never with the server's
// rights over the store. A crash or a timeout is a finding, not a server error.
import { execFile, spawn } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RpmPackage } from '../../common/rpm/package.ts';
import type { Logger } from '../log.ts';
import type { Finding } from './findings.ts';
import type { Policy } from './policy.ts';
import { findRpmlintPython, RpmlintWorker } from './rpmlint-worker.ts';

export const rpmlintConfigFile = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../config/rpmlint.toml');

export interface RpmlintOptions {
  /** RPMGATE_RPMLINT=off: not run, and every result says so. */
  enabled: boolean;
  policy: Policy;
  log: Logger;
  /** How long the first queued file waits for others (ms). */
  windowMs?: number;
  maxBatch?: number;
  /** The rpmlint program (tests point PATH elsewhere to prove the "not installed" path). */
  command?: string;
}

interface Queued {
  file: string;
  pkg: RpmPackage;
  resolve(findings: Finding[]): void;
}

/**
 * rpmlint 2.4's checks (configdefaults.toml) but SignatureCheck, which runs `rpm -K` once per package
 * (over 40 % of rpmlint's time on small packages) for findings that say nothing here: rpmgate's reader
 * verifies every digest and signature packet as rpm -K does, and rpmgate replaces the signature, so
 * config/rpmlint.toml filters all three of its findings (no-signature, unknown-key, invalid-signature).
 */
const rpmlintChecks = [
  'AlternativesCheck', 'AppDataCheck', 'BinariesCheck', 'BuildRootAndDateCheck', 'ConfigFilesCheck', 'DBusPolicyCheck',
  'DuplicatesCheck', 'DocCheck', 'ErlangCheck', 'FHSCheck', 'FilesCheck', 'IconSizesCheck', 'I18NCheck',
  'LibraryDependencyCheck', 'LogrotateCheck', 'MenuCheck', 'MenuXDGCheck', 'MixedOwnershipCheck', 'PkgConfigCheck',
  'PostCheck', 'SourceCheck', 'SpecCheck', 'TagsCheck', 'ZipCheck', 'ZyppSyntaxCheck',
];
const rpmlintArguments = ['--checks', rpmlintChecks.join(','), '-c', rpmlintConfigFile];

/** "rg-hello.noarch: W: no-documentation", "rg-hello.spec:35: W: macro-in-%changelog %{version}". */
const outputLine = /^(\S+?)(?::\d+)?: ([EW]): ([\w.%-]+)(?:\s+(.*))?$/u;

export class RpmlintRunner {
  private available: boolean | null = null;
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** rpmlint processes running now, at most one per core: a batch gathers while the others run. */
  private running = 0;
  private readonly maxRunning = Math.max(1, os.availableParallelism());
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly command: string;
  /** rpmlint's Python, when rpmlint is a Python script: batches then go to long-lived workers. */
  private python: string | null = null;
  private readonly idleWorkers: RpmlintWorker[] = [];

  constructor(private readonly options: RpmlintOptions) {
    this.windowMs = options.windowMs ?? 100;
    this.maxBatch = options.maxBatch ?? 64;
    this.command = options.command ?? 'rpmlint';
  }

  /** Finds rpmlint once, and says at start when it will not run. */
  async open(): Promise<void> {
    if (!this.options.enabled) {
      this.available = false;
      this.options.log.warn('rpmlint is turned off (RPMGATE_RPMLINT=off): uploads are checked by the house policies only, and their findings say rpmlint was skipped');
      return;
    }
    this.available = await new Promise<boolean>((resolve) => execFile(this.command, ['--version'], { timeout: 30_000 }, (error) => resolve(!error)));
    if (!this.available) this.options.log.warn('rpmlint is not installed: uploads are checked by the house policies only, and their findings say rpmlint was skipped');
    else this.python = findRpmlintPython(this.command, process.env.PATH ?? '/usr/bin:/bin');
  }

  /** Stops the idle workers (a busy one ends with its run, or with the server's process). */
  close(): void {
    for (const worker of this.idleWorkers.splice(0)) worker.stop();
  }

  /** rpmlint's findings on one file: its errors and warnings, or one finding saying why it did not run. */
  check(file: string, pkg: RpmPackage): Promise<Finding[]> {
    if (this.available === false || this.available === null) {
      const why = this.options.enabled ? 'rpmlint is not installed on the server' : 'rpmlint is turned off on the server (RPMGATE_RPMLINT=off)';
      return Promise.resolve([{ check: 'rpmlint-skipped', severity: 'warning', message: `not checked by rpmlint: ${why}` }]);
    }
    return new Promise((resolve) => {
      this.queue.push({ file, pkg, resolve });
      this.schedule(this.windowMs);
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.queue.length === 0 || this.running >= this.maxRunning) return;
    this.timer = setTimeout(() => this.flush(), delayMs);
  }

  private flush(): void {
    this.timer = null;
    if (this.running >= this.maxRunning) return;
    const batch: Queued[] = [];
    const keys = new Set<string>();
    let source = false;
    for (let i = 0; i < this.queue.length && batch.length < this.maxBatch; ) {
      const item = this.queue[i]!;
      const key = `${item.pkg.name}.${item.pkg.arch}`;
      if (keys.has(key) || (item.pkg.isSource && source)) {
        i++;
        continue;
      }
      keys.add(key);
      source ||= item.pkg.isSource;
      batch.push(item);
      this.queue.splice(i, 1);
    }
    this.running++;
    void this.runBatch(batch).finally(() => {
      this.running--;
      // What queued meanwhile goes at once: it has gathered for as long as this run took.
      this.schedule(0);
    });
    this.schedule(0);
  }

  private async runBatch(batch: Queued[]): Promise<void> {
    const results = await this.lint(batch).catch((error: unknown): Map<Queued, Finding[]> | string => String(error));
    if (typeof results !== 'string') {
      for (const item of batch) item.resolve(results.get(item) ?? []);
      return;
    }
    // A failed run of several files is run again file by file, so one bad package does not taint the rest.
    if (batch.length > 1) {
      await Promise.all(batch.map((item) => this.runBatch([item])));
      return;
    }
    this.options.log.warn('rpmlint failed', { file: batch[0]!.pkg.name, error: results });
    batch[0]!.resolve([{ check: 'rpmlint-failed', severity: 'error', message: `rpmlint did not complete: ${results}` }]);
  }

  private async lint(batch: Queued[]): Promise<Map<Queued, Finding[]>> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-rpmlint-'));
    try {
      await chmod(dir, 0o755);
      const byKey = new Map<string, Queued>();
      const files: string[] = [];
      for (const item of batch) {
        const { pkg } = item;
        // Named as rpmbuild names it, so that rpmlint's non-coherent-filename speaks of the package.
        const copy = path.join(dir, `${pkg.name}-${pkg.version}-${pkg.release}.${pkg.arch}.rpm`);
        await copyFile(item.file, copy);
        await chmod(copy, 0o644);
        files.push(copy);
        byKey.set(`${pkg.name}.${pkg.arch}`, item);
      }
      const output = await this.run(files, dir);
      const source = batch.find((item) => item.pkg.isSource);
      const results = new Map<Queued, Finding[]>(batch.map((item) => [item, []]));
      const downgraded = new Set(this.options.policy.rpmlint.warningsOnly);
      for (const line of output.split('\n')) {
        const match = outputLine.exec(line.trim());
        if (!match) continue;
        const [, subject, level, check, detail = ''] = match;
        const item = byKey.get(subject!) ?? (subject!.endsWith('.spec') ? source : undefined);
        if (!item) continue;
        const severity = level === 'E' && !downgraded.has(check!) ? 'error' : 'warning';
        const finding: Finding = { check: `rpmlint:${check}`, severity, message: `rpmlint ${level === 'E' ? 'error' : 'warning'}: ${check}${detail ? ` ${detail}` : ''}` };
        const filePath = /^(\/\S*)/u.exec(detail)?.[1];
        if (filePath) finding.path = filePath;
        results.get(item)!.push(finding);
      }
      return results;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** rpmlint's output for these files: from a long-lived worker when rpmlint is Python, else one process. */
  private async run(files: string[], dir: string): Promise<string> {
    if (this.python === null) return this.runOnce(files, dir);
    const { timeoutSeconds, memoryMegabytes } = this.options.policy.rpmlint;
    let worker: RpmlintWorker | undefined;
    while ((worker = this.idleWorkers.pop()) && !worker.alive);
    worker ??= new RpmlintWorker({ python: this.python, memoryMegabytes, timeoutSeconds, env: this.environment() });
    let failed = true;
    try {
      const output = await worker.run([...rpmlintArguments, ...files], files.length);
      failed = false;
      return output;
    } finally {
      // A worker that failed a batch is not trusted with the next one (its memory, its state): the
      // files are checked again one by one, each by a fresh worker.
      if (!failed && worker.alive && !worker.worn) this.idleWorkers.push(worker);
      else worker.stop();
    }
  }

  /** Its own environment: nothing of the server's (tokens, DATABASE_URL) reaches rpmlint. */
  private environment(): Record<string, string> {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8', TMPDIR: os.tmpdir() };
  }

  /** One rpmlint process: its stdout, or a rejection saying why it failed (timeout, signal, odd exit). */
  private runOnce(files: string[], dir: string): Promise<string> {
    const { timeoutSeconds, memoryMegabytes } = this.options.policy.rpmlint;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    return new Promise((resolve, reject) => {
      // sh sets the bound, then becomes rpmlint: $0 is rpmlint, "$@" the configuration and the files.
      const script = `ulimit -v ${memoryMegabytes * 1024}; exec "$0" "$@"`;
      const child = spawn('/bin/sh', ['-c', script, this.command, ...rpmlintArguments, ...files], {
        cwd: dir,
        // Its own environment: nothing of the server's (tokens, DATABASE_URL) reaches it.
        env: this.environment(),
        stdio: ['ignore', 'pipe', 'pipe'],
        ...asNobody,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error.message);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        // rpmlint exits 0 (clean), 64 (errors found) or 66 (badness over the threshold).
        if (signal) reject(signal === 'SIGKILL' ? `it was stopped after ${timeoutSeconds} s or ran out of memory` : `it died of ${signal}`);
        else if (code === 0 || code === 64 || code === 66) resolve(stdout);
        else reject(`it exited with status ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
      });
    });
  }
}
