// `rpmgate store fsck`: the database and the package store agree. Every file a row names (a package's
// original upload, its served file, the files re-signing replaced) must be in the store with the
// recorded size (and, with verify, the recorded sha256); every blob in the store must be named by a
// row. Both walks stream in batches, so memory stays flat with the number of packages.
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Queryable } from '../db/queryable.ts';
import type { BlobStore } from './store.ts';

export type FileRole = 'original upload' | 'served file' | 'previous served file';

/** A row whose file is missing, short or (with verify) not what its sha256 says. */
export interface MissingFile {
  nevra: string;
  role: FileRole;
  sha256: string;
  expectedSize: number;
  /** null: no such file. */
  foundSize: number | null;
  damaged: boolean;
  /** What --repair did, or why it could not. */
  repair: string;
}

/** A blob no row names. */
export interface StrayBlob {
  sha256: string;
  size: number;
  modifiedAt: string;
  repair: string;
}

export interface FsckReport {
  rowsChecked: number;
  blobsChecked: number;
  missing: MissingFile[];
  stray: StrayBlob[];
  /** True when nothing is wrong after this run (repairs included). */
  clean: boolean;
}

export interface FsckOptions {
  repair: boolean;
  /** Hash every file (reads the whole store) instead of checking sizes only. */
  verify: boolean;
  /** Blobs younger than this are never stray: an upload in flight adopts its blob before its row commits. */
  strayGraceMs: number;
  now?: Date;
}

interface FileRow {
  package_id: number;
  nevra: string;
  role: FileRole;
  sha256: string;
  size: number;
}

const batchSize = 500;

export async function checkStore(sql: Queryable, store: BlobStore, options: FsckOptions): Promise<FsckReport> {
  const report: FsckReport = { rowsChecked: 0, blobsChecked: 0, missing: [], stray: [], clean: true };
  await checkRows(sql, store, options, report);
  await checkBlobs(sql, store, options, report);
  report.clean = report.missing.every((file) => file.repair.startsWith('removed')) && report.stray.every((blob) => blob.repair.startsWith('removed'));
  return report;
}

async function checkRows(sql: Queryable, store: BlobStore, options: FsckOptions, report: FsckReport): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await sql<FileRow[]>`
      with page as (select id, nevra, original_sha256, original_size, sha256, size from packages where id > ${after} order by id limit ${batchSize})
      select id as package_id, nevra, 'original upload' as role, original_sha256 as sha256, original_size as size from page
      union all
      select id, nevra, 'served file', sha256, size from page where sha256 <> original_sha256
      union all
      select f.package_id, p.nevra, 'previous served file', f.sha256, f.size
        from package_previous_files f join page p on p.id = f.package_id
      order by package_id`;
    if (rows.length === 0) return;
    for (const row of rows) {
      report.rowsChecked++;
      const problem = await inspectFile(store, row, options.verify);
      if (!problem) continue;
      problem.repair = options.repair ? await repairRow(sql, row) : repairAdvice(row);
      report.missing.push(problem);
    }
    after = Math.max(...rows.map((row) => Number(row.package_id)));
  }
}

async function inspectFile(store: BlobStore, row: FileRow, verify: boolean): Promise<MissingFile | null> {
  const size = Number(row.size);
  const base = { nevra: row.nevra, role: row.role, sha256: row.sha256, expectedSize: size, repair: '' };
  const found = await store.stat(row.sha256);
  if (!found) return { ...base, foundSize: null, damaged: false };
  if (found.size !== size) return { ...base, foundSize: found.size, damaged: true };
  if (verify && (await sha256Of(store, row.sha256, size)) !== row.sha256) return { ...base, foundSize: found.size, damaged: true };
  return null;
}

/**
 * A previous served file only backs an old href that a host's cached primary.xml may still name: its
 * row goes (the href answers 404, which makes dnf fetch fresh metadata). The original upload and the
 * served file are the package itself: no repair invents them; they come back from a backup or a new
 * upload of the same file.
 */
async function repairRow(sql: Queryable, row: FileRow): Promise<string> {
  if (row.role !== 'previous served file') return repairAdvice(row);
  await sql`delete from package_previous_files where package_id = ${row.package_id} and sha256 = ${row.sha256}`;
  return 'removed the row (an old href of the package, now 404)';
}

function repairAdvice(row: FileRow): string {
  if (row.role === 'previous served file') return 'run with --repair to remove the row';
  return `restore blobs/${row.sha256.slice(0, 2)}/${row.sha256} from a backup, or delete the package and upload it again`;
}

async function checkBlobs(sql: Queryable, store: BlobStore, options: FsckOptions, report: FsckReport): Promise<void> {
  const now = (options.now ?? new Date()).getTime();
  let batch: { sha256: string; size: number; modifiedAt: Date }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const names = batch.map((blob) => blob.sha256);
    const known = await sql<{ sha256: string }[]>`
      select original_sha256 as sha256 from packages where original_sha256 = any(${names})
      union select sha256 from packages where sha256 = any(${names})
      union select sha256 from package_previous_files where sha256 = any(${names})
      union select cached_sha256 from mirror_packages where cached_sha256 = any(${names})
      union select sha256 from mirror_metadata_files where sha256 = any(${names})`;
    const named = new Set(known.map((row) => row.sha256));
    for (const blob of batch) {
      if (named.has(blob.sha256)) continue;
      if (now - blob.modifiedAt.getTime() < options.strayGraceMs) continue;
      const stray: StrayBlob = { sha256: blob.sha256, size: blob.size, modifiedAt: blob.modifiedAt.toISOString(), repair: 'run with --repair to remove it' };
      if (options.repair) {
        await store.remove(blob.sha256);
        stray.repair = 'removed';
      }
      report.stray.push(stray);
    }
    batch = [];
  };
  for await (const blob of store.list()) {
    report.blobsChecked++;
    batch.push(blob);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
}

async function sha256Of(store: BlobStore, sha256: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(await store.read(sha256, { size }), hash);
  return hash.digest('hex');
}
