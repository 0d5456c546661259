// Queries behind a component's usage: which hosts run given package tuples (through the inventories'
// GIN index), and which sets hold a package name with their levels and hosts. SQL only, no policy.
import type { Queryable } from './queryable.ts';

export interface TupleUsageRow {
  tuple_id: number;
  /** Hosts running this tuple. */
  host_count: number;
  /** Hosts running any of the tuples asked about, each counted once (the same on every row). */
  distinct_hosts: number;
  machine_id: string;
  hostname: string;
  set_ref: string | null;
}

/**
 * Hosts running each of these tuples (one GIN lookup per tuple): a row for each of the first
 * `perTupleLimit` hosts by hostname (at least one, to carry the counts), with exact counts.
 */
export async function findHostsRunningTuples(sql: Queryable, tupleIds: number[], perTupleLimit: number): Promise<TupleUsageRow[]> {
  if (tupleIds.length === 0) return [];
  return sql<TupleUsageRow[]>`
    with pairs as (
      select u.id as tuple_id, h.id as host_id, h.machine_id, h.hostname, h.set_ref
      from unnest(${tupleIds}::int4[]) as u(id)
      join host_inventories i on i.tuple_ids @> array[u.id]
      join hosts h on h.id = i.host_id
    ), ranked as (
      select pairs.*, count(*) over (partition by tuple_id) as host_count,
             row_number() over (partition by tuple_id order by hostname, machine_id) as rank
      from pairs
    )
    select tuple_id, host_count::int4 as host_count, (select count(distinct host_id) from pairs)::int4 as distinct_hosts,
           machine_id, hostname, set_ref
    from ranked
    where rank <= ${Math.max(perTupleLimit, 1)}
    order by tuple_id, rank`;
}

export interface SetHoldingRow {
  set_name: string;
  set_version: string;
  level: string;
  nevra: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  host_count: number;
}

/** The sets holding a package of this name (binary or source), with their levels and assigned hosts. */
export async function findSetsHoldingName(sql: Queryable, name: string): Promise<SetHoldingRow[]> {
  return sql<SetHoldingRow[]>`
    select s.name as set_name, s.version as set_version, s.level, p.nevra, p.epoch, p.version, p.release, p.arch,
           p.is_source, (select count(*) from hosts h where h.set_id = s.id)::int4 as host_count
    from packages p
    join package_set_members m on m.package_id = p.id
    join package_sets s on s.id = m.set_id
    where p.name = ${name}
    order by s.name, s.created_at, s.id, p.arch`;
}
