// What each phase of the cleanup does as of a time: the eligible objects (planner.ts, put in a
// temporary table by eligible-table.ts) against the warnings recorded (sql/0016). Phase 1 warns about
// what is eligible and not warned yet; phase 2 deletes what was warned, notified at least the delay
// ago and is still eligible; a warned object that is no longer eligible has its warning withdrawn,
// with the reason. The dry run shows this; the run (job.ts) carries it out, reading the same pages.
import type { Sql } from 'postgres';
import type { Queryable } from '../db/queryable.ts';
import {
  countUnwarnedEligible,
  describePackageNow,
  describeSetNow,
  dropEligibleTable,
  pageJudgedWarnings,
  pageUnwarnedEligible,
  type DueWarnings,
  type EligibleRow,
  type JudgedWarningRow,
  type WarningRow,
} from '../db/retention.ts';
import { fillEligibleTable } from './eligible-table.ts';
import { isoDay, type Decision, type Kept } from './planner.ts';
import type { CleanupRules } from './rules.ts';

export interface WarningView {
  warningId: number;
  kind: Decision['kind'];
  object: string;
  rule: Decision['rule'];
  reason: string;
  bytes: number;
  warnedAt: string;
  /** When the warning reached its last recipient (null: mail not delivered yet). */
  notifiedAt: string | null;
  /** Deleted on or after this (null until notified). */
  dueAt: string | null;
  recipients: string[];
  lastMailError: string | null;
}

export interface Withdrawal extends WarningView {
  sparedBecause: string;
}

export interface NewWarningView {
  kind: Decision['kind'];
  id: number;
  object: string;
  rule: Decision['rule'];
  reason: string;
  bytes: number;
  recipients: string[];
  /** Deleted on or after this, if still eligible then (counted from the mail). */
  dueAt: string;
}

export interface CleanupPreview {
  now: string;
  mail: 'on' | 'off';
  warningDays: number;
  /** Phase 2: due now and still eligible. */
  delete: (WarningView & { id: number })[];
  /** Phase 1: eligible, not warned yet. */
  warn: NewWarningView[];
  /** Warned, still eligible, not due yet (or not yet mailed). */
  waiting: WarningView[];
  /** Warned, no longer eligible: spared, the warning withdrawn. */
  withdraw: Withdrawal[];
  /** Matched a rule, kept by another. */
  kept: Kept[];
  /** Files replaced by a key rotation more than the hold time ago (phase 2, no warning: hosts never name them). */
  previousFiles: { files: number; bytes: number };
  bytes: { delete: number; warn: number; previousFiles: number };
  /** How many items each list has in all: a dry run lists at most `limit` of each. */
  counts: { delete: number; warn: number; waiting: number; withdraw: number; kept: number };
  limit: number | null;
}

export interface PreviewInput {
  rules: CleanupRules;
  now: Date;
  mailOn: boolean;
  previousFiles: { files: number; bytes: number };
  /** Items listed per list (null: all); counts and bytes always cover all. */
  limit?: number | null;
  /** Warnings and eligible objects read per query (tests make it small, to cross pages). */
  pageSize?: number;
}

const dayMs = 86_400_000;

/** Warnings and eligible objects read per query. */
export const defaultPageSize = 2000;

/** The dry run: on a connection of its own, whose temporary table holds the eligible objects meanwhile. */
export async function previewCleanup(pool: Sql, input: PreviewInput): Promise<CleanupPreview> {
  const conn = await pool.reserve();
  try {
    return await previewOn(pool, conn, input);
  } finally {
    await dropEligibleTable(conn).catch(() => undefined);
    conn.release();
  }
}

async function previewOn(pool: Sql, conn: Queryable, input: PreviewInput): Promise<CleanupPreview> {
  const { rules, now } = input;
  const limit = input.limit ?? null;
  const size = input.pageSize ?? defaultPageSize;
  const kept = await fillEligibleTable(pool, conn, rules, now, limit);
  const preview: CleanupPreview = {
    now: now.toISOString(),
    mail: input.mailOn ? 'on' : 'off',
    warningDays: rules.warningDays,
    delete: [],
    warn: [],
    waiting: [],
    withdraw: [],
    kept: kept.listed,
    previousFiles: rules.rules.previousFiles ? input.previousFiles : { files: 0, bytes: 0 },
    bytes: { delete: 0, warn: 0, previousFiles: rules.rules.previousFiles ? input.previousFiles.bytes : 0 },
    counts: { delete: 0, warn: 0, waiting: 0, withdraw: 0, kept: kept.count },
    limit,
  };
  const room = (list: unknown[]) => limit === null || list.length < limit;
  for await (const page of judgedWarningPages(conn, undefined, size)) for (const warning of page) {
    const view = viewOf(warning);
    if (warning.eligible_bytes === null) {
      preview.counts.withdraw++;
      if (room(preview.withdraw)) preview.withdraw.push({ ...view, sparedBecause: await sparedBecause(pool, warning, rules, now) });
    } else if (isDue(warning, now)) {
      // The bytes of today, which may differ from the warning's (another rule).
      preview.counts.delete++;
      if (room(preview.delete)) preview.delete.push(dueView(warning));
      preview.bytes.delete += warning.eligible_bytes;
    } else {
      preview.counts.waiting++;
      if (room(preview.waiting)) preview.waiting.push(view);
    }
  }
  const unwarned = await countUnwarnedEligible(conn);
  preview.counts.warn = unwarned.count;
  preview.bytes.warn = unwarned.bytes;
  for await (const page of unwarnedEligible(conn, limit, size)) preview.warn.push(...page.map((row) => newWarningView(row, rules, now)));
  return preview;
}

/** The pending warnings, oldest first, a page at a time; `only` as pageJudgedWarnings takes it. */
export async function* judgedWarningPages(conn: Queryable, only: DueWarnings | 'not-eligible' | undefined, size: number): AsyncGenerator<JudgedWarningRow[]> {
  for (let afterId = 0; ; ) {
    const page = await pageJudgedWarnings(conn, { afterId, limit: size, only });
    if (page.length > 0) yield page;
    if (page.length < size) return;
    afterId = Number(page[page.length - 1]!.id);
  }
}

/** The eligible objects not warned yet, in pages, `limit` in all (null: every one). */
export async function* unwarnedEligible(conn: Queryable, limit: number | null, size: number): AsyncGenerator<EligibleRow[]> {
  let left = limit ?? Infinity;
  for (let afterSeq = 0; left > 0; ) {
    const page = await pageUnwarnedEligible(conn, { afterSeq, limit: Math.min(size, left) });
    if (page.length > 0) yield page;
    if (page.length < Math.min(size, left)) return;
    left -= page.length;
    afterSeq = page[page.length - 1]!.seq;
  }
}

export function isDue(warning: WarningRow, now: Date): boolean {
  return warning.due_at !== null && new Date(warning.due_at).getTime() <= now.getTime();
}

/** A due warning as the dry run lists it and the run deletes it: with its object's id and today's bytes. */
export function dueView(warning: JudgedWarningRow): WarningView & { id: number } {
  const objectId = warning.kind === 'set' ? warning.set_id : warning.package_id;
  return { ...viewOf(warning), id: Number(objectId), bytes: warning.eligible_bytes ?? 0 };
}

export function newWarningView(row: EligibleRow, rules: CleanupRules, now: Date): NewWarningView {
  return {
    kind: row.kind,
    id: Number(row.object_id),
    object: row.object,
    rule: row.rule,
    reason: row.reason,
    bytes: row.bytes,
    recipients: recipientsOf(row.owner, rules.recipients),
    dueAt: isoDay(new Date(now.getTime() + rules.warningDays * dayMs)),
  };
}

/** The configured recipients, and the owner when the owner's name is an e-mail address. */
export function recipientsOf(owner: string, configured: readonly string[]): string[] {
  const all = new Set(configured.map((address) => address.toLowerCase()));
  if (/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(owner)) all.add(owner.toLowerCase());
  return [...all].sort();
}

export function viewOf(warning: WarningRow): WarningView {
  return {
    warningId: Number(warning.id),
    kind: warning.kind,
    object: warning.object,
    rule: warning.rule,
    reason: warning.reason,
    bytes: Number(warning.bytes),
    warnedAt: new Date(warning.warned_at).toISOString(),
    notifiedAt: warning.notified_at && new Date(warning.notified_at).toISOString(),
    dueAt: warning.due_at && new Date(warning.due_at).toISOString(),
    recipients: warning.recipients,
    lastMailError: warning.last_mail_error,
  };
}

/** Why a warned object is no longer eligible, in words a recipient understands. */
export async function sparedBecause(sql: Queryable, warning: WarningRow, rules: CleanupRules, now: Date): Promise<string> {
  if (warning.kind === 'set') {
    const set = warning.set_id === null ? null : await describeSetNow(sql, Number(warning.set_id));
    if (!set) return 'it was deleted by other means';
    if (set.released) return 'it was released';
    if (set.last_host_report && now.getTime() - new Date(set.last_host_report).getTime() < rules.hostReportDays * dayMs) {
      return `host ${set.last_hostname} reported it as its set on ${isoDay(new Date(set.last_host_report))}`;
    }
    return `it is at ${set.level} now and no rule makes it eligible any more`;
  }
  const pkg = warning.package_id === null ? null : await describePackageNow(sql, Number(warning.package_id));
  if (!pkg) return 'it was deleted by other means';
  if (pkg.sets.length > 0) return `set ${pkg.sets.join(', ')} holds it`;
  if (pkg.binaries.length > 0) return `it is the source of ${pkg.binaries.join(', ')}, which is kept`;
  return 'no rule makes it eligible any more';
}
