// The fleet as people browse it: hosts per conformance status and the most drifting ones, hosts a page
// at a time under filters, and a host's history a page at a time. Reads only, from the summaries and
// drift stored at report time (hosts.ts writes them).
import type { Sql } from 'postgres';
import type { PackageTuple } from '../../common/conformance.ts';
import type { ConformanceStatus, HostRow, HostSummaryRow, HostSummaryWithDrift } from '../db/hosts.ts';
import { countHostChanges, countHostsByStatus, listHostChangesPage, listHostsPage, listMostDrifting, type HostPageFilter } from '../db/host-listings.ts';
import { resolvePendingAssignments } from './conformance.ts';
import { tupleInterner } from './package-tuples.ts';

export interface FleetSummary {
  counts: Record<ConformanceStatus, number>;
  total: number;
  mostDrifting: HostSummaryWithDrift[];
}

export async function fleetSummary(sql: Sql, worst: number): Promise<FleetSummary> {
  await resolvePendingAssignments(sql);
  const [statusRows, mostDrifting] = await Promise.all([countHostsByStatus(sql), listMostDrifting(sql, worst)]);
  const counts: Record<ConformanceStatus, number> = { conforming: 0, drifting: 0, no_set: 0, unknown_set: 0 };
  for (const row of statusRows) counts[row.status] = row.count;
  return { counts, total: statusRows.reduce((sum, row) => sum + row.count, 0), mostDrifting };
}

export async function findHostsPage(sql: Sql, filter: HostPageFilter): Promise<{ total: number; hosts: HostSummaryRow[] }> {
  await resolvePendingAssignments(sql);
  const hosts = await listHostsPage(sql, filter);
  // Past the last page the rows carry no total: ask for it once.
  const total = hosts[0]?.total ?? (filter.offset > 0 ? ((await listHostsPage(sql, { ...filter, offset: 0, limit: 1 }))[0]?.total ?? 0) : 0);
  return { total, hosts };
}

export interface HostHistoryEntry {
  at: Date;
  kind: 'installed' | 'removed' | 'changed';
  from: PackageTuple | null;
  to: PackageTuple | null;
}

export async function hostHistoryPage(sql: Sql, host: HostRow, page: { limit: number; offset: number }): Promise<{ total: number; entries: HostHistoryEntry[] }> {
  const [total, changes] = await Promise.all([countHostChanges(sql, host.id), listHostChangesPage(sql, host.id, page)]);
  const tuples = await tupleInterner(sql).lookup(changes.flatMap((c) => [c.from_tuple_id, c.to_tuple_id].filter((id): id is number => id !== null)));
  return {
    total,
    entries: changes.map((c) => ({
      at: c.changed_at,
      kind: c.kind,
      from: c.from_tuple_id === null ? null : (tuples.get(c.from_tuple_id) ?? null),
      to: c.to_tuple_id === null ? null : (tuples.get(c.to_tuple_id) ?? null),
    })),
  };
}
