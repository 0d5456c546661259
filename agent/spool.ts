// The report spool: reports waiting for the server, one JSON file each, named so that sorting the
// names gives the order they were collected in. Every `report` run writes its report here first and
// then delivers the spool oldest first, so an outage, a crash or a kill between collecting and
// sending loses nothing, and the server receives a host's history in the order it happened.
//
// Policy (see agent/README.md): a report identical to the newest waiting one (same packages, set and
// facts) replaces it instead of queueing behind it: it says nothing new except "still so, later".
// Reports that differ are all kept and sent in order, because the server records each change.
// A cap (maxSpooled) keeps a host that never reaches its server from filling its disk.
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './fs-atomic.ts';
import { sameInventory, type HostReport } from './host-report.ts';

export const maxSpooled = 1000;
const namePattern = /^(\d{15})-[0-9a-z-]+\.json$/;
const lockName = '.lock';

export interface SpoolResult {
  /** File name of the spooled report. */
  name: string;
  /** The waiting report this one replaced (identical inventory), if any. */
  superseded: string | null;
  /** Oldest reports dropped to stay under maxSpooled. */
  dropped: string[];
}

/** Writes a report into the spool (atomically), after the newest waiting one. */
export async function spoolReport(dir: string, report: HostReport, limit = maxSpooled): Promise<SpoolResult> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const waiting = await listSpool(dir);
  const newest = waiting.at(-1);
  let superseded: string | null = null;
  let stamp = Date.parse(report.collectedAt);
  if (!Number.isFinite(stamp)) stamp = Date.now();
  if (newest) {
    // Strictly after the newest, whatever the clock says: the order of the names is the order of the reports.
    stamp = Math.max(stamp, Number(namePattern.exec(newest)![1]) + 1);
    const previous = await readSpooled(dir, newest).catch(() => null);
    if (previous && sameInventory(previous, report)) superseded = newest;
  }
  const name = `${String(stamp).padStart(15, '0')}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}.json`;
  await writeFileAtomic(path.join(dir, name), `${JSON.stringify(report)}\n`, { mode: 0o600 });
  if (superseded) await rm(path.join(dir, superseded), { force: true });

  const dropped: string[] = [];
  const all = superseded ? waiting.filter((n) => n !== superseded) : waiting;
  const excess = all.length + 1 - limit;
  for (const old of all.slice(0, Math.max(0, excess))) {
    await rm(path.join(dir, old), { force: true });
    dropped.push(old);
  }
  return { name, superseded, dropped };
}

/** Waiting reports, oldest first (file names). A missing spool directory is an empty spool. */
export async function listSpool(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => namePattern.test(name)).sort();
}

export async function readSpooled(dir: string, name: string): Promise<HostReport> {
  return JSON.parse(await readFile(path.join(dir, name), 'utf8')) as HostReport;
}

/** Why delivering one report failed, and what to do about it. */
export class DeliveryFailure extends Error {
  constructor(
    /** retry: the server may take it later (down, 5xx, 408, 429); reject: it never will (400, 422, ...);
     *  stop: nothing can be sent now but the report is fine (401, 403: the token). */
    readonly action: 'retry' | 'reject' | 'stop',
    message: string,
  ) {
    super(message);
  }
}

export interface DeliveryOptions {
  /** Attempts after the first for one report before giving up for this run. */
  retries: number;
  /** First backoff delay; each retry doubles it, up to maxDelayMs, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (name: string, attempt: number, delayMs: number, failure: DeliveryFailure) => void;
}

export interface DeliverySummary {
  delivered: { name: string; report: HostReport; response: unknown }[];
  rejected: { name: string; reason: string }[];
  /** Reports still waiting when the run stopped. */
  pending: number;
  /** Why delivery stopped early (retries exhausted or a "stop" failure), or null when the spool is empty. */
  stoppedBy: DeliveryFailure | null;
}

/**
 * Sends every waiting report, oldest first, each removed only after the server accepted it. A
 * retryable failure is retried with exponential backoff; when retries run out the run stops and the
 * rest waits for the next run, still in order. A rejected report moves to rejected/ (kept for a person
 * to read, never resent) so that it cannot block the ones behind it.
 */
export async function deliverSpool(
  dir: string,
  send: (report: HostReport) => Promise<unknown>,
  options: DeliveryOptions,
): Promise<DeliverySummary> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const summary: DeliverySummary = { delivered: [], rejected: [], pending: 0, stoppedBy: null };
  for (;;) {
    // Listed again each time: a concurrent run may have spooled a newer report meanwhile.
    const [name] = await listSpool(dir);
    if (!name) return summary;
    let report: HostReport;
    try {
      report = await readSpooled(dir, name);
    } catch (error) {
      await rejectSpooled(dir, name, `unreadable: ${(error as Error).message}`);
      summary.rejected.push({ name, reason: 'unreadable spool file' });
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await send(report);
        await rm(path.join(dir, name), { force: true });
        summary.delivered.push({ name, report, response });
        break;
      } catch (error) {
        const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure('retry', (error as Error).message);
        if (failure.action === 'reject') {
          await rejectSpooled(dir, name, failure.message);
          summary.rejected.push({ name, reason: failure.message });
          break;
        }
        if (failure.action === 'stop' || attempt >= options.retries) {
          summary.stoppedBy = failure;
          summary.pending = (await listSpool(dir)).length;
          return summary;
        }
        const delay = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
        options.onRetry?.(name, attempt + 1, delay, failure);
        await sleep(delay);
      }
    }
  }
}

/** base·2^attempt, capped, then scaled by a random factor in [0.5, 1) so that hosts do not retry in step. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling * (0.5 + random() / 2));
}

async function rejectSpooled(dir: string, name: string, reason: string): Promise<void> {
  const rejected = path.join(dir, 'rejected');
  await mkdir(rejected, { recursive: true, mode: 0o700 });
  await rename(path.join(dir, name), path.join(rejected, name));
  await writeFile(path.join(rejected, `${name}.reason`), `${reason}\n`);
}

/**
 * One delivering run at a time per spool (the timer and a person may start `report` together).
 * Returns a release function, or null when a live process holds the lock; a lock whose process is
 * gone is taken over.
 */
export async function lockSpool(dir: string): Promise<(() => Promise<void>) | null> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, lockName);
  for (let tries = 0; tries < 3; tries++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!(await lockIsStale(file))) return null;
      await rm(file, { force: true });
    }
  }
  return null;
}

async function lockIsStale(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return false;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    // Created but not yet written, or garbage: stale once it is old.
    const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
    return age > 60_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
