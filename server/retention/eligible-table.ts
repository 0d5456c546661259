// The planner's findings put where the run and the dry run read them: a temporary table of one
// reserved connection (db/retention.ts), matched there against the warnings. The planner's own reads
// go through the pool, since that connection takes the inserts meanwhile.
import type { Queryable } from '../db/queryable.ts';
import { createEligibleTable, insertEligible, markEligibleWarned } from '../db/retention.ts';
import { findEligible, type Kept } from './planner.ts';
import type { CleanupRules } from './rules.ts';

export interface KeptSummary {
  /** The first `limit` kept objects (all when the limit is null). */
  listed: Kept[];
  count: number;
}

/**
 * Fills `conn`'s eligible table as of `now` and marks the objects a pending warning names already.
 * `keptLimit`: how many of the objects a rule matched but another kept to list (0 for a run).
 */
export async function fillEligibleTable(pool: Queryable, conn: Queryable, rules: CleanupRules, now: Date, keptLimit: number | null): Promise<KeptSummary> {
  await createEligibleTable(conn);
  const kept: KeptSummary = { listed: [], count: 0 };
  await findEligible(pool, rules, now, {
    decisions: (page) => insertEligible(conn, page),
    kept: (page) => {
      kept.count += page.length;
      const room = keptLimit === null ? page.length : Math.max(0, keptLimit - kept.listed.length);
      kept.listed.push(...page.slice(0, room));
    },
  });
  await markEligibleWarned(conn);
  return kept;
}
