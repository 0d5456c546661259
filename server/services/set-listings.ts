// Sets as people browse them: counts per level, the latest promotions, sets a page at a time, a set's
// members with their levels and source ties, its previous version and the difference from it, and
// its hosts with their conformance. Reads only; sets are changed by sets.ts and promotion.ts.
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import { levels, type Level } from '../../common/roles.ts';
import { rpmvercmp } from '../../common/rpm/vercmp.ts';
import { diffSets, type SetDiff } from '../../common/set-diff.ts';
import type { ConformanceStatus, HostSummaryWithDrift } from '../db/hosts.ts';
import { countHostsOfSetByStatus, listHostsOfSetPage } from '../db/host-listings.ts';
import {
  countSetMembers,
  countSetsByLevel,
  listLatestPromotions,
  listMembersNotIn,
  listProductVersions,
  listSetMembersPage,
  listSetsPage,
  type PromotionEventRow,
  type SetListRow,
  type SetMemberDetailRow,
} from '../db/set-listings.ts';
import { findSet, listPromotions, type PromotionRow, type SetRow } from '../db/sets.ts';
import { resolvePendingAssignments } from './conformance.ts';

export interface Page {
  limit: number;
  offset: number;
}

/** Sets per level, every level present (zero when none). */
export async function setsPerLevel(sql: Sql): Promise<Record<Level, number>> {
  const counts: Record<Level, number> = { integ: 0, qa_ready: 0, pre_release: 0, release: 0, obsolete: 0 };
  for (const row of await countSetsByLevel(sql)) counts[row.level] = row.count;
  return counts;
}

export function latestPromotions(sql: Sql, limit: number): Promise<PromotionEventRow[]> {
  return listLatestPromotions(sql, limit);
}

export async function findSetsPage(
  sql: Sql,
  filter: { namePrefix: string | null; level: Level | null } & Page,
): Promise<{ total: number; rows: SetListRow[] }> {
  const rows = await listSetsPage(sql, filter);
  return { total: rows[0]?.total ?? (filter.offset > 0 ? (await listSetsPage(sql, { ...filter, offset: 0, limit: 1 }))[0]?.total ?? 0 : 0), rows };
}

export interface SetPage {
  set: SetRow;
  memberCount: number;
  members: SetMemberDetailRow[];
  history: PromotionRow[];
}

export async function getSetPage(sql: Sql, name: string, version: string, members: Page): Promise<SetPage> {
  const set = await findSet(sql, name, version);
  if (!set) throw new RpmgateError('not_found', `no package set ${name}/${version}`);
  const [memberCount, rows, history] = await Promise.all([countSetMembers(sql, set.id), listSetMembersPage(sql, set.id, members), listPromotions(sql, set.id)]);
  return { set, memberCount, members: rows, history };
}

export interface PreviousVersionDiff {
  previous: { version: string; level: Level };
  diff: SetDiff;
}

/**
 * The difference from the previous version of the same product (rpm's version order), or null for a
 * product's first version. Only the members one set has and the other lacks are read.
 */
export async function diffWithPreviousVersion(sql: Sql, set: SetRow): Promise<PreviousVersionDiff | null> {
  const versions = await listProductVersions(sql, set.name);
  let previous: (typeof versions)[number] | null = null;
  for (const candidate of versions) {
    if (rpmvercmp(candidate.version, set.version) >= 0) continue;
    if (!previous || rpmvercmp(candidate.version, previous.version) > 0) previous = candidate;
  }
  if (!previous) return null;
  const [removed, added] = await Promise.all([listMembersNotIn(sql, previous.id, set.id), listMembersNotIn(sql, set.id, previous.id)]);
  return { previous: { version: previous.version, level: previous.level }, diff: diffSets(removed, added) };
}

export interface SetHosts {
  counts: Record<ConformanceStatus, number>;
  total: number;
  hosts: HostSummaryWithDrift[];
}

/** The hosts assigned to a set: how many conform and drift, and one page of them. */
export async function setHostsPage(sql: Sql, setId: number, page: Page & { driftingOnly: boolean }): Promise<SetHosts> {
  await resolvePendingAssignments(sql);
  const [statusRows, hosts] = await Promise.all([countHostsOfSetByStatus(sql, setId), listHostsOfSetPage(sql, setId, page)]);
  const counts: Record<ConformanceStatus, number> = { conforming: 0, drifting: 0, no_set: 0, unknown_set: 0 };
  for (const row of statusRows) counts[row.status] = row.count;
  const total = page.driftingOnly ? counts.drifting : statusRows.reduce((sum, row) => sum + row.count, 0);
  return { counts, total, hosts };
}

export const levelOrder: readonly Level[] = [...levels, 'obsolete'];
