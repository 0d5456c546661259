// The cleanup's rules applied to the database as of a given time: which sets and packages are
// eligible for deletion, each with its rule and reason, and which matched a rule but are kept (and
// why). Streams sets by product line and packages by id, and hands its findings over a page at a
// time, so memory follows a page, not the store.
import { agentPackageName } from '../../common/agent-package.ts';
import { levelRank, type Level } from '../../common/roles.ts';
import { rpmvercmp } from '../../common/rpm/vercmp.ts';
import type { Queryable } from '../db/queryable.ts';
import { streamOrphanPackages, streamRetentionSets, type NewEligible, type RetentionSetRow, type WarningKind, type WarningRule } from '../db/retention.ts';
import type { CleanupRules } from './rules.ts';

/**
 * An object a rule makes eligible for deletion, and why; `owner` is the set's creator or the package's
 * uploader (a token name; mailed when it is an e-mail address). As the run's table records it.
 */
export type Decision = NewEligible;

/** An object a rule matched, kept by another rule. */
export interface Kept {
  kind: WarningKind;
  id: number;
  object: string;
  rule: WarningRule;
  keptBecause: string;
}

/** Where the findings go, a page at a time (the next page is read once `decisions` settles). */
export interface EligibilitySink {
  decisions(page: Decision[]): Promise<void>;
  kept(page: Kept[]): void;
}

/** The findings of one page of rows, handed to the sink together. */
class Findings {
  decisions: Decision[] = [];
  kept: Kept[] = [];

  async flush(sink: EligibilitySink): Promise<void> {
    if (this.kept.length > 0) sink.kept(this.kept);
    if (this.decisions.length > 0) await sink.decisions(this.decisions);
    this.decisions = [];
    this.kept = [];
  }
}

const dayMs = 86_400_000;

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export async function findEligible(sql: Queryable, rules: CleanupRules, now: Date, sink: EligibilitySink): Promise<void> {
  await findEligibleSets(sql, rules, now, sink);
  if (rules.rules.orphans) await findOrphans(sql, rules, now, sink);
}

async function findEligibleSets(sql: Queryable, rules: CleanupRules, now: Date, sink: EligibilitySink): Promise<void> {
  const hostCutoff = new Date(now.getTime() - rules.hostReportDays * dayMs);
  const findings = new Findings();
  let line: RetentionSetRow[] = [];
  const judgeLine = () => {
    judgeProductLine(line, rules, now, findings);
    line = [];
  };
  for await (const rows of streamRetentionSets(sql, hostCutoff)) {
    for (const row of rows) {
      if (line.length > 0 && line[0]!.name !== row.name) judgeLine();
      line.push(row);
    }
    await findings.flush(sink);
  }
  judgeLine();
  await findings.flush(sink);
}

/** The sets of one product line: every rule about a set compares it with its line only. */
function judgeProductLine(line: RetentionSetRow[], rules: CleanupRules, now: Date, result: Findings): void {
  const live = line.filter((set) => set.level !== 'obsolete');
  for (const set of line) {
    if (set.released) continue; // a set at release, or ever released, is never deleted
    const verdict = judgeSet(set, live, rules, now);
    if (!verdict) continue;
    const object = `${set.name}/${set.version}`;
    if (set.recent_hosts > 0) {
      const hosts = set.recent_hosts === 1 ? '1 host reports' : `${set.recent_hosts} hosts report`;
      result.kept.push({
        kind: 'set',
        id: Number(set.id),
        object,
        rule: verdict.rule,
        keptBecause: `${hosts} it as their set (last on ${isoDay(set.last_host_report!)}, within ${rules.hostReportDays} days)`,
      });
      continue;
    }
    result.decisions.push({ kind: 'set', id: Number(set.id), object, rule: verdict.rule, reason: verdict.reason, owner: set.created_by, bytes: 0 });
  }
}

function judgeSet(set: RetentionSetRow, live: RetentionSetRow[], rules: CleanupRules, now: Date): { rule: WarningRule; reason: string } | null {
  const since = new Date(set.level_since);
  if (set.level === 'obsolete') {
    if (!rules.rules.obsolete) return null;
    if (now.getTime() - since.getTime() < rules.obsoleteGraceDays * dayMs) return null;
    return { rule: 'obsolete', reason: `obsolete since ${isoDay(since)}` + (rules.obsoleteGraceDays > 0 ? ` (more than ${rules.obsoleteGraceDays} days)` : '') };
  }
  if (rules.rules.redundant) {
    const rank = levelRank(set.level);
    let newer: RetentionSetRow | null = null;
    for (const other of live) {
      if (other.id === set.id || levelRank(other.level) < rank || rpmvercmp(other.version, set.version) <= 0) continue;
      if (!newer || levelRank(other.level) > levelRank(newer.level) || (other.level === newer.level && rpmvercmp(other.version, newer.version) > 0)) newer = other;
    }
    if (newer) {
      return { rule: 'redundant', reason: `redundant: ${newer.name}/${newer.version} is newer and at ${newer.level}${sameOrHigher(newer.level, set.level)}` };
    }
  }
  if (rules.rules.tooOld && (set.level === 'integ' || set.level === 'qa_ready') && now.getTime() - since.getTime() >= rules.tooOldDays * dayMs) {
    return { rule: 'too_old', reason: `too old: at ${set.level} since ${isoDay(since)} (${rules.tooOldDays} days or more)` };
  }
  return null;
}

function sameOrHigher(newer: Level, set: Level): string {
  return newer === set ? '' : ` (above ${set})`;
}

async function findOrphans(sql: Queryable, rules: CleanupRules, now: Date, sink: EligibilitySink): Promise<void> {
  const cutoff = new Date(now.getTime() - rules.orphanDays * dayMs);
  for await (const rows of streamOrphanPackages(sql, cutoff, agentPackageName)) {
    await sink.decisions(
      rows.map((row) => ({
        kind: 'package',
        id: Number(row.id),
        object: row.nevra,
        rule: 'orphan',
        reason: `orphan: in no set, stored on ${isoDay(new Date(row.uploaded_at))} (more than ${rules.orphanDays} days ago)`,
        owner: row.uploaded_by,
        bytes: Number(row.bytes),
      })),
    );
  }
}
