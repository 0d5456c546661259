// Queries on set_pending_adoptions (sql/0022): a set's members still to be adopted from a mirror, the
// due ones for the background job, and the outcome of each attempt. SQL only, no policy.
import type { Queryable } from './queryable.ts';

/** The upstream package a pending member stands for, fixed when the set is created. */
export interface PendingAdoptionRecord {
  nevra: string;
  mirror_name: string;
  pkgid: string;
  checksum_type: string;
  location_href: string;
  size: number;
  is_source: boolean;
}

export interface PendingAdoptionRow extends PendingAdoptionRecord {
  set_id: number;
  state: 'pending' | 'failed';
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
}

/** Recorded with the set, before insertSet seals it (sql/0022 refuses them afterwards). */
export async function insertPendingAdoptions(sql: Queryable, setId: number, records: readonly PendingAdoptionRecord[]): Promise<void> {
  if (records.length === 0) return;
  await sql`insert into set_pending_adoptions ${sql(records.map((record) => ({ set_id: setId, ...record })))}`;
}

/** Whether the set still has members being adopted (it will grow). */
export async function hasPendingMembers(sql: Queryable, setId: number): Promise<boolean> {
  const [row] = await sql<{ pending: boolean }[]>`
    select exists (select from set_pending_adoptions where set_id = ${setId} and state = 'pending') as pending`;
  return row!.pending;
}

/** A set's members not in the store yet, pending or failed, by NEVRA. */
export async function listPendingAdoptions(sql: Queryable, setId: number): Promise<PendingAdoptionRow[]> {
  return sql<PendingAdoptionRow[]>`select * from set_pending_adoptions where set_id = ${setId} order by nevra`;
}

/** Pending members whose next attempt is due (never those of obsolete sets), oldest first. */
export async function listDueAdoptions(sql: Queryable, limit: number): Promise<PendingAdoptionRow[]> {
  return sql<PendingAdoptionRow[]>`
    select a.* from set_pending_adoptions a join package_sets s on s.id = a.set_id
    where a.state = 'pending' and a.next_attempt_at <= now() and s.level <> 'obsolete'
    order by a.next_attempt_at, a.set_id, a.nevra
    limit ${limit}`;
}

/**
 * The adopted package takes the pending member's place: a member of the set (sql/0022 lets a sealed
 * set take exactly this NEVRA), and the row is gone. False when the row was gone already (the set deleted).
 */
export async function completePendingAdoption(sql: Queryable, setId: number, nevra: string, packageId: number): Promise<boolean> {
  const [row] = await sql<{ nevra: string }[]>`
    select nevra from set_pending_adoptions where set_id = ${setId} and nevra = ${nevra} and state = 'pending' for update`;
  if (!row) return false;
  await sql`
    insert into package_set_members (set_id, package_id) values (${setId}, ${packageId})
    on conflict on constraint package_set_members_pkey do nothing`;
  await sql`delete from set_pending_adoptions where set_id = ${setId} and nevra = ${nevra}`;
  return true;
}

/** A failed attempt worth retrying: the next one after `delaySeconds`. */
export async function recordAdoptionRetry(sql: Queryable, setId: number, nevra: string, error: string, delaySeconds: number): Promise<void> {
  await sql`
    update set_pending_adoptions
       set attempts = attempts + 1, last_error = ${error}, next_attempt_at = now() + make_interval(secs => ${delaySeconds})
     where set_id = ${setId} and nevra = ${nevra} and state = 'pending'`;
}

/** Refused for good: never retried, never served. */
export async function recordAdoptionFailure(sql: Queryable, setId: number, nevra: string, error: string): Promise<void> {
  await sql`
    update set_pending_adoptions set attempts = attempts + 1, last_error = ${error}, state = 'failed'
     where set_id = ${setId} and nevra = ${nevra} and state = 'pending'`;
}
