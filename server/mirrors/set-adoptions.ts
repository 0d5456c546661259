// The set-adoption job: a set naming upstream packages is recorded at once with those members pending
// (sql/0022), and this job fetches each one (or takes it from the proxy's cache), verifies it against
// the upstream checksum and key, checks it on entry, signs and stores it like an upload, and then puts
// it in its set, in one transaction. A set's repository lists only stored members, so it grows to
// complete as they arrive and never names a package it cannot serve. An upstream that fails (down,
// 5xx, time-out) is retried with backoff; a package refused (entry checks, bytes or signature that do
// not verify, a mirror removed) fails for good, is never served, and keeps its set at integ.
//
// Any process may run it (a `set create` kicks the one that answered); an advisory lock makes it one
// at a time across servers, and the owner polls for retries and for what a dying process left.
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { tryAdvisoryLock } from '../db/advisory-lock.ts';
import { reassessHostsOfSet } from '../db/hosts.ts';
import { findMirror, type MirrorPackageRow, type MirrorRow } from '../db/mirrors.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import {
  completePendingAdoption,
  listDueAdoptions,
  recordAdoptionFailure,
  recordAdoptionRetry,
  type PendingAdoptionRow,
} from '../db/set-pending-adoptions.ts';
import { refreshPackageLevels } from '../db/sets.ts';
import type { Principal } from '../services/tokens.ts';
import { adoptMirrorPackage } from './adopt.ts';

/** Rows taken per round: the lock is held across rounds until nothing is due. */
const batchSize = 20;
/** Packages adopted at once. */
const parallelAdoptions = 3;
/** Backoff of a failing upstream: RPMGATE_MIRROR_RETRY_SECONDS (15 s), doubling, at most an hour. */
const maxRetrySeconds = 3600;
/** After a kick that found the lock taken: the holder may have read its last batch already. */
const busyRetryMs = 2000;

export interface SetAdoptionOptions {
  /** The first retry of a failing upstream, in seconds; each next one waits twice as long. */
  firstRetrySeconds: number;
  /** How often the owner looks for due rows (retries, and rows a dead process was adopting). 0: never. */
  pollSeconds: number;
}

export class SetAdoptionJob {
  private ctx: AppContext | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly options: SetAdoptionOptions) {}

  /** Starts kicks (and, with `poll`, the schedule). Due rows left from before are taken at once. */
  start(ctx: AppContext, { poll }: { poll: boolean }): void {
    this.ctx = ctx;
    if (poll && this.options.pollSeconds > 0) {
      this.timer = setInterval(() => this.kick(), this.options.pollSeconds * 1000);
      this.timer.unref();
      this.kick();
    }
  }

  /** Adopts what is due now, in the background; a kick during a run makes the run go round once more. */
  kick(): void {
    if (!this.ctx || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle().finally(() => {
      this.running = null;
    });
  }

  /** Resolves once the run under way (if any) ended; for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async runUntilIdle(): Promise<void> {
    const ctx = this.ctx!;
    do {
      this.again = false;
      const lock = await tryAdvisoryLock(ctx.sql, 'set-adoptions').catch(() => null);
      if (!lock) {
        // Another server holds it: look again shortly, since it may have read its last batch already.
        setTimeout(() => this.kick(), busyRetryMs).unref();
        return;
      }
      try {
        while (!this.stopped) {
          const due = await listDueAdoptions(ctx.sql, batchSize);
          if (due.length === 0) break;
          // A few at a time: a download waits on the network, rpmlint and signing on the CPU.
          let next = 0;
          const lane = async () => {
            while (next < due.length && !this.stopped) await this.adoptOne(ctx, due[next++]!);
          };
          await Promise.all(Array.from({ length: Math.min(parallelAdoptions, due.length) }, lane));
        }
      } catch (error) {
        ctx.log.warn('set adoption interrupted', { error: (error as Error).message });
      } finally {
        await lock.release().catch(() => undefined);
      }
    } while (this.again && !this.stopped);
  }

  private async adoptOne(ctx: AppContext, row: PendingAdoptionRow): Promise<void> {
    const where = { set: row.set_id, nevra: row.nevra, mirror: row.mirror_name };
    const mirror = await findMirror(ctx.sql, row.mirror_name);
    if (!mirror) {
      await recordAdoptionFailure(ctx.sql, row.set_id, row.nevra, `mirror ${row.mirror_name} was removed before the package was adopted`);
      ctx.log.warn('set member refused', { ...where, reason: 'mirror removed' });
      return;
    }
    let packageId: number;
    try {
      const adopted = await adoptMirrorPackage(ctx, mirror, await upstreamPackage(ctx, mirror, row), await adopter(ctx, row.set_id));
      if (adopted.nevra !== row.nevra) {
        throw new RpmgateError('unprocessable', `the upstream file of ${row.nevra} is ${adopted.nevra}: the mirror's metadata does not describe it`);
      }
      packageId = adopted.packageId;
    } catch (error) {
      await this.recordFailure(ctx, row, error);
      return;
    }
    const placed = await ctx.sql.begin(async (tx) => {
      if (!(await completePendingAdoption(tx, row.set_id, row.nevra, packageId))) return false;
      await refreshPackageLevels(tx, [packageId]);
      // Hosts judged against the set's stored members are judged again against the grown set.
      await reassessHostsOfSet(tx, row.set_id);
      // The set's repository (and the integ level's) now hold it.
      await bumpRepoGeneration(tx, 'levels');
      await bumpRepoGeneration(tx, 'packages');
      return true;
    });
    if (placed) {
      await ctx.repositories.changed();
      ctx.log.info('set member adopted', where);
    }
  }

  private async recordFailure(ctx: AppContext, row: PendingAdoptionRow, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const where = { set: row.set_id, nevra: row.nevra, mirror: row.mirror_name, error: message };
    if (isFinal(error)) {
      await recordAdoptionFailure(ctx.sql, row.set_id, row.nevra, message);
      ctx.log.warn('set member refused', where);
      return;
    }
    const delay = Math.min(maxRetrySeconds, this.options.firstRetrySeconds * 2 ** Math.min(row.attempts, 12));
    await recordAdoptionRetry(ctx.sql, row.set_id, row.nevra, message, delay);
    ctx.log.warn('set member adoption will be retried', { ...where, inSeconds: delay });
  }
}

/**
 * Refusals of the package itself are final; whatever may pass by itself (the upstream unreachable or
 * answering errors, the database or the store failing) is retried. A checksum mismatch is the
 * upstream's fault too, and often a mirror caught mid-update: retried.
 */
function isFinal(error: unknown): boolean {
  return error instanceof RpmgateError && ['invalid_rpm', 'unprocessable', 'bad_request', 'payload_too_large', 'conflict'].includes(error.code);
}

/** The upstream package a pending row stands for: the synced row when the mirror still lists it. */
async function upstreamPackage(ctx: AppContext, mirror: MirrorRow, row: PendingAdoptionRow): Promise<MirrorPackageRow> {
  const [listed] = await ctx.sql<MirrorPackageRow[]>`
    select * from mirror_packages where mirror_id = ${mirror.id} and pkgid = ${row.pkgid} order by id limit 1`;
  if (listed) return listed;
  // A later sync dropped it: the identity recorded with the set still says what to fetch.
  const nevra = row.nevra;
  return {
    id: 0,
    mirror_id: mirror.id,
    pkgid: row.pkgid,
    checksum_type: row.checksum_type,
    nevra,
    name: '',
    epoch: null,
    version: '',
    release: '',
    arch: '',
    is_source: row.is_source,
    sourcerpm: null,
    location_href: row.location_href,
    size: row.size,
    cached_sha256: null,
  };
}

/** Who the adopted package is recorded as entered by: the set's creator, through this job. */
async function adopter(ctx: AppContext, setId: number): Promise<Principal> {
  const [set] = await ctx.sql<{ name: string; version: string; created_by: string }[]>`
    select name, version, created_by from package_sets where id = ${setId}`;
  const name = set ? `${set.created_by} (set ${set.name}/${set.version})` : 'set adoption';
  return { name, role: 'admin', tokenId: null, machineId: null };
}
