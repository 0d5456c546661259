// The cleanup job: its dry run (preview.ts) and its run, one server at a time (a PostgreSQL advisory
// lock), on demand or on RPMGATE_CLEANUP_SCHEDULE. A run withdraws the warnings of spared objects,
// records new warnings, deletes what earlier warnings made due and is still eligible
// (services/deletion.ts, one transaction per set or page of packages), gives back the files no row
// names (after the rows are gone, so that a crash leaves no row without its file), and mails one
// digest per recipient. Each step reads its objects a page at a time (eligible-table.ts); only the
// deleted files' names are collected. The clock is injected: tests run it as of any date.
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { namedBlobs } from '../db/blob-locks.ts';
import type { Queryable } from '../db/queryable.ts';
import {
  countPreviousFilesBefore,
  deletePreviousFilesBefore,
  dropEligibleTable,
  insertWarnings,
  lastWarningId,
  markWarningDeleted,
  markWarningsDeleted,
  recordMailFailure,
  recordMailSent,
  listMailRecipients,
  mailItemsFor,
  withdrawWarnings,
} from '../db/retention.ts';
import { deletePackages, deleteSet, removeUnnamedBlobs, type StoredFile } from '../services/deletion.ts';
import { crashPoint } from './crash-point.ts';
import { composeDigest, createMailer, type Mailer } from './mail.ts';
import { fillEligibleTable } from './eligible-table.ts';
import { defaultPageSize, dueView, judgedWarningPages, newWarningView, previewCleanup, sparedBecause, unwarnedEligible, type CleanupPreview } from './preview.ts';
import { readCleanupRules, type CleanupRules } from './rules.ts';
import { scheduleCleanup } from './schedule.ts';

export type CleanupContext = Pick<AppContext, 'config' | 'sql' | 'store' | 'log' | 'repositories'>;

export interface CleanupReport {
  now: string;
  withdrawn: { object: string; sparedBecause: string }[];
  deleted: { kind: 'set' | 'package'; object: string; rule: string; reason: string }[];
  /** Due, but found not eligible in the deleting transaction (promoted or reported meanwhile). */
  skipped: string[];
  warned: number;
  previousFiles: number;
  strayBlobs: number;
  bytesFreed: number;
  mail: { on: boolean; sent: number; failed: { recipient: string; error: string }[] };
  /** The lists above hold at most `listed` items each (the audit has every deletion); these count all. */
  counts: { deleted: number; withdrawn: number; skipped: number };
  listed: number;
}

/** Items a run's report lists per list: the report of 50,000 deletions need not be 10 MB. */
const reportListLimit = 1000;

export interface CleanupJobOptions {
  /** The job's clock (tests inject one); default the wall clock. */
  clock?: () => Date;
  /** Warnings and eligible objects read per query (tests make it small, to cross pages). */
  pageSize?: number;
}

const dayMs = 86_400_000;
/** Packages deleted per transaction. */
const packageBatch = 500;
/** "rpmgate-cleanup" folded into a bigint: every rpmgate agrees on it. */
const cleanupLockKey = 0x72676c65616e7570n;

export class CleanupJob {
  private rules: CleanupRules | null = null;
  private readonly mailer: Mailer | null;
  private stopSchedule: (() => void) | null = null;
  readonly clock: () => Date;
  private readonly pageSize: number;
  /**
   * A dry run holds a connection of its own and reads through another: any number of them at once
   * could take every connection of the pool and then wait for one forever. The rest queue.
   */
  private readonly dryRuns = new Slots(2);

  constructor(
    private readonly ctx: CleanupContext,
    options: CleanupJobOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.pageSize = options.pageSize ?? defaultPageSize;
    this.mailer = createMailer(ctx.config.retention.smtpUrl, ctx.config.retention.mailFrom);
  }

  /** Reads and validates the rules (a wrong policy file stops the server at start), starts the schedule. */
  async start(): Promise<void> {
    this.rules = await readCleanupRules(this.ctx.config.retention.policyFile);
    if (!this.mailer) this.ctx.log.warn('cleanup mail is off (RPMGATE_SMTP_URL is not set): warnings are recorded, not mailed');
    const schedule = this.ctx.config.retention.schedule;
    if (schedule) {
      this.stopSchedule = scheduleCleanup(schedule, () => this.runScheduled(), this.clock);
      this.ctx.log.info('cleanup scheduled', { schedule: process.env.RPMGATE_CLEANUP_SCHEDULE ?? schedule });
    }
  }

  stop(): void {
    this.stopSchedule?.();
    this.stopSchedule = null;
    this.mailer?.close();
  }

  get mailOn(): boolean {
    return this.mailer !== null;
  }

  private async currentRules(): Promise<CleanupRules> {
    this.rules ??= await readCleanupRules(this.ctx.config.retention.policyFile);
    return this.rules;
  }

  /** What each phase would do as of `now`; `limit` items listed per list (null: all). */
  async preview(now: Date = this.clock(), limit: number | null = null): Promise<CleanupPreview> {
    const rules = await this.currentRules();
    await this.dryRuns.acquire();
    try {
      const previousFiles = await countPreviousFilesBefore(this.ctx.sql, new Date(now.getTime() - rules.previousFileHoldDays * dayMs));
      return await previewCleanup(this.ctx.sql, { rules, now, mailOn: this.mailOn, previousFiles, limit, pageSize: this.pageSize });
    } finally {
      this.dryRuns.release();
    }
  }

  /** Runs now, unless another server (or this one) is running it: then a conflict. */
  async run(now: Date = this.clock()): Promise<CleanupReport> {
    const reserved = await this.ctx.sql.reserve();
    try {
      const [{ locked }] = (await reserved`select pg_try_advisory_lock(${cleanupLockKey.toString()}::bigint) as locked`) as unknown as [{ locked: boolean }];
      if (!locked) throw new RpmgateError('conflict', 'a cleanup is running already (on this server or another one on the same database)');
      try {
        return await this.runLocked(reserved, now);
      } finally {
        await dropEligibleTable(reserved).catch(() => undefined);
        await reserved`select pg_advisory_unlock(${cleanupLockKey.toString()}::bigint)`;
      }
    } finally {
      reserved.release();
    }
  }

  private async runScheduled(): Promise<void> {
    try {
      const report = await this.run();
      this.ctx.log.info('cleanup ran', summary(report));
    } catch (error) {
      if (error instanceof RpmgateError && error.code === 'conflict') this.ctx.log.info('cleanup skipped: another server runs it');
      else this.ctx.log.error('cleanup failed', { err: error });
    }
  }

  /**
   * The run, on `conn` (the connection holding the lock), whose temporary table holds the eligible
   * objects: each phase reads them a page at a time, so memory follows a page, not the store.
   */
  private async runLocked(conn: Queryable, now: Date): Promise<CleanupReport> {
    const { sql, store, log } = this.ctx;
    const rules = await this.currentRules();
    await fillEligibleTable(sql, conn, rules, now, 0);
    const report: CleanupReport = {
      now: now.toISOString(),
      withdrawn: [],
      deleted: [],
      counts: { deleted: 0, withdrawn: 0, skipped: 0 },
      listed: reportListLimit,
      skipped: [],
      warned: 0,
      previousFiles: 0,
      strayBlobs: 0,
      bytesFreed: 0,
      mail: { on: this.mailOn, sent: 0, failed: [] },
    };

    // Spared objects first: their withdrawal goes out with this run's digests.
    for await (const page of judgedWarningPages(conn, 'not-eligible', this.pageSize)) {
      const withdrawals: { id: number; reason: string }[] = [];
      for (const warning of page) {
        const because = await sparedBecause(sql, warning, rules, now);
        withdrawals.push({ id: Number(warning.id), reason: because });
        if (report.counts.withdrawn++ < reportListLimit) report.withdrawn.push({ object: `${warning.kind} ${warning.object}`, sparedBecause: because });
      }
      await withdrawWarnings(sql, withdrawals, now);
    }
    const listDeleted = (item: CleanupReport['deleted'][number]) => {
      if (report.counts.deleted++ < reportListLimit) report.deleted.push(item);
    };
    const listSkipped = (item: string) => {
      if (report.counts.skipped++ < reportListLimit) report.skipped.push(item);
    };

    // Phase 1: warnings for what became eligible (not what a pending warning named when the run began).
    // Recorded before the deletions, so that a run that stops midway has warned all it had to; the
    // deletions then take the warnings recorded before these only (a new warning waits for a later run).
    const lastEarlierWarning = await lastWarningId(sql);
    for await (const page of unwarnedEligible(conn, null, this.pageSize)) {
      const warnings = page.map((row) => newWarningView(row, rules, now));
      report.warned += await insertWarnings(sql, warnings, now, rules.warningDays, !this.mailOn);
    }
    if (report.warned > 0) crashPoint('cleanup:warned');

    // Phase 2: what was warned, notified long enough ago and is still eligible.
    const files: StoredFile[] = [];
    const hostCutoff = new Date(now.getTime() - rules.hostReportDays * dayMs);
    for await (const page of judgedWarningPages(conn, { due: now, kind: 'set', upToId: lastEarlierWarning }, this.pageSize)) {
      for (const due of page.map(dueView)) {
        const by = {
          actor: 'cleanup',
          detail: detailOf(due),
          alsoInTransaction: (tx: Queryable) => markWarningDeleted(tx, due.warningId, now),
        };
        try {
          const level = await sql<{ level: string }[]>`select level from package_sets where id = ${due.id}`;
          const deleted = level[0] !== undefined && (await deleteSet(sql, due.id, by, { level: level[0].level, noHostReportSince: hostCutoff }));
          if (!deleted) {
            listSkipped(`set ${due.object}`);
            continue;
          }
          listDeleted({ kind: due.kind, object: due.object, rule: due.rule, reason: due.reason });
          crashPoint('cleanup:one-deleted');
        } catch (error) {
          // One object that cannot go does not stop the run.
          log.warn('cleanup could not delete', { object: `set ${due.object}`, error: error instanceof Error ? error.message : String(error) });
          listSkipped(`set ${due.object}`);
        }
      }
    }
    for await (const page of judgedWarningPages(conn, { due: now, kind: 'package', upToId: lastEarlierWarning }, Math.min(packageBatch, this.pageSize))) {
      const slice = page.map(dueView);
      const warningOf = new Map(slice.map((due) => [due.id, due]));
      const deleted = await deletePackages(
        sql,
        slice.map((due) => ({ packageId: due.id, detail: detailOf(due) })),
        'cleanup',
        (tx, ids) => markWarningsDeleted(tx, ids.map((id) => warningOf.get(id)!.warningId), now),
      );
      const gone = new Set(deleted.map((item) => item.id));
      for (const due of slice) {
        if (gone.has(due.id)) listDeleted({ kind: due.kind, object: due.object, rule: due.rule, reason: due.reason });
        else listSkipped(`package ${due.object}`);
      }
      if (deleted.length > 0) crashPoint('cleanup:one-deleted');
      for (const item of deleted) files.push(...item.files);
    }
    if (report.counts.deleted > 0) await this.ctx.repositories.changed();

    // Files a key rotation replaced, past the hold time: no host's metadata names them any more.
    if (rules.rules.previousFiles) {
      const previous = await deletePreviousFilesBefore(sql, new Date(now.getTime() - rules.previousFileHoldDays * dayMs));
      report.previousFiles = previous.length;
      files.push(...previous.map((file) => ({ sha256: file.sha256, size: Number(file.size) })));
    }
    // The rows are gone (committed): now their files.
    if (files.length > 0) crashPoint('cleanup:rows-deleted');
    report.bytesFreed += await removeUnnamedBlobs(sql, store, files, () => crashPoint('cleanup:one-file-removed'));
    const stray = await this.sweepStrayBlobs(rules);
    report.strayBlobs = stray.count;
    report.bytesFreed += stray.bytes;

    await this.sendDigests(now, rules, report);
    return report;
  }

  /**
   * Files no row names, left by a crash between a deletion's commit and its file removal (or by an
   * upload that failed after adopting): removed once older than the grace period, by the wall clock,
   * since an upload in flight adopts its file before its row commits.
   */
  private async sweepStrayBlobs(rules: CleanupRules): Promise<{ count: number; bytes: number }> {
    const { sql, store } = this.ctx;
    const cutoff = Date.now() - rules.strayBlobGraceHours * 3_600_000;
    let count = 0;
    let bytes = 0;
    let batch: { sha256: string; size: number; modifiedAt: Date }[] = [];
    const flush = async () => {
      const named = await namedBlobs(sql, batch.map((blob) => blob.sha256));
      const stray: StoredFile[] = [];
      for (const blob of batch) {
        if (named.has(blob.sha256)) continue;
        if (blob.modifiedAt.getTime() < cutoff) stray.push({ sha256: blob.sha256, size: blob.size });
      }
      const freed = await removeUnnamedBlobs(sql, store, stray);
      if (freed > 0 || stray.length > 0) {
        count += stray.length;
        bytes += freed;
      }
      batch = [];
    };
    for await (const blob of store.list()) {
      if (!/^[0-9a-f]{64}$/.test(blob.sha256)) continue;
      batch.push(blob);
      if (batch.length >= 1000) await flush();
    }
    if (batch.length > 0) await flush();
    return { count, bytes };
  }

  /** One digest per recipient: warnings not mailed to them yet, and withdrawals of warnings they had. */
  private async sendDigests(now: Date, rules: CleanupRules, report: CleanupReport): Promise<void> {
    if (!this.mailer) return;
    // One recipient's items in memory at a time (a digest lists them all).
    for (const recipient of await listMailRecipients(this.ctx.sql)) {
      const items = await mailItemsFor(this.ctx.sql, recipient);
      if (items.length === 0) continue;
      const warningIds = items.filter((item) => !item.withdrawal).map((item) => Number(item.id));
      const withdrawalIds = items.filter((item) => item.withdrawal).map((item) => Number(item.id));
      try {
        await this.mailer.send({ to: recipient, ...composeDigest(items, now, rules.warningDays) });
        await recordMailSent(this.ctx.sql, recipient, warningIds, withdrawalIds, now, rules.warningDays);
        report.mail.sent++;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        report.mail.failed.push({ recipient, error: message });
        await recordMailFailure(this.ctx.sql, [...warningIds, ...withdrawalIds], `${recipient}: ${message}`);
        this.ctx.log.warn('cleanup mail failed; the warnings wait for the next run', { recipient, error: message });
      }
    }
  }
}

/** At most `size` holders at once; the others wait, first come first served. */
class Slots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    // The slot passes straight from the releaser to the next waiter.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}

function detailOf(due: CleanupPreview['delete'][number]): Record<string, unknown> {
  return { rule: due.rule, reason: due.reason, warningId: due.warningId, warnedAt: due.warnedAt, dueAt: due.dueAt };
}

export function summary(report: CleanupReport): Record<string, unknown> {
  return {
    deleted: report.counts.deleted,
    withdrawn: report.counts.withdrawn,
    warned: report.warned,
    previousFiles: report.previousFiles,
    strayBlobs: report.strayBlobs,
    bytesFreed: report.bytesFreed,
    mailSent: report.mail.sent,
    mailFailed: report.mail.failed.length,
  };
}

