// What each phase of the cleanup does as of a time: the eligible objects (planner.ts) against the
// warnings recorded (sql/0016). Phase 1 warns about what is eligible and not warned yet; phase 2
// deletes what was warned, notified at least the delay ago and is still eligible; a warned object
// that is no longer eligible has its warning withdrawn, with the reason. The dry run shows this; the
// run (job.ts) carries it out.
import type { Queryable } from '../db/queryable.ts';
import { describePackageNow, describeSetNow, streamPendingWarnings, type WarningRow } from '../db/retention.ts';
import { decisionKey, findEligible, isoDay, type Decision, type Kept } from './planner.ts';
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
  /** Items listed per list (null: all, as a run needs them); counts and bytes always cover all. */
  limit?: number | null;
  /** A run needs every item to act on, and none of those it only waits for or keeps. */
  forRun?: boolean;
}

const dayMs = 86_400_000;

export async function previewCleanup(sql: Queryable, input: PreviewInput): Promise<CleanupPreview> {
  const { rules, now } = input;
  const eligible = await findEligible(sql, rules, now);
  const preview: CleanupPreview = {
    now: now.toISOString(),
    mail: input.mailOn ? 'on' : 'off',
    warningDays: rules.warningDays,
    delete: [],
    warn: [],
    waiting: [],
    withdraw: [],
    kept: input.forRun ? [] : input.limit == null ? eligible.kept : eligible.kept.slice(0, input.limit),
    previousFiles: rules.rules.previousFiles ? input.previousFiles : { files: 0, bytes: 0 },
    bytes: { delete: 0, warn: 0, previousFiles: rules.rules.previousFiles ? input.previousFiles.bytes : 0 },
    counts: { delete: 0, warn: 0, waiting: 0, withdraw: 0, kept: eligible.kept.length },
    limit: input.limit ?? null,
  };
  const room = (list: unknown[]) => input.limit == null || list.length < input.limit;
  for await (const rows of streamPendingWarnings(sql)) {
    for (const warning of rows) {
      const objectId = warning.kind === 'set' ? warning.set_id : warning.package_id;
      const key = objectId === null ? null : decisionKey(warning.kind, objectId);
      const decision = key === null ? undefined : eligible.decisions.get(key);
      if (key !== null) eligible.decisions.delete(key);
      const view = viewOf(warning);
      if (!decision) {
        preview.counts.withdraw++;
        if (room(preview.withdraw)) preview.withdraw.push({ ...view, sparedBecause: await sparedBecause(sql, warning, rules, now) });
      } else if (warning.due_at !== null && new Date(warning.due_at).getTime() <= now.getTime()) {
        // The bytes and reason of today, which may differ from the warning's (another rule).
        preview.counts.delete++;
        if (room(preview.delete)) preview.delete.push({ ...view, id: objectId!, bytes: decision.bytes });
        preview.bytes.delete += decision.bytes;
      } else {
        preview.counts.waiting++;
        if (!input.forRun && room(preview.waiting)) preview.waiting.push(view);
      }
    }
  }
  const dueAt = isoDay(new Date(now.getTime() + rules.warningDays * dayMs));
  for (const decision of eligible.decisions.values()) {
    preview.counts.warn++;
    preview.bytes.warn += decision.bytes;
    if (!room(preview.warn)) continue;
    preview.warn.push({
      kind: decision.kind,
      id: decision.id,
      object: decision.object,
      rule: decision.rule,
      reason: decision.reason,
      bytes: decision.bytes,
      recipients: recipientsOf(decision.owner, rules.recipients),
      dueAt,
    });
  }
  return preview;
}

/** The configured recipients, and the owner when the owner's name is an e-mail address. */
export function recipientsOf(owner: string, configured: readonly string[]): string[] {
  const all = new Set(configured.map((address) => address.toLowerCase()));
  if (/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(owner)) all.add(owner.toLowerCase());
  return [...all].sort();
}

function viewOf(warning: WarningRow): WarningView {
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
async function sparedBecause(sql: Queryable, warning: WarningRow, rules: CleanupRules, now: Date): Promise<string> {
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
