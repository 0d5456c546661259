// Queries on the fleet's hosts (sql/0003_hosts.sql): hosts with their stored conformance, inventories
// as tuple-id arrays (db/package-tuples.ts interns the tuples), and change history. SQL only, no policy.
import type { TupleRow } from './package-tuples.ts';
import type { Queryable } from './queryable.ts';

export type ConformanceStatus = 'conforming' | 'drifting' | 'no_set' | 'unknown_set';

/** What a host's summary shows (the listing reads only these). */
export interface HostSummaryRow {
  machine_id: string;
  hostname: string;
  os: string;
  arch: string;
  set_ref: string | null;
  set_id: number | null;
  /** Times as milliseconds since the epoch: reading thousands of timestamptz as Date costs more than the query. */
  first_report_at: number;
  last_report_at: number;
  last_change_at: number;
  report_count: number;
  package_count: number;
  conformance_status: ConformanceStatus;
  expected_count: number;
  missing_count: number;
  older_count: number;
  newer_count: number;
  different_count: number;
  foreign_count: number;
}

export interface HostRow extends HostSummaryRow {
  id: number;
  token_id: number | null;
}

/** What the set conformance view and a host's stored summary carry beyond the counts. */
export interface HostRowWithDrift extends HostRow {
  conformance: StoredDrift;
}

export interface HostSummaryWithDrift extends HostSummaryRow {
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

const summaryColumns = [
  'machine_id', 'hostname', 'os', 'arch', 'set_ref', 'set_id', 'report_count', 'package_count', 'conformance_status',
  'expected_count', 'missing_count', 'older_count', 'newer_count', 'different_count', 'foreign_count',
];

/** The columns of HostSummaryRow, times as epoch milliseconds. */
export function summaryColumnList(sql: Queryable) {
  return sql`${sql(summaryColumns)},
    (extract(epoch from first_report_at) * 1000)::int8 as first_report_at,
    (extract(epoch from last_report_at) * 1000)::int8 as last_report_at,
    (extract(epoch from last_change_at) * 1000)::int8 as last_change_at`;
}

/** The columns of HostRow. */
function hostColumns(sql: Queryable) {
  return sql`id, token_id, ${summaryColumnList(sql)}`;
}

/** What a report is compared with: the host's owner token, set, inventory digest and inventory. */
export interface HostState {
  id: number;
  token_id: number | null;
  arch: string;
  set_ref: string | null;
  set_id: number | null;
  inventory_digest: Buffer;
  tuple_ids: number[];
}

/**
 * The first statement of every report from a bound token. A report byte-identical to the host's previous
 * one from its own token, with its set resolved (or absent), only moves the report time: `touched` is the
 * host. Otherwise nothing is written and `state` is the host as it stands (null when there is none).
 */
export async function probeReport(
  sql: Queryable,
  report: { machineId: string; tokenId: number; reportSha256: Buffer },
): Promise<{ touched: HostRowWithDrift | null; state: HostState | null }> {
  type ProbeRow = HostRowWithDrift & {
    touched: boolean;
    state_id: number | null;
    state_token_id: number | null;
    state_arch: string | null;
    state_set_ref: string | null;
    state_set_id: number | null;
    state_digest: Buffer | null;
    state_tuple_ids: number[] | null;
  };
  const [row] = await sql<ProbeRow[]>`
    with touched as (
      update hosts set last_report_at = now(), report_count = report_count + 1
      where machine_id = ${report.machineId} and token_id = ${report.tokenId} and report_sha256 = ${report.reportSha256}
        and (set_ref is null or set_id is not null)
      returning ${hostColumns(sql)}, conformance
    )
    select t.*, t.id is not null as touched, s.id as state_id, s.token_id as state_token_id, s.arch as state_arch, s.set_ref as state_set_ref,
           s.set_id as state_set_id, s.inventory_digest as state_digest, s.tuple_ids as state_tuple_ids
    from (select 1) as one
    left join touched t on true
    left join lateral (
      select h.id, h.token_id, h.arch, h.set_ref, h.set_id, h.inventory_digest, coalesce(i.tuple_ids, '{}') as tuple_ids
      from hosts h left join host_inventories i on i.host_id = h.id
      where h.machine_id = ${report.machineId} and t.id is null
    ) as s on true`;
  const { touched, state_id, state_token_id, state_arch, state_set_ref, state_set_id, state_digest, state_tuple_ids, ...host } = row!;
  if (touched) return { touched: host as HostRowWithDrift, state: null };
  if (state_id === null) return { touched: null, state: null };
  return {
    touched: null,
    state: {
      id: state_id,
      token_id: state_token_id,
      arch: state_arch!,
      set_ref: state_set_ref,
      set_id: state_set_id,
      inventory_digest: state_digest!,
      tuple_ids: state_tuple_ids!,
    },
  };
}

/**
 * Locks a host's row for a report and reads what the report is compared with. Two statements: the read
 * after the lock sees the inventory the last writer committed (a row locked in a join would be re-read
 * after the wait, but not the inventory joined to it).
 */
export async function lockHost(sql: Queryable, machineId: string): Promise<(HostRow & HostState) | null> {
  const [locked] = await sql<{ id: number }[]>`select id from hosts where machine_id = ${machineId} for update`;
  if (!locked) return null;
  const [row] = await sql<(HostRow & HostState)[]>`
    select ${hostColumns(sql)}, inventory_digest, coalesce(i.tuple_ids, '{}') as tuple_ids
    from hosts h left join host_inventories i on i.host_id = h.id
    where h.id = ${locked.id}`;
  return row!;
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
  /** When the agent collected the report (a spooled one arrives later): the time its changes are dated. */
  collectedAt: Date | null;
}

/**
 * Inserts a new host with its inventory (one statement); null when a concurrent first report won the
 * race (the caller locks and updates).
 */
export async function insertHost(sql: Queryable, host: HostWrite, tupleIds: number[]): Promise<HostRowWithDrift | null> {
  const c = host.conformance;
  const [row] = await sql<HostRowWithDrift[]>`
    with inserted as (
      insert into hosts (
        machine_id, hostname, os, arch, set_ref, set_id, token_id, report_sha256, inventory_digest, package_count,
        conformance_status, expected_count, missing_count, older_count, newer_count, different_count, foreign_count, conformance
      ) values (
        ${host.machineId}, ${host.hostname}, ${host.os}, ${host.arch}, ${host.setRef}, ${host.setId}, ${host.tokenId},
        ${host.reportSha256}, ${host.digest}, ${host.packageCount}, ${c.status}, ${c.expected}, ${c.missing}, ${c.older}, ${c.newer},
        ${c.different}, ${c.foreign}, ${sql.json(c.drift as never)}
      )
      on conflict on constraint hosts_machine_id_key do nothing
      returning ${hostColumns(sql)}, conformance
    ), inventory as (
      insert into host_inventories (host_id, tuple_ids) select id, ${tupleIds}::int4[] from inserted
    )
    select * from inserted`;
  return row ?? null;
}

export interface HostChange {
  kind: 'installed' | 'removed' | 'changed';
  from: number | null;
  to: number | null;
}

/**
 * A report whose packages, arch and set are those of the host's last one (its bytes differ: another
 * order, a fresh report id): its conformance cannot have changed, so only the description and report
 * time move. A compare-and-set like writeReport; null when the host moved on meanwhile.
 */
export async function touchUnchangedInventory(
  sql: Queryable,
  hostId: number,
  expected: { tokenId: number; arch: string; setRef: string | null; setId: number | null; digest: Buffer },
  report: { hostname: string; os: string; reportSha256: Buffer },
): Promise<HostRowWithDrift | null> {
  const [row] = await sql<HostRowWithDrift[]>`
    update hosts set hostname = ${report.hostname}, os = ${report.os}, report_sha256 = ${report.reportSha256},
      last_report_at = now(), report_count = report_count + 1
    where id = ${hostId} and token_id = ${expected.tokenId} and arch = ${expected.arch}
      and set_ref is not distinct from ${expected.setRef} and set_id is not distinct from ${expected.setId}
      and inventory_digest = ${expected.digest}
    returning ${hostColumns(sql)}, conformance`;
  return row ?? null;
}

/**
 * Writes a report over a host's previous one in one statement: the host row, and when the inventory
 * changed, the inventory and its history. It is a compare-and-set: nothing is written (null) unless the
 * host still has the owner token, set id and digest it was read with, so a report computed without a
 * lock can never overwrite a concurrent one nor name a set deleted meanwhile (the caller retries under lock).
 */
export async function writeReport(
  sql: Queryable,
  hostId: number,
  expected: { tokenId: number | null; setId: number | null; digest: Buffer },
  host: HostWrite,
  inventory: { tupleIds: number[]; changes: HostChange[] } | null,
): Promise<HostRowWithDrift | null> {
  const c = host.conformance;
  const changed = inventory !== null;
  const changes = inventory?.changes ?? [];
  // Changes are dated when the agent saw them, never in the future of this server's clock.
  const changedAt = host.collectedAt && host.collectedAt.getTime() < Date.now() ? host.collectedAt : null;
  const [row] = await sql<HostRowWithDrift[]>`
    with updated as (
      update hosts set
        hostname = ${host.hostname}, os = ${host.os}, arch = ${host.arch}, set_ref = ${host.setRef}, set_id = ${host.setId},
        token_id = ${host.tokenId}, report_sha256 = ${host.reportSha256}, inventory_digest = ${host.digest},
        package_count = ${host.packageCount}, last_report_at = now(), report_count = report_count + 1,
        last_change_at = case when ${changed} then coalesce(${changedAt}::timestamptz, now()) else last_change_at end,
        conformance_status = ${c.status}, expected_count = ${c.expected}, missing_count = ${c.missing},
        older_count = ${c.older}, newer_count = ${c.newer}, different_count = ${c.different},
        foreign_count = ${c.foreign}, conformance = ${sql.json(c.drift as never)}, conformance_at = now()
      where id = ${hostId} and token_id is not distinct from ${expected.tokenId}
        and set_id is not distinct from ${expected.setId} and inventory_digest = ${expected.digest}
      returning ${hostColumns(sql)}, conformance
    ), inventory as (
      insert into host_inventories (host_id, tuple_ids)
      select id, ${inventory?.tupleIds ?? []}::int4[] from updated where ${changed}
      on conflict on constraint host_inventories_pkey do update set tuple_ids = excluded.tuple_ids
    ), history as (
      insert into host_changes (host_id, changed_at, kind, from_tuple_id, to_tuple_id)
      select updated.id, coalesce(${changedAt}::timestamptz, now()), change.kind, change.from_id, change.to_id
      from updated
      cross join unnest(${changes.map((x) => x.kind)}::text[], ${changes.map((x) => x.from)}::int4[], ${changes.map((x) => x.to)}::int4[])
        as change(kind, from_id, to_id)
    )
    select * from updated`;
  return row ?? null;
}

/**
 * Stores a conformance recomputed because the host's set came into existence, unless the host reported
 * meanwhile (its report resolved the set itself) or its inventory moved on from the one compared.
 */
export async function updateHostConformance(
  sql: Queryable,
  hostId: number,
  expected: { digest: Buffer },
  setId: number,
  c: ConformanceColumns,
): Promise<void> {
  await sql`
    update hosts set
      set_id = ${setId}, conformance_status = ${c.status}, expected_count = ${c.expected}, missing_count = ${c.missing},
      older_count = ${c.older}, newer_count = ${c.newer}, different_count = ${c.different},
      foreign_count = ${c.foreign}, conformance = ${sql.json(c.drift as never)}, conformance_at = now()
    where id = ${hostId} and set_id is null and inventory_digest = ${expected.digest}`;
}

/** A host's installed tuples, by joining its inventory array to the interned tuples. */
export async function readInventoryTuples(sql: Queryable, hostId: number): Promise<TupleRow[]> {
  return sql<TupleRow[]>`
    select t.id, t.name, t.epoch, t.version, t.release, t.arch
    from host_inventories i cross join lateral unnest(i.tuple_ids) as u(id)
    join package_tuples t on t.id = u.id
    where i.host_id = ${hostId}`;
}

export async function listHostChanges(sql: Queryable, hostId: number, limit: number): Promise<HostChangeRow[]> {
  return sql<HostChangeRow[]>`
    select id, changed_at, kind, from_tuple_id, to_tuple_id
    from host_changes where host_id = ${hostId} order by id desc limit ${limit}`;
}

export async function findHost(sql: Queryable, machineId: string): Promise<HostRow | null> {
  const [row] = await sql<HostRow[]>`select ${hostColumns(sql)} from hosts where machine_id = ${machineId}`;
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
export async function listHosts(sql: Queryable, filter: HostFilter): Promise<(HostSummaryRow & { total: number })[]> {
  const drifting = filter.strict
    ? sql`(conformance_status = 'drifting' or (conformance_status = 'conforming' and foreign_count > 0))`
    : sql`conformance_status = 'drifting'`;
  return sql<(HostSummaryRow & { total: number })[]>`
    select ${summaryColumnList(sql)}, count(*) over () as total
    from hosts
    where true
      ${filter.setRef !== null ? sql`and set_ref = ${filter.setRef}` : sql``}
      ${filter.drifting === true ? sql`and ${drifting}` : filter.drifting === false ? sql`and not ${drifting}` : sql``}
    order by hostname, machine_id
    limit ${filter.limit} offset ${filter.offset}`;
}

/** Every host assigned to a set, with its stored drift. */
export async function listHostsOfSet(sql: Queryable, setId: number): Promise<HostSummaryWithDrift[]> {
  return sql<HostSummaryWithDrift[]>`
    select ${summaryColumnList(sql)}, conformance from hosts where set_id = ${setId} order by hostname, machine_id`;
}

/** Hosts whose reported set did not exist when they reported but exists now. */
/**
 * The hosts of a set are judged again at the next fleet read (as hosts that named a set before it
 * existed are): its members grew, as when an upstream member was adopted in the background.
 */
export async function reassessHostsOfSet(sql: Queryable, setId: number): Promise<void> {
  await sql`update hosts set set_id = null where set_id = ${setId}`;
}

export async function findResolvableHosts(sql: Queryable) {
  return sql<{ id: number; arch: string; set_ref: string; set_id: number; inventory_digest: Buffer }[]>`
    select h.id, h.arch, h.set_ref, s.id as set_id, h.inventory_digest
    from hosts h join package_sets s on h.set_ref = s.name || '/' || s.version
    where h.set_id is null and h.set_ref is not null`;
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
