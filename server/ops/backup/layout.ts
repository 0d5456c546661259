// What a backup directory holds, and where the data dir keeps what a backup copies. The package store
// is reached only through the small functions at the end (blobs named by sha256), so that another
// store backend changes them alone.
//
//   DIR/backup.json            the manifest, written last: a backup without it is not finished
//   DIR/db-<stamp>/<table>.jsonl each table, a JSON object per row, from one snapshot
//   DIR/blobs/<2 hex>/<sha256>  the package files the dump names, copied only when not there yet
//   DIR/keys/                   DATA_DIR/keys (the signing keys)
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export const manifestName = 'backup.json';
export const backupFormat = 1;

export interface BackupManifest {
  format: typeof backupFormat;
  rpmgateVersion: string;
  createdAt: string;
  /** The newest migration applied to the database dumped: a restore builds exactly that schema. */
  migration: number;
  /** The folder of this backup's table files. */
  dumpDir: string;
  tables: { name: string; columns: string[]; rows: number }[];
  sequences: { name: string; lastValue: string | null; isCalled: boolean }[];
  /** Every blob the dump names (their count; the names are in the dump). */
  blobs: number;
}

const sha256Pattern = /^[0-9a-f]{64}$/;

export function backupBlobPath(dir: string, sha256: string): string {
  if (!sha256Pattern.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
  return path.join(dir, 'blobs', sha256.slice(0, 2), sha256);
}

// The package store as a backup sees it (today: DATA_DIR/blobs/<2 hex>/<sha256>, never rewritten in place).

export function storeBlobPath(dataDir: string, sha256: string): string {
  if (!sha256Pattern.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
  return path.join(dataDir, 'blobs', sha256.slice(0, 2), sha256);
}

/** Copies a file to `target` through a temporary name, fsynced: a crash never leaves half a blob under its name. */
export async function copyWhole(source: string, target: string): Promise<number> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const aside = `${target}.part`;
  await pipeline(createReadStream(source), createWriteStream(aside));
  const handle = await fs.open(aside, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(aside, target);
  return (await fs.stat(target)).size;
}

export async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** The signing keys directory, copied whole with its modes (the secret keys stay 0600). */
export async function copyKeys(fromDataDirKeys: string, toDir: string): Promise<number> {
  if (!(await exists(fromDataDirKeys))) return 0;
  await fs.rm(toDir, { recursive: true, force: true });
  await fs.cp(fromDataDirKeys, toDir, { recursive: true, preserveTimestamps: true });
  return (await fs.readdir(toDir)).length;
}
