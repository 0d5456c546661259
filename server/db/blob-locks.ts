// One transaction-scoped advisory lock per blob digest: a writer that adopts a blob for a row it is
// inserting holds it until the row commits, and the cleanup removes an unnamed blob only under it, so
// a blob can never be removed between an upload's adopt and the commit of the row that names it.
import type { Queryable } from './queryable.ts';

export async function lockBlobs(tx: Queryable, sha256s: string[]): Promise<void> {
  for (const sha256 of [...new Set(sha256s)].sort()) {
    await tx`select pg_advisory_xact_lock(hashtextextended(${'blob:' + sha256}, 0))`;
  }
}

/** Of these digests, those a row names: a package's upload or served file, or a file it was served as before. */
export async function namedBlobs(sql: Queryable, sha256s: string[]): Promise<Set<string>> {
  const rows = await sql<{ sha256: string }[]>`
    select original_sha256 as sha256 from packages where original_sha256 = any(${sha256s})
    union select sha256 from packages where sha256 = any(${sha256s})
    union select sha256 from package_previous_files where sha256 = any(${sha256s})`;
  return new Set(rows.map((row) => row.sha256));
}

/** Held (exclusive, for its session) by a backup from its snapshot until it has copied every blob it names. */
export const blobRemovalLockKey = 0x72676261636b7570n;

/** Within a transaction: no backup is copying blobs (then none starts before this transaction ends). */
export async function blobRemovalAllowed(tx: Queryable): Promise<boolean> {
  const [row] = await tx<{ free: boolean }[]>`select pg_try_advisory_xact_lock_shared(${blobRemovalLockKey.toString()}::bigint) as free`;
  return row!.free;
}
