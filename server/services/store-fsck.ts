// `rpmgate store fsck`: compares the rows that name blobs (every package's served and original file,
// and the files re-signing replaced, which stay served) with the blobs the store holds. Rows whose
// blob is missing or of another size are listed (the repair is to upload the same package again, which
// restores the blob, or to restore the store); blobs no row names are listed, and with `repair` removed
// when older than an hour (younger ones may belong to an upload whose row is about to commit).
import type { AppContext } from '../context.ts';

export interface DamagedBlob {
  nevra: string;
  /** served: the file repositories serve; original: the upload, re-signing's source; previous: replaced by re-signing, still served at its href. */
  role: 'served' | 'original' | 'previous';
  sha256: string;
  expectedSize: number;
  /** null: missing. */
  foundSize: number | null;
}

export interface OrphanBlob {
  sha256: string;
  size: number;
  modifiedAt: string;
  removed: boolean;
}

export interface FsckReport {
  store: string;
  /** Blobs the database names. */
  named: number;
  /** Blobs the store holds. */
  held: number;
  damaged: DamagedBlob[];
  orphans: OrphanBlob[];
}

const orphanGraceMs = 3600 * 1000;

export async function checkStore(ctx: Pick<AppContext, 'sql' | 'store' | 'log'>, options: { repair?: boolean; now?: Date } = {}): Promise<FsckReport> {
  const now = options.now ?? new Date();
  const held = new Map<string, { size: number; modifiedAt: Date }>();
  for await (const blob of ctx.store.list()) held.set(blob.sha256, { size: blob.size, modifiedAt: blob.modifiedAt });
  // Listed after the store: a blob adopted meanwhile is then named by a row it is checked against, or
  // young enough to be spared as an orphan.
  const rows = await ctx.sql<{ nevra: string; role: DamagedBlob['role']; sha256: string; size: number }[]>`
    select nevra, 'served' as role, sha256, size from packages
    union all
    select nevra, 'original', original_sha256, original_size from packages where original_sha256 <> sha256
    union all
    select p.nevra, 'previous', f.sha256, f.size from package_previous_files f join packages p on p.id = f.package_id
    order by 1, 2`;
  const named = new Set<string>();
  const damaged: DamagedBlob[] = [];
  for (const row of rows) {
    named.add(row.sha256);
    const found = held.get(row.sha256) ?? (await ctx.store.stat(row.sha256));
    if (found?.size !== row.size) damaged.push({ nevra: row.nevra, role: row.role, sha256: row.sha256, expectedSize: row.size, foundSize: found?.size ?? null });
  }
  const orphans: OrphanBlob[] = [];
  for (const [sha256, blob] of held) {
    if (named.has(sha256)) continue;
    const removable = options.repair === true && now.getTime() - blob.modifiedAt.getTime() > orphanGraceMs;
    if (removable) await ctx.store.remove(sha256);
    orphans.push({ sha256, size: blob.size, modifiedAt: blob.modifiedAt.toISOString(), removed: removable });
  }
  if (damaged.length > 0) ctx.log.error('package store damaged', { store: ctx.store.location, damaged: damaged.length });
  if (options.repair) ctx.log.info('package store repaired', { removedOrphans: orphans.filter((orphan) => orphan.removed).length });
  return { store: ctx.store.location, named: named.size, held: held.size, damaged, orphans };
}
