// Queries of the cleanup (server/retention): the sets and packages its rules read, streamed in
// batches through cursors; its warnings (sql/0016); the audit of deletions. SQL only, no policy.
import type { Level } from '../../common/roles.ts';
import type { Queryable } from './queryable.ts';

const batch = 2000;

/** A set as the set rules read it: every set, so that a newer released version counts too. */
export interface RetentionSetRow {
  id: number;
  name: string;
  version: string;
  level: Level;
  released: boolean;
  created_by: string;
  /** When the set reached its current level (its last promotion, or its creation). */
  level_since: Date;
  /** Hosts that reported the set as theirs since `hostCutoff`, and the latest report of any host. */
  recent_hosts: number;
  last_host_report: Date | null;
}

/** Every set, ordered by name (one product line after another), in batches. */
export async function* streamRetentionSets(sql: Queryable, hostCutoff: Date): AsyncGenerator<RetentionSetRow[]> {
  const cursor = sql<RetentionSetRow[]>`
    select s.id, s.name, s.version, s.level, (s.released_at is not null or s.level = 'release') as released,
           s.created_by,
           coalesce((select max(p.promoted_at) from set_promotions p where p.set_id = s.id), s.created_at) as level_since,
           coalesce(h.recent_hosts, 0)::int as recent_hosts, h.last_host_report
    from package_sets s
    left join lateral (
      select count(*) filter (where hosts.last_report_at >= ${hostCutoff}) as recent_hosts, max(hosts.last_report_at) as last_host_report
      from hosts where hosts.set_id = s.id
    ) h on true
    order by s.name, s.id`.cursor(batch);
  for await (const rows of cursor) yield rows;
}

export interface OrphanPackageRow {
  id: number;
  nevra: string;
  is_source: boolean;
  uploaded_by: string;
  uploaded_at: Date;
  /** Its files in the store: the upload, the served file when another, previous served files. */
  bytes: number;
}

/**
 * Packages no set holds, stored before `cutoff`, except the agent's package (served at /repo/agent/)
 * and source packages tied (by their binaries' SOURCERPM) to a binary that is kept: one a set holds,
 * or one too young to be an orphan itself.
 */
export async function* streamOrphanPackages(sql: Queryable, cutoff: Date, keepName: string): AsyncGenerator<OrphanPackageRow[]> {
  const cursor = sql<OrphanPackageRow[]>`
    select p.id, p.nevra, p.is_source, p.uploaded_by, p.uploaded_at,
           (p.original_size + case when p.sha256 <> p.original_sha256 then p.size else 0 end
            + coalesce((select sum(f.size) from package_previous_files f where f.package_id = p.id), 0))::float8 as bytes
    from packages p
    where p.uploaded_at <= ${cutoff}
      and p.name <> ${keepName}
      and not exists (select 1 from package_set_members m where m.package_id = p.id)
      and (not p.is_source or not exists (
        select 1 from packages b
        where not b.is_source and b.sourcerpm = p.filename
          and (b.uploaded_at > ${cutoff} or b.name = ${keepName}
               or exists (select 1 from package_set_members mb where mb.package_id = b.id))))
    order by p.id`.cursor(batch);
  for await (const rows of cursor) yield rows;
}

export type WarningKind = 'set' | 'package';
export type WarningRule = 'redundant' | 'too_old' | 'obsolete' | 'orphan';

export interface WarningRow {
  id: number;
  kind: WarningKind;
  set_id: number | null;
  package_id: number | null;
  object: string;
  rule: WarningRule;
  reason: string;
  bytes: number;
  recipients: string[];
  mailed_to: string[];
  warned_at: Date;
  notified_at: Date | null;
  due_at: Date | null;
  last_mail_error: string | null;
  state: 'pending' | 'deleted' | 'withdrawn';
  resolved_at: Date | null;
  withdrawn_reason: string | null;
  withdrawal_mailed_to: string[];
}

const warningColumns = sqlColumns();
function sqlColumns(): string[] {
  return ['id', 'kind', 'set_id', 'package_id', 'object', 'rule', 'reason', 'recipients', 'mailed_to', 'warned_at', 'notified_at',
    'due_at', 'last_mail_error', 'state', 'resolved_at', 'withdrawn_reason', 'withdrawal_mailed_to'];
}

/**
 * One page of the pending warnings, oldest first (warnings of one run share their dates, so this is
 * nearly nearest-due first), and how many there are: both read from cleanup_warnings_state_idx.
 */
export async function listPendingWarnings(sql: Queryable, page: { limit: number; offset: number }): Promise<{ total: number; rows: WarningRow[] }> {
  const [rows, [count]] = await Promise.all([
    sql<WarningRow[]>`
      select ${sql(warningColumns)}, bytes::float8 as bytes from cleanup_warnings where state = 'pending'
      order by id limit ${page.limit} offset ${page.offset}`,
    sql<{ total: number }[]>`select count(*)::int as total from cleanup_warnings where state = 'pending'`,
  ]);
  return { total: count!.total, rows };
}

export interface NewWarning {
  kind: WarningKind;
  id: number;
  object: string;
  rule: WarningRule;
  reason: string;
  bytes: number;
  recipients: string[];
}

/**
 * Records warnings at `now`; those with nobody to mail (or with mail off) are notified at once, their
 * delay running from now. A warning pending already for the object is left as it is.
 */
export async function insertWarnings(sql: Queryable, warnings: NewWarning[], now: Date, delayDays: number, notifyNow: boolean): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < warnings.length; start += batch) {
    const slice = warnings.slice(start, start + batch);
    const rows = await sql`
      insert into cleanup_warnings (kind, set_id, package_id, object, rule, reason, bytes, recipients, warned_at, notified_at, due_at)
      select w.kind, case when w.kind = 'set' then w.id end, case when w.kind = 'package' then w.id end, w.object, w.rule, w.reason, w.bytes,
             coalesce(array(select jsonb_array_elements_text(w.recipients)), '{}'), ${now},
             case when ${notifyNow} or jsonb_array_length(w.recipients) = 0 then ${now}::timestamptz end,
             case when ${notifyNow} or jsonb_array_length(w.recipients) = 0 then ${now}::timestamptz + make_interval(days => ${delayDays}) end
      from jsonb_to_recordset(${sql.json(slice as never)}) as w(kind text, id bigint, object text, rule text, reason text, bytes bigint, recipients jsonb)
      on conflict do nothing
      returning id`;
    inserted += rows.length;
  }
  return inserted;
}

export async function withdrawWarnings(sql: Queryable, withdrawals: { id: number; reason: string }[], now: Date): Promise<void> {
  for (let start = 0; start < withdrawals.length; start += batch) {
    const slice = withdrawals.slice(start, start + batch);
    await sql`
      update cleanup_warnings w set state = 'withdrawn', resolved_at = ${now}, withdrawn_reason = x.reason
      from jsonb_to_recordset(${sql.json(slice as never)}) as x(id bigint, reason text)
      where w.id = x.id and w.state = 'pending'`;
  }
}

export async function markWarningDeleted(sql: Queryable, id: number, now: Date): Promise<void> {
  await sql`update cleanup_warnings set state = 'deleted', resolved_at = ${now} where id = ${id} and state = 'pending'`;
}

/** What a recipient still has to be told: pending warnings not yet mailed to them; withdrawals of warnings they received. */
export interface MailItemRow {
  recipient: string;
  id: number;
  kind: WarningKind;
  object: string;
  rule: WarningRule;
  reason: string;
  bytes: number;
  warned_at: Date;
  notified_at: Date | null;
  due_at: Date | null;
  withdrawal: boolean;
  withdrawn_reason: string | null;
}

/** Whether `r.recipient` still has to be told about warning `w`. */
function owedMail(sql: Queryable) {
  return sql`
    ((w.state = 'pending' and not r.recipient = any(w.mailed_to))
     or (w.state = 'withdrawn' and cardinality(w.mailed_to) > cardinality(w.withdrawal_mailed_to)
         and r.recipient = any(w.mailed_to) and not r.recipient = any(w.withdrawal_mailed_to)))`;
}

/** The recipients a digest is owed to. */
export async function listMailRecipients(sql: Queryable): Promise<string[]> {
  const rows = await sql<{ recipient: string }[]>`
    select distinct r.recipient from cleanup_warnings w, unnest(w.recipients) as r(recipient)
    where w.state in ('pending', 'withdrawn') and ${owedMail(sql)}
    order by r.recipient`;
  return rows.map((row) => row.recipient);
}

/** One recipient's digest: what they still have to be told, oldest first. */
export async function mailItemsFor(sql: Queryable, recipient: string): Promise<MailItemRow[]> {
  return sql<MailItemRow[]>`
    select r.recipient, w.id, w.kind, w.object, w.rule, w.reason, w.bytes::float8 as bytes, w.warned_at, w.notified_at, w.due_at,
           w.state = 'withdrawn' as withdrawal, w.withdrawn_reason
    from cleanup_warnings w, unnest(w.recipients) as r(recipient)
    where r.recipient = ${recipient} and w.state in ('pending', 'withdrawn') and ${owedMail(sql)}
    order by w.id`;
}

/**
 * A digest reached `recipient`: its warnings count as mailed to them, and a warning mailed to every
 * recipient is notified now (its delay starts).
 */
export async function recordMailSent(sql: Queryable, recipient: string, warningIds: number[], withdrawalIds: number[], now: Date, delayDays: number): Promise<void> {
  await sql`
    update cleanup_warnings
       set mailed_to = array_append(mailed_to, ${recipient}), last_mail_error = null
     where id = any(${warningIds}::bigint[]) and not ${recipient} = any(mailed_to)`;
  await sql`
    update cleanup_warnings
       set notified_at = ${now}, due_at = ${now}::timestamptz + make_interval(days => ${delayDays})
     where id = any(${warningIds}::bigint[]) and notified_at is null and recipients <@ mailed_to`;
  await sql`
    update cleanup_warnings
       set withdrawal_mailed_to = array_append(withdrawal_mailed_to, ${recipient})
     where id = any(${withdrawalIds}::bigint[]) and not ${recipient} = any(withdrawal_mailed_to)`;
}

export async function recordMailFailure(sql: Queryable, warningIds: number[], error: string): Promise<void> {
  await sql`update cleanup_warnings set last_mail_error = ${error} where id = any(${warningIds}::bigint[])`;
}

export async function insertAuditEvent(sql: Queryable, event: { actor: string; action: string; object: string; detail: Record<string, unknown> }): Promise<void> {
  await sql`insert into audit_events (actor, action, object, detail) values (${event.actor}, ${event.action}, ${event.object}, ${sql.json(event.detail as never)})`;
}

export async function insertAuditEvents(sql: Queryable, events: { actor: string; action: string; object: string; detail: Record<string, unknown> }[]): Promise<void> {
  for (let start = 0; start < events.length; start += batch) {
    await sql`
      insert into audit_events (actor, action, object, detail)
      select e.actor, e.action, e.object, coalesce(e.detail, '{}') from jsonb_to_recordset(${sql.json(events.slice(start, start + batch) as never)})
        as e(actor text, action text, object text, detail jsonb)`;
  }
}

/** Marks pending warnings deleted, in the deleting transaction. */
export async function markWarningsDeleted(sql: Queryable, ids: number[], now: Date): Promise<void> {
  await sql`update cleanup_warnings set state = 'deleted', resolved_at = ${now} where id = any(${ids}::bigint[]) and state = 'pending'`;
}

/** Why a set is no longer eligible, in facts: its level, whether released, its hosts' latest report. */
export async function describeSetNow(sql: Queryable, setId: number) {
  const [row] = await sql<{ level: Level; released: boolean; last_host_report: Date | null; last_hostname: string | null }[]>`
    select s.level, s.released_at is not null as released, h.last_report_at as last_host_report, h.hostname as last_hostname
    from package_sets s
    left join lateral (select last_report_at, hostname from hosts where set_id = s.id order by last_report_at desc limit 1) h on true
    where s.id = ${setId}`;
  return row ?? null;
}

/** The sets holding a package now, and whether a kept binary ties it (as a source). */
export async function describePackageNow(sql: Queryable, packageId: number) {
  const [row] = await sql<{ sets: string[]; binaries: string[] }[]>`
    select array(select s.name || '/' || s.version from package_set_members m join package_sets s on s.id = m.set_id
                 where m.package_id = p.id order by s.name, s.id limit 3) as sets,
           array(select b.nevra from packages b where p.is_source and not b.is_source and b.sourcerpm = p.filename order by b.id limit 3) as binaries
    from packages p where p.id = ${packageId}`;
  return row ?? null;
}

/** Files a key rotation replaced before `cutoff`: their rows go, their blobs then follow. */
export async function deletePreviousFilesBefore(sql: Queryable, cutoff: Date): Promise<{ sha256: string; size: number }[]> {
  return sql<{ sha256: string; size: number }[]>`
    delete from package_previous_files where replaced_at <= ${cutoff} returning sha256, size::float8 as size`;
}

export async function countPreviousFilesBefore(sql: Queryable, cutoff: Date): Promise<{ files: number; bytes: number }> {
  const [row] = await sql<{ files: number; bytes: number }[]>`
    select count(*)::int as files, coalesce(sum(size), 0)::float8 as bytes from package_previous_files where replaced_at <= ${cutoff}`;
  return row!;
}

/**
 * An object the cleanup's rules make eligible (server/retention/planner.ts), as the run's temporary
 * table holds it. `warned`: a warning was pending for it when the run began.
 */
export interface EligibleRow {
  kind: WarningKind;
  object_id: number;
  object: string;
  rule: WarningRule;
  reason: string;
  owner: string;
  bytes: number;
}

/**
 * The eligible objects of one run or dry run live in a temporary table of the connection that runs it
 * (`conn` must be one connection: a reserved one), so that a run over 100,000 objects holds a page of
 * them at a time, not all of them: PostgreSQL matches them against the warnings.
 */
export async function createEligibleTable(conn: Queryable): Promise<void> {
  await conn`
    create temporary table if not exists cleanup_eligible (
      seq bigserial primary key, kind text not null, object_id bigint not null, object text not null, rule text not null,
      reason text not null, owner text not null, bytes float8 not null, warned boolean not null default false,
      unique (kind, object_id))`;
  await conn`truncate cleanup_eligible restart identity`;
}

export async function dropEligibleTable(conn: Queryable): Promise<void> {
  await conn`drop table if exists cleanup_eligible`;
}

/** An eligible object to record: its kind and id, what it is called, its rule and reason, owner and bytes. */
export interface NewEligible {
  kind: WarningKind;
  id: number;
  object: string;
  rule: WarningRule;
  reason: string;
  owner: string;
  bytes: number;
}

export async function insertEligible(conn: Queryable, rows: NewEligible[]): Promise<void> {
  for (let start = 0; start < rows.length; start += batch) {
    await conn`
      insert into cleanup_eligible (kind, object_id, object, rule, reason, owner, bytes)
      select e.kind, e.id, e.object, e.rule, e.reason, e.owner, e.bytes
      from jsonb_to_recordset(${conn.json(rows.slice(start, start + batch) as never)})
        as e(kind text, id bigint, object text, rule text, reason text, owner text, bytes float8)
      on conflict do nothing`;
  }
}

/**
 * Marks the eligible objects a pending warning names already (they are not warned again), and gives
 * the planner the table's statistics: autovacuum never analyzes a temporary table, and without them
 * PostgreSQL joined 50,000 warnings to it by scanning it once per warning.
 */
export async function markEligibleWarned(conn: Queryable): Promise<void> {
  await conn`analyze cleanup_eligible`;
  await conn`
    update cleanup_eligible e set warned = true
    from cleanup_warnings w
    where w.state = 'pending' and w.kind = e.kind
      and e.object_id = case when w.kind = 'set' then w.set_id else w.package_id end`;
}

/** A pending warning, and the bytes of its object today when the object is still eligible (else null). */
export type JudgedWarningRow = WarningRow & { eligible_bytes: number | null };

/** The warnings of `kind` due by `due` among those recorded up to `upToId` (before the run warned). */
export interface DueWarnings {
  due: Date;
  kind: WarningKind;
  upToId: number;
}

/** The newest warning's id (0 when there is none): the run's own warnings come after it. */
export async function lastWarningId(sql: Queryable): Promise<number> {
  const [row] = await sql<{ id: number }[]>`select coalesce(max(id), 0)::float8 as id from cleanup_warnings`;
  return row!.id;
}

/**
 * One page of pending warnings after `afterId`, oldest first, each with whether its object is eligible
 * now; `only`: those eligible and due (DueWarnings), or those no longer eligible.
 */
export async function pageJudgedWarnings(
  conn: Queryable,
  page: { afterId: number; limit: number; only?: DueWarnings | 'not-eligible' },
): Promise<JudgedWarningRow[]> {
  const only = page.only;
  return conn<JudgedWarningRow[]>`
    select ${conn(warningColumns.map((column) => `w.${column}`))}, w.bytes::float8 as bytes, e.bytes as eligible_bytes
    from cleanup_warnings w
    -- A lookup per warning, walking the warnings in id order until the page is full (LIMIT 1 keeps
    -- PostgreSQL from turning it into a join of every pending warning, once per page).
    left join lateral (
      select x.bytes from cleanup_eligible x
      where x.kind = w.kind and x.object_id = case when w.kind = 'set' then w.set_id else w.package_id end
      limit 1
    ) e on true
    where w.state = 'pending' and w.id > ${page.afterId}
      ${only === 'not-eligible' ? conn`and e.bytes is null`
        : only ? conn`and e.bytes is not null and w.kind = ${only.kind} and w.due_at <= ${only.due} and w.id <= ${only.upToId}`
        : conn``}
    order by w.id
    limit ${page.limit}`;
}

/** One page of the eligible objects no pending warning named when the run began, in the planner's order. */
export async function pageUnwarnedEligible(conn: Queryable, page: { afterSeq: number; limit: number }): Promise<(EligibleRow & { seq: number })[]> {
  return conn<(EligibleRow & { seq: number })[]>`
    select seq::float8 as seq, kind, object_id::float8 as object_id, object, rule, reason, owner, bytes
    from cleanup_eligible where not warned and seq > ${page.afterSeq}
    order by seq limit ${page.limit}`;
}

export async function countUnwarnedEligible(conn: Queryable): Promise<{ count: number; bytes: number }> {
  const [row] = await conn<{ count: number; bytes: number }[]>`
    select count(*)::int as count, coalesce(sum(bytes), 0)::float8 as bytes from cleanup_eligible where not warned`;
  return row!;
}
