// `rpmgate backup DIR` and `rpmgate restore DIR`. A backup is made while the server runs: the database
// first, from one snapshot (dump.ts), then every blob that snapshot names (content addressed, never
// rewritten in place, so a blob already in DIR is the same file: a second backup copies only new ones),
// then the keys, then the manifest. From the snapshot until the last blob is copied the backup holds
// the blob-removal lock (db/blob-locks.ts): a cleanup or a deletion meanwhile leaves its files for a
// later sweep, so no row of the dump can name a file gone from the store. A restore fills a new, empty
// data dir (and its database) with exactly that state.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { RpmgateError } from '../../../common/errors.ts';
import { rpmgateVersion } from '../../cli/version.ts';
import type { Config } from '../../config.ts';
import { lockDataDir, type DataDirLock } from '../../data-dir-lock.ts';
import { blobRemovalLockKey } from '../../db/blob-locks.ts';
import { connectDatabase, openDatabase, type Database } from '../../db/connect.ts';
import { embeddedConnection } from '../../db/embedded-postgres.ts';
import { defaultMigrationsDir, migrate } from '../../db/migrate.ts';
import { blobListName, dumpDatabase, loadDatabase } from './dump.ts';
import { backupBlobPath, backupFormat, copyKeys, copyWhole, exists, manifestName, storeBlobPath, type BackupManifest } from './layout.ts';

export interface BackupReport {
  dir: string;
  createdAt: string;
  tables: number;
  rows: number;
  blobs: number;
  blobsCopied: number;
  bytesCopied: number;
  keys: number;
}

export async function backup(config: Config, dir: string): Promise<BackupReport> {
  dir = path.resolve(dir);
  await fs.mkdir(dir, { recursive: true });
  const database = await openRunningDatabase(config);
  try {
    const reserved = await database.sql.reserve();
    try {
      // Waits for a removal under way (it holds the lock shared) to commit; then none starts until we are done.
      await reserved`select pg_advisory_lock(${blobRemovalLockKey.toString()}::bigint)`;
      try {
        const createdAt = new Date().toISOString();
        const stamp = createdAt.replace(/[:.]/g, '-');
        const dumpDir = `db-${stamp}`;
        const dumped = await dumpDatabase(database.sql, path.join(dir, dumpDir));
        let blobsCopied = 0;
        let bytesCopied = 0;
        const missing: string[] = [];
        for await (const sha256 of readLines(path.join(dir, dumpDir, blobListName))) {
          const target = backupBlobPath(dir, sha256);
          if (await exists(target)) continue;
          const source = storeBlobPath(config.dataDir, sha256);
          if (!(await exists(source))) {
            missing.push(sha256);
            continue;
          }
          bytesCopied += await copyWhole(source, target);
          blobsCopied++;
        }
        if (missing.length > 0) {
          throw new RpmgateError('unavailable', `${missing.length} file(s) the database names are missing from the store (first: ${missing[0]}); rpmgate store fsck lists them; no backup written`);
        }
        const keysDir = `keys-${stamp}`;
        const keys = await copyKeys(path.join(config.dataDir, 'keys'), path.join(dir, keysDir));
        const manifest: BackupManifest & { keysDir: string } = { format: backupFormat, rpmgateVersion, createdAt, dumpDir, keysDir, ...dumped };
        await writeManifest(dir, manifest);
        await removeSuperseded(dir, manifest);
        return {
          dir,
          createdAt,
          tables: dumped.tables.length,
          rows: dumped.tables.reduce((sum, table) => sum + table.rows, 0),
          blobs: dumped.blobs,
          blobsCopied,
          bytesCopied,
          keys,
        };
      } finally {
        await reserved`select pg_advisory_unlock(${blobRemovalLockKey.toString()}::bigint)`;
      }
    } finally {
      reserved.release();
    }
  } finally {
    await database.close();
  }
}

export interface RestoreReport {
  dir: string;
  dataDir: string;
  createdAt: string;
  rows: number;
  blobs: number;
  keys: number;
}

export async function restore(config: Config, dir: string): Promise<RestoreReport> {
  dir = path.resolve(dir);
  const manifest = await readManifest(dir);
  const known = (await fs.readdir(defaultMigrationsDir)).filter((name) => /^\d{4}_.*\.sql$/.test(name)).length;
  if (manifest.migration > known) {
    throw new RpmgateError('usage', `the backup's database is at migration ${manifest.migration}, newer than this rpmgate knows (${known}): restore with the rpmgate that made it`);
  }
  const dataDir = config.dataDir;
  const entries = await fs.readdir(dataDir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  if (entries.length > 0) throw new RpmgateError('usage', `${dataDir} is not empty: restore into a new, empty data dir (RPMGATE_DATA_DIR)`);
  await fs.mkdir(dataDir, { recursive: true });
  const lock = await lockDataDir(dataDir);
  try {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    try {
      const [existing] = await database.sql<{ tables: number }[]>`
        select count(*)::int as tables from pg_tables where schemaname = current_schema()`;
      if (existing!.tables > 0) throw new RpmgateError('usage', 'the database to restore into is not empty: give restore a new database (DATABASE_URL) or none (the embedded one)');
      await migrate(database.sql, defaultMigrationsDir, manifest.migration);
      await loadDatabase(database.sql, path.join(dir, manifest.dumpDir), manifest);
    } finally {
      await database.close();
    }
    let blobs = 0;
    for await (const sha256 of readLines(path.join(dir, manifest.dumpDir, blobListName))) {
      await copyVerified(backupBlobPath(dir, sha256), storeBlobPath(dataDir, sha256), sha256);
      blobs++;
    }
    const keys = await copyKeys(path.join(dir, manifest.keysDir), path.join(dataDir, 'keys'));
    return { dir, dataDir, createdAt: manifest.createdAt, rows: manifest.tables.reduce((sum, table) => sum + table.rows, 0), blobs, keys };
  } finally {
    await lock.release();
  }
}

/**
 * The database of a server that may be running: DATABASE_URL; else the embedded PostgreSQL the running
 * server started (through its ready socket); else, the server being stopped, started here for the backup.
 */
async function openRunningDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let lock: DataDirLock;
  try {
    lock = await lockDataDir(config.dataDir);
  } catch {
    // Another rpmgate holds the data dir: the server runs; use its PostgreSQL.
    return connectDatabase(embeddedConnection(path.join(config.dataDir, 'pg')), 4);
  }
  try {
    const database = await openDatabase({ databaseUrl: null, dataDir: config.dataDir });
    return { ...database, close: async () => { await database.close(); await lock.release(); } };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function copyVerified(source: string, target: string, sha256: string): Promise<void> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(source)) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== sha256) throw new RpmgateError('unavailable', `the backup's blob ${sha256} is damaged (its content has another sha256)`);
  await copyWhole(source, target);
}

async function* readLines(file: string): AsyncGenerator<string> {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line) yield line;
}

async function writeManifest(dir: string, manifest: BackupManifest): Promise<void> {
  const aside = path.join(dir, `${manifestName}.part`);
  await fs.writeFile(aside, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.rename(aside, path.join(dir, manifestName));
}

async function readManifest(dir: string): Promise<BackupManifest & { keysDir: string }> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, manifestName), 'utf8');
  } catch {
    throw new RpmgateError('usage', `${dir} holds no finished backup (no ${manifestName})`);
  }
  const manifest = JSON.parse(text) as BackupManifest & { keysDir: string };
  if (manifest.format !== backupFormat) throw new RpmgateError('usage', `${dir}: backup format ${String(manifest.format)} is not one this rpmgate reads (${backupFormat})`);
  return manifest;
}

/** The dumps and key copies of earlier backups: the manifest now names newer ones (blobs are kept: they are shared). */
async function removeSuperseded(dir: string, manifest: BackupManifest & { keysDir: string }): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if ((name.startsWith('db-') && name !== manifest.dumpDir) || (name.startsWith('keys-') && name !== manifest.keysDir)) {
      await fs.rm(path.join(dir, name), { recursive: true, force: true });
    }
  }
}
