// The cleanup's rules applied to the database as of a given time: which sets and packages are
// eligible for deletion, each with its rule and reason, and which matched a rule but are kept (and
// why). Streams sets by product line and packages by id, so memory follows the eligible objects,
// not the store.
import { agentPackageName } from '../../common/agent-package.ts';
import { levelRank, type Level } from '../../common/roles.ts';
import { rpmvercmp } from '../../common/rpm/vercmp.ts';
import type { Queryable } from '../db/queryable.ts';
import { streamOrphanPackages, streamRetentionSets, type RetentionSetRow, type WarningKind, type WarningRule } from '../db/retention.ts';
import type { CleanupRules } from './rules.ts';

/** An object a rule makes eligible for deletion, and why. */
export interface Decision {
  kind: WarningKind;
  id: number;
  /** NAME/VERSION or NEVRA. */
  object: string;
  rule: WarningRule;
  reason: string;
  /** The set's creator, the package's uploader (a token name; mailed when it is an e-mail address). */
  owner: string;
  bytes: number;
}

/** An object a rule matched, kept by another rule. */
export interface Kept {
  kind: WarningKind;
  id: number;
  object: string;
  rule: WarningRule;
  keptBecause: string;
}

export interface Eligibility {
  decisions: Map<string, Decision>;
  kept: Kept[];
}

const dayMs = 86_400_000;

export function decisionKey(kind: WarningKind, id: number | string): string {
  return `${kind}:${id}`;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export async function findEligible(sql: Queryable, rules: CleanupRules, now: Date): Promise<Eligibility> {
  const result: Eligibility = { decisions: new Map(), kept: [] };
  await findEligibleSets(sql, rules, now, result);
  if (rules.rules.orphans) await findOrphans(sql, rules, now, result);
  return result;
}

async function findEligibleSets(sql: Queryable, rules: CleanupRules, now: Date, result: Eligibility): Promise<void> {
  const hostCutoff = new Date(now.getTime() - rules.hostReportDays * dayMs);
  let line: RetentionSetRow[] = [];
  const flush = () => {
    judgeProductLine(line, rules, now, result);
    line = [];
  };
  for await (const rows of streamRetentionSets(sql, hostCutoff)) {
    for (const row of rows) {
      if (line.length > 0 && line[0]!.name !== row.name) flush();
      line.push(row);
    }
  }
  flush();
}

/** The sets of one product line: every rule about a set compares it with its line only. */
function judgeProductLine(line: RetentionSetRow[], rules: CleanupRules, now: Date, result: Eligibility): void {
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
    result.decisions.set(decisionKey('set', set.id), { kind: 'set', id: Number(set.id), object, rule: verdict.rule, reason: verdict.reason, owner: set.created_by, bytes: 0 });
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

async function findOrphans(sql: Queryable, rules: CleanupRules, now: Date, result: Eligibility): Promise<void> {
  const cutoff = new Date(now.getTime() - rules.orphanDays * dayMs);
  for await (const rows of streamOrphanPackages(sql, cutoff, agentPackageName)) {
    for (const row of rows) {
      result.decisions.set(decisionKey('package', row.id), {
        kind: 'package',
        id: Number(row.id),
        object: row.nevra,
        rule: 'orphan',
        reason: `orphan: in no set, stored on ${isoDay(new Date(row.uploaded_at))} (more than ${rules.orphanDays} days ago)`,
        owner: row.uploaded_by,
        bytes: Number(row.bytes),
      });
    }
  }
}
