// Deleting a set or a package: the one path for a user's delete and the cleanup's. Each deletion is
// one transaction that re-checks the object may go, deletes its row (the schema then buries a set
// under a tombstone and moves its packages' levels, sql/0009 and 0011), moves the repositories'
// generation and writes an audit event naming who deleted it and why. Files go after the commit
// (removeUnnamedBlobs): a crash in between leaves files without rows, which the next sweep removes,
// never a row without its file.
import { RpmgateError } from '../../common/errors.ts';
import { blobRemovalAllowed, lockBlobs, namedBlobs } from '../db/blob-locks.ts';
import type { Queryable } from '../db/queryable.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import { insertAuditEvent, insertAuditEvents } from '../db/retention.ts';
import type { BlobStore } from '../store/store.ts';

export interface DeletionActor {
  /** A token name, or "cleanup". */
  actor: string;
  /** What the audit records besides: the rule and reason of a cleanup, a user's comment. */
  detail: Record<string, unknown>;
  /** More work that must commit with the deletion or not at all (the cleanup marks its warning). */
  alsoInTransaction?: (tx: Queryable) => Promise<void>;
}

export interface SetDeletionGuard {
  /** The set must still be at this level (a promotion since spares it). */
  level?: string;
  /** No host may have reported the set as its own since then. */
  noHostReportSince?: Date;
}

/** Deletes a set in one transaction; false when a guard no longer holds (nothing changed). */
export async function deleteSet(sql: Queryable, setId: number, by: DeletionActor, guard: SetDeletionGuard = {}): Promise<boolean> {
  return inTransaction(sql, async (tx) => {
    const [set] = await tx<{ name: string; version: string; level: string; released: boolean }[]>`
      select name, version, level, (released_at is not null or level = 'release') as released from package_sets where id = ${setId} for update`;
    if (!set) return false;
    if (set.released) throw new RpmgateError('conflict', `package set ${set.name}/${set.version} was released: a released set is never deleted`);
    if (guard.level !== undefined && set.level !== guard.level) return false;
    if (guard.noHostReportSince) {
      const [recent] = await tx`select 1 from hosts where set_id = ${setId} and last_report_at >= ${guard.noHostReportSince} limit 1`;
      if (recent) return false;
    }
    await tx`delete from package_sets where id = ${setId}`;
    // An empty set cascades no member, so the trigger of sql/0011 may not have moved the generation.
    await bumpRepoGeneration(tx, 'levels');
    await insertAuditEvent(tx, { actor: by.actor, action: 'set.delete', object: `${set.name}/${set.version}`, detail: { level: set.level, ...by.detail } });
    await by.alsoInTransaction?.(tx);
    return true;
  });
}

export interface StoredFile {
  sha256: string;
  size: number;
}

export interface DeletedPackage {
  nevra: string;
  /** The files its rows named: remove them with removeUnnamedBlobs once the deletion committed. */
  files: StoredFile[];
}

/** Deletes a package no set holds, in one transaction; null when a set holds it now (nothing changed). */
export async function deletePackage(sql: Queryable, packageId: number, by: DeletionActor): Promise<DeletedPackage | null> {
  const [deleted] = await deletePackages(sql, [{ packageId, detail: by.detail }], by.actor, by.alsoInTransaction && ((tx) => by.alsoInTransaction!(tx)));
  return deleted ?? null;
}

/**
 * Deletes packages no set holds, in one transaction (the cleanup deletes thousands: one generation
 * bump and a few statements for a batch, not for each). Those a set holds by now are left alone.
 * `alsoInTransaction` gets the ids actually deleted.
 */
export async function deletePackages(
  sql: Queryable,
  requests: { packageId: number; detail: Record<string, unknown> }[],
  actor: string,
  alsoInTransaction?: (tx: Queryable, deletedIds: number[]) => Promise<void>,
): Promise<(DeletedPackage & { id: number })[]> {
  if (requests.length === 0) return [];
  return inTransaction(sql, async (tx) => {
    const ids = requests.map((request) => request.packageId);
    // The row locks make a set being created with one of these packages wait for this transaction
    // (its member row's foreign key), so no set can hold a package once this finds none.
    const rows = await tx<{ id: number; nevra: string; sha256: string; size: number; original_sha256: string; original_size: number; sourcerpm: string | null; is_source: boolean }[]>`
      select id, nevra, sha256, size::float8 as size, original_sha256, original_size::float8 as original_size, sourcerpm, is_source
      from packages where id = any(${ids}::bigint[]) order by id for update`;
    const held = new Set((await tx<{ package_id: number }[]>`
      select distinct package_id from package_set_members where package_id = any(${ids}::bigint[])`).map((row) => Number(row.package_id)));
    const going = rows.filter((row) => !held.has(Number(row.id)));
    if (going.length === 0) return [];
    const goingIds = going.map((row) => Number(row.id));
    const previous = await tx<{ package_id: number; sha256: string; size: number }[]>`
      select package_id, sha256, size::float8 as size from package_previous_files where package_id = any(${goingIds}::bigint[])`;
    await alsoInTransaction?.(tx, goingIds);
    await tx`delete from packages where id = any(${goingIds}::bigint[])`;
    // A binary's source takes its level from its binaries (sql/0002): compute it again without them.
    const sourcerpms = [...new Set(going.filter((row) => !row.is_source && row.sourcerpm).map((row) => row.sourcerpm!))];
    if (sourcerpms.length > 0) {
      await tx`select refresh_package_levels(array(select id from packages where is_source and filename = any(${sourcerpms})))`;
    }
    await bumpRepoGeneration(tx, 'levels');
    const detailOf = new Map(requests.map((request) => [request.packageId, request.detail]));
    await insertAuditEvents(tx, going.map((row) => ({ actor, action: 'package.delete', object: row.nevra, detail: detailOf.get(Number(row.id)) ?? {} })));
    return going.map((row) => {
      const files = new Map<string, number>([[row.original_sha256, row.original_size], [row.sha256, row.size]]);
      for (const file of previous) if (Number(file.package_id) === Number(row.id)) files.set(file.sha256, file.size);
      return { id: Number(row.id), nevra: row.nevra, files: [...files].map(([sha256, size]) => ({ sha256, size: Number(size) })) };
    });
  });
}

/**
 * Removes the blobs no row names any more, each under its lock (db/blob-locks.ts): an upload of the
 * same bytes either commits its row first (the blob stays) or adopts its file after the removal.
 * Returns the bytes given back.
 */
export async function removeUnnamedBlobs(sql: Queryable, store: BlobStore, files: StoredFile[], afterEach?: () => void): Promise<number> {
  let freed = 0;
  const unique = [...new Map(files.map((file) => [file.sha256, file])).values()];
  for (let start = 0; start < unique.length; start += blobBatch) {
    const slice = unique.slice(start, start + blobBatch);
    freed += await inTransaction(sql, async (tx) => {
      // A backup copying blobs (server/ops/backup) holds this lock: the files stay for a later sweep.
      if (!(await blobRemovalAllowed(tx))) return 0;
      await lockBlobs(tx, slice.map((file) => file.sha256));
      const named = await namedBlobs(tx, slice.map((file) => file.sha256));
      let bytes = 0;
      for (const file of slice) {
        if (named.has(file.sha256) || !(await store.has(file.sha256))) continue;
        await store.remove(file.sha256);
        bytes += file.size;
        afterEach?.();
      }
      return bytes;
    });
  }
  return freed;
}

/** Blobs removed under one transaction's locks. */
const blobBatch = 200;

async function inTransaction<T>(sql: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  if ('begin' in sql && typeof sql.begin === 'function') return (sql as import('postgres').Sql).begin((tx) => work(tx)) as Promise<T>;
  return work(sql);
}
