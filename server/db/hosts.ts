// Queries on the fleet tables (sql/0003_hosts.sql): interned package tuples, hosts with their stored
// conformance, inventories as tuple-id arrays, and change history. SQL only, no policy.
import type { Queryable } from './queryable.ts';

export interface TupleRow {
  id: number;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

export type ConformanceStatus = 'conforming' | 'drifting' | 'no_set' | 'unknown_set';

export interface HostRow {
  id: number;
  machine_id: string;
  hostname: string;
  os: string;
  arch: string;
  set_ref: string | null;
  set_id: number | null;
  token_id: number | null;
  first_report_at: Date;
  last_report_at: Date;
  last_change_at: Date;
  report_count: number;
  package_count: number;
  conformance_status: ConformanceStatus;
  expected_count: number;
  missing_count: number;
  older_count: number;
  newer_count: number;
  different_count: number;
  foreign_count: number;
  conformance_at: Date;
}

/** What the set conformance view and a host's stored summary carry beyond the counts. */
export interface HostRowWithDrift extends HostRow {
  conformance: StoredDrift;
}

/** The drift kept on the host row (view-ready: NEVRA strings and EVR strings). */
export interface StoredDrift {
  missing?: string[];
  older?: { name: string; arch: string; expected: string; installed: string }[];
  newer?: { name: string; arch: string; expected: string; installed: string }[];
  different?: string[];
}

export interface ConformanceColumns {
  status: ConformanceStatus;
  expected: number;
  missing: number;
  older: number;
  newer: number;
  different: number;
  foreign: number;
  drift: StoredDrift;
}

export interface HostChangeRow {
  id: number;
  changed_at: Date;
  kind: 'installed' | 'removed' | 'changed';
  from_tuple_id: number | null;
  to_tuple_id: number | null;
}

const hostColumns = [
  'id', 'machine_id', 'hostname', 'os', 'arch', 'set_ref', 'set_id', 'token_id', 'first_report_at', 'last_report_at',
  'last_change_at', 'report_count', 'package_count', 'conformance_status', 'expected_count', 'missing_count',
  'older_count', 'newer_count', 'different_count', 'foreign_count', 'conformance_at',
];

/** Interns tuples (absent epoch as 0) and answers their ids, in input order. Two statements, so that rows
 *  another transaction committed while we waited on its conflict are visible to the second. */
export async function internTuples(
  sql: Queryable,
  tuples: { name: string; epoch: number; version: string; release: string; arch: string }[],
): Promise<number[]> {
  if (tuples.length === 0) return [];
  const columns = [
    tuples.map((t) => t.name),
    tuples.map((t) => t.epoch),
    tuples.map((t) => t.version),
    tuples.map((t) => t.release),
    tuples.map((t) => t.arch),
  ] as const;
  // Inserted in input order (callers sort), so concurrent interning of overlapping lists cannot deadlock.
  await sql`
    insert into package_tuples (name, epoch, version, release, arch)
    select name, epoch, version, release, arch
    from unnest(${columns[0]}::text[], ${columns[1]}::int4[], ${columns[2]}::text[], ${columns[3]}::text[], ${columns[4]}::text[])
      with ordinality as input(name, epoch, version, release, arch, ord)
    order by ord
    on conflict on constraint package_tuples_nevra_key do nothing`;
  const rows = await sql<{ id: number; ord: number }[]>`
    select t.id, input.ord::int4 as ord
    from unnest(${columns[0]}::text[], ${columns[1]}::int4[], ${columns[2]}::text[], ${columns[3]}::text[], ${columns[4]}::text[])
      with ordinality as input(name, epoch, version, release, arch, ord)
    join package_tuples t
      on t.name = input.name and t.epoch = input.epoch and t.version = input.version
     and t.release = input.release and t.arch = input.arch`;
  const ids = new Array<number>(tuples.length);
  for (const row of rows) ids[row.ord - 1] = row.id;
  return ids;
}

export async function findTuplesById(sql: Queryable, ids: number[]): Promise<TupleRow[]> {
  if (ids.length === 0) return [];
  return sql<TupleRow[]>`select id, name, epoch, version, release, arch from package_tuples where id = any(${ids}::int4[])`;
}

export async function findTuplesByName(sql: Queryable, name: string): Promise<TupleRow[]> {
  return sql<TupleRow[]>`select id, name, epoch, version, release, arch from package_tuples where name = ${name}`;
}

/**
 * The whole cost of a report byte-identical to the previous one from the host's own token, when its set
 * is resolved (or absent): only the report time moves.
 */
export async function touchIdenticalReport(
  sql: Queryable,
  report: { machineId: string; tokenId: number; reportSha256: Buffer },
): Promise<HostRowWithDrift | null> {
  const [row] = await sql<HostRowWithDrift[]>`
    update hosts set last_report_at = now(), report_count = report_count + 1
    where machine_id = ${report.machineId} and token_id = ${report.tokenId} and report_sha256 = ${report.reportSha256}
      and (set_ref is null or set_id is not null)
    returning ${sql(hostColumns)}, conformance`;
  return row ?? null;
}

/** The same for a report that differs only in form (order, spacing): same tuples and description. */
export async function touchUnchangedHost(
  sql: Queryable,
  report: { machineId: string; tokenId: number; reportSha256: Buffer; digest: Buffer; hostname: string; os: string; arch: string; setRef: string | null },
): Promise<HostRowWithDrift | null> {
  const [row] = await sql<HostRowWithDrift[]>`
    update hosts set last_report_at = now(), report_count = report_count + 1, report_sha256 = ${report.reportSha256}
    where machine_id = ${report.machineId} and token_id = ${report.tokenId} and inventory_digest = ${report.digest}
      and hostname = ${report.hostname} and os = ${report.os} and arch = ${report.arch}
      and set_ref is not distinct from ${report.setRef} and (set_ref is null or set_id is not null)
    returning ${sql(hostColumns)}, conformance`;
  return row ?? null;
}

export async function lockHost(sql: Queryable, machineId: string): Promise<(HostRow & { inventory_digest: Buffer }) | null> {
  const [row] = await sql<(HostRow & { inventory_digest: Buffer })[]>`
    select ${sql(hostColumns)}, inventory_digest from hosts where machine_id = ${machineId} for update`;
  return row ?? null;
}

export async function isTokenLive(sql: Queryable, tokenId: number): Promise<boolean> {
  const [row] = await sql<{ live: boolean }[]>`select revoked_at is null as live from tokens where id = ${tokenId}`;
  return row?.live ?? false;
}

export interface HostWrite {
  machineId: string;
  hostname: string;
  os: string;
  arch: string;
  setRef: string | null;
  setId: number | null;
  tokenId: number;
  reportSha256: Buffer;
  digest: Buffer;
  packageCount: number;
  conformance: ConformanceColumns;
}

/** Inserts a new host; null when a concurrent first report won the race (the caller locks and updates). */
export async function insertHost(sql: Queryable, host: HostWrite): Promise<HostRowWithDrift | null> {
  const c = host.conformance;
  const [row] = await sql<HostRowWithDrift[]>`
    insert into hosts (
      machine_id, hostname, os, arch, set_ref, set_id, token_id, report_sha256, inventory_digest, package_count,
      conformance_status, expected_count, missing_count, older_count, newer_count, different_count, foreign_count, conformance
    ) values (
      ${host.machineId}, ${host.hostname}, ${host.os}, ${host.arch}, ${host.setRef}, ${host.setId}, ${host.tokenId},
      ${host.reportSha256}, ${host.digest}, ${host.packageCount}, ${c.status}, ${c.expected}, ${c.missing}, ${c.older}, ${c.newer},
      ${c.different}, ${c.foreign}, ${sql.json(c.drift as never)}
    )
    on conflict on constraint hosts_machine_id_key do nothing
    returning ${sql(hostColumns)}, conformance`;
  return row ?? null;
}

export async function updateReportedHost(sql: Queryable, hostId: number, host: HostWrite, changed: boolean): Promise<HostRowWithDrift> {
  const c = host.conformance;
  const [row] = await sql<HostRowWithDrift[]>`
    update hosts set
      hostname = ${host.hostname}, os = ${host.os}, arch = ${host.arch}, set_ref = ${host.setRef}, set_id = ${host.setId},
      token_id = ${host.tokenId}, report_sha256 = ${host.reportSha256}, inventory_digest = ${host.digest}, package_count = ${host.packageCount},
      last_report_at = now(), report_count = report_count + 1,
      last_change_at = case when ${changed} then now() else last_change_at end,
      conformance_status = ${c.status}, expected_count = ${c.expected}, missing_count = ${c.missing},
      older_count = ${c.older}, newer_count = ${c.newer}, different_count = ${c.different},
      foreign_count = ${c.foreign}, conformance = ${sql.json(c.drift as never)}, conformance_at = now()
    where id = ${hostId}
    returning ${sql(hostColumns)}, conformance`;
  return row!;
}

/** Stores a recomputed conformance (the host's set came into existence) without touching its report. */
export async function updateHostConformance(
  sql: Queryable,
  hostId: number,
  setId: number | null,
  c: ConformanceColumns,
): Promise<void> {
  await sql`
    update hosts set
      set_id = ${setId}, conformance_status = ${c.status}, expected_count = ${c.expected}, missing_count = ${c.missing},
      older_count = ${c.older}, newer_count = ${c.newer}, different_count = ${c.different},
      foreign_count = ${c.foreign}, conformance = ${sql.json(c.drift as never)}, conformance_at = now()
    where id = ${hostId}`;
}

export async function readInventoryIds(sql: Queryable, hostId: number): Promise<number[]> {
  const [row] = await sql<{ tuple_ids: number[] }[]>`select tuple_ids from host_inventories where host_id = ${hostId}`;
  return row?.tuple_ids ?? [];
}

export async function writeInventory(sql: Queryable, hostId: number, tupleIds: number[]): Promise<void> {
  await sql`
    insert into host_inventories (host_id, tuple_ids) values (${hostId}, ${tupleIds}::int4[])
    on conflict on constraint host_inventories_pkey do update set tuple_ids = excluded.tuple_ids`;
}

/** A host's installed tuples, by joining its inventory array to the interned tuples. */
export async function readInventoryTuples(sql: Queryable, hostId: number): Promise<TupleRow[]> {
  return sql<TupleRow[]>`
    select t.id, t.name, t.epoch, t.version, t.release, t.arch
    from host_inventories i cross join lateral unnest(i.tuple_ids) as u(id)
    join package_tuples t on t.id = u.id
    where i.host_id = ${hostId}`;
}

export async function insertHostChanges(
  sql: Queryable,
  hostId: number,
  changes: { kind: 'installed' | 'removed' | 'changed'; from: number | null; to: number | null }[],
): Promise<void> {
  if (changes.length === 0) return;
  await sql`
    insert into host_changes (host_id, changed_at, kind, from_tuple_id, to_tuple_id)
    select ${hostId}, now(), kind, from_id, to_id
    from unnest(${changes.map((c) => c.kind)}::text[], ${changes.map((c) => c.from)}::int4[], ${changes.map((c) => c.to)}::int4[])
      as input(kind, from_id, to_id)`;
}

export async function listHostChanges(sql: Queryable, hostId: number, limit: number): Promise<HostChangeRow[]> {
  return sql<HostChangeRow[]>`
    select id, changed_at, kind, from_tuple_id, to_tuple_id
    from host_changes where host_id = ${hostId} order by id desc limit ${limit}`;
}

export async function findHost(sql: Queryable, machineId: string): Promise<HostRow | null> {
  const [row] = await sql<HostRow[]>`select ${sql(hostColumns)} from hosts where machine_id = ${machineId}`;
  return row ?? null;
}

export interface HostFilter {
  setRef: string | null;
  /** true: drifting only; false: not drifting; null: all. */
  drifting: boolean | null;
  /** Foreign packages count as drift. */
  strict: boolean;
  limit: number;
  offset: number;
}

/** Hosts with their stored summaries: an indexed read, nothing recomputed. `total` counts every match. */
export async function listHosts(sql: Queryable, filter: HostFilter): Promise<(HostRow & { total: number })[]> {
  const drifting = filter.strict
    ? sql`(conformance_status = 'drifting' or (conformance_status = 'conforming' and foreign_count > 0))`
    : sql`conformance_status = 'drifting'`;
  return sql<(HostRow & { total: number })[]>`
    select ${sql(hostColumns)}, count(*) over () as total
    from hosts
    where true
      ${filter.setRef !== null ? sql`and set_ref = ${filter.setRef}` : sql``}
      ${filter.drifting === true ? sql`and ${drifting}` : filter.drifting === false ? sql`and not ${drifting}` : sql``}
    order by hostname, machine_id
    limit ${filter.limit} offset ${filter.offset}`;
}

/** Every host assigned to a set, with its stored drift. */
export async function listHostsOfSet(sql: Queryable, setId: number): Promise<HostRowWithDrift[]> {
  return sql<HostRowWithDrift[]>`
    select ${sql(hostColumns)}, conformance from hosts where set_id = ${setId} order by hostname, machine_id`;
}

/** Hosts whose reported set did not exist when they reported but exists now. */
export async function findResolvableHosts(sql: Queryable): Promise<{ id: number; arch: string; set_id: number }[]> {
  return sql<{ id: number; arch: string; set_id: number }[]>`
    select h.id, h.arch, s.id as set_id
    from hosts h join package_sets s on h.set_ref = s.name || '/' || s.version
    where h.set_id is null and h.set_ref is not null`;
}

/** Hosts running each of these tuples, capped per tuple; counts are exact. */
export async function findHostsRunningTuples(
  sql: Queryable,
  tupleIds: number[],
  perTupleLimit: number,
): Promise<{ tuple_id: number; host_count: number; hosts: { machineId: string; hostname: string; set: string | null }[] }[]> {
  if (tupleIds.length === 0) return [];
  return sql`
    select u.id as tuple_id,
           (select count(*) from host_inventories i where i.tuple_ids @> array[u.id])::int4 as host_count,
           coalesce((
             select jsonb_agg(jsonb_build_object('machineId', x.machine_id, 'hostname', x.hostname, 'set', x.set_ref)
                              order by x.hostname, x.machine_id)
             from (
               select h.machine_id, h.hostname, h.set_ref
               from host_inventories i join hosts h on h.id = i.host_id
               where i.tuple_ids @> array[u.id]
               order by h.hostname, h.machine_id
               limit ${perTupleLimit}
             ) as x), '[]'::jsonb) as hosts
    from unnest(${tupleIds}::int4[]) as u(id)`;
}

/** Hosts running any of these tuples, each counted once. */
export async function countHostsRunningAny(sql: Queryable, tupleIds: number[]): Promise<number> {
  if (tupleIds.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`select count(*)::int4 as n from host_inventories where tuple_ids && ${tupleIds}::int4[]`;
  return row!.n;
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

/** A set's binary members as tuples (what hosts are compared with). */
export async function listSetMemberTuples(sql: Queryable, setId: number) {
  return sql<{ name: string; epoch: number | null; version: string; release: string; arch: string }[]>`
    select p.name, p.epoch, p.version, p.release, p.arch
    from package_set_members m join packages p on p.id = m.package_id
    where m.set_id = ${setId} and not p.is_source`;
}

/** Revokes every live agent token bound to a machine; answers how many were revoked. */
export async function revokeAgentTokensOf(sql: Queryable, machineId: string): Promise<number> {
  const rows = await sql`
    update tokens set revoked_at = now()
    where role = 'agent' and machine_id = ${machineId} and revoked_at is null
    returning id`;
  return rows.length;
}

export async function setHostToken(sql: Queryable, machineId: string, tokenId: number): Promise<void> {
  await sql`update hosts set token_id = ${tokenId} where machine_id = ${machineId}`;
}
