// Read-side queries over the fleet for listings a page at a time: hosts per conformance status, the
// most drifting hosts, hosts filtered by set, drift, report age and a name or machine-id prefix, a
// set's hosts, and a host's change history. Each is answered from an index of sql/0003 or sql/0013.
// SQL only.
import type { Queryable } from './queryable.ts';
import { summaryColumnList, type ConformanceStatus, type HostChangeRow, type HostSummaryRow, type HostSummaryWithDrift } from './hosts.ts';
import { likePrefix } from './set-listings.ts';

export async function countHostsByStatus(sql: Queryable): Promise<{ status: ConformanceStatus; count: number }[]> {
  return sql<{ status: ConformanceStatus; count: number }[]>`
    select conformance_status as status, count(*)::int4 as count from hosts group by conformance_status`;
}

/** Drifting hosts, the most differences first (sql/0013's hosts_drift_size_idx). */
export async function listMostDrifting(sql: Queryable, limit: number): Promise<HostSummaryWithDrift[]> {
  return sql<HostSummaryWithDrift[]>`
    select ${summaryColumnList(sql)}, conformance from hosts
    where conformance_status = 'drifting'
    order by (missing_count + older_count + newer_count + different_count) desc, hostname
    limit ${limit}`;
}

export interface HostPageFilter {
  setRef: string | null;
  drifting: boolean;
  /** Hosts whose last report is older than this many days. */
  staleDays: number | null;
  /** Start of the host name (any case) or of the machine id. */
  search: string | null;
  limit: number;
  offset: number;
}

export async function listHostsPage(sql: Queryable, filter: HostPageFilter): Promise<(HostSummaryRow & { total: number })[]> {
  const search = filter.search === null ? null : likePrefix(filter.search.toLowerCase());
  return sql<(HostSummaryRow & { total: number })[]>`
    select ${summaryColumnList(sql)}, count(*) over ()::int4 as total
    from hosts
    where true
      ${filter.setRef !== null ? sql`and set_ref = ${filter.setRef}` : sql``}
      ${filter.drifting ? sql`and conformance_status = 'drifting'` : sql``}
      ${filter.staleDays !== null ? sql`and last_report_at < now() - ${filter.staleDays} * interval '1 day'` : sql``}
      ${search !== null ? sql`and (lower(hostname) like ${search} or machine_id like ${search})` : sql``}
    order by hostname, machine_id
    limit ${filter.limit} offset ${filter.offset}`;
}

export async function countHostsOfSetByStatus(sql: Queryable, setId: number): Promise<{ status: ConformanceStatus; count: number }[]> {
  return sql<{ status: ConformanceStatus; count: number }[]>`
    select conformance_status as status, count(*)::int4 as count from hosts where set_id = ${setId} group by conformance_status`;
}

/** A set's hosts with their stored drift, drifting ones first when asked. */
export async function listHostsOfSetPage(
  sql: Queryable,
  setId: number,
  page: { driftingOnly: boolean; limit: number; offset: number },
): Promise<HostSummaryWithDrift[]> {
  return sql<HostSummaryWithDrift[]>`
    select ${summaryColumnList(sql)}, conformance from hosts
    where set_id = ${setId} ${page.driftingOnly ? sql`and conformance_status = 'drifting'` : sql``}
    order by hostname, machine_id
    limit ${page.limit} offset ${page.offset}`;
}

export async function countHostChanges(sql: Queryable, hostId: number): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int4 as count from host_changes where host_id = ${hostId}`;
  return row!.count;
}

export async function listHostChangesPage(sql: Queryable, hostId: number, page: { limit: number; offset: number }): Promise<HostChangeRow[]> {
  return sql<HostChangeRow[]>`
    select id, changed_at, kind, from_tuple_id, to_tuple_id
    from host_changes where host_id = ${hostId} order by id desc limit ${page.limit} offset ${page.offset}`;
}
