// `rpmgate store fsck [--repair] [--verify]`: checks, on the server's machine, that the database and
// the package store agree (server/store/fsck.ts). Like `migrate`, it opens the configured database and
// data dir itself; with the embedded database the server must be stopped first.
import { createOutput } from '../../../common/cli-output.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { readConfig } from '../../config.ts';
import { lockDataDir } from '../../data-dir-lock.ts';
import { openDatabase } from '../../db/connect.ts';
import { createLogger } from '../../log.ts';
import { openBlobStore } from '../../store/open.ts';
import path from 'node:path';
import fs from 'node:fs/promises';
import { checkStore, type FsckReport } from '../../store/fsck.ts';

export interface FsckCommandOptions {
  repair?: boolean;
  verify?: boolean;
  json?: boolean;
}

/** An upload adopts its blob just before its row commits: younger blobs are never called stray. */
const strayGraceMs = 3600 * 1000;

export async function storeFsckCommand(options: FsckCommandOptions): Promise<void> {
  const config = readConfig();
  const lock = config.databaseUrl ? null : await lockDataDir(config.dataDir);
  try {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      // Its own temporary directory: a running server's DATA_DIR/tmp holds uploads in flight.
      const temp = path.join(config.dataDir, `fsck-tmp-${process.pid}`);
      const store = await openBlobStore(config, createLogger(false), temp);
      const report = await checkStore(database.sql, store, {
        repair: Boolean(options.repair),
        verify: Boolean(options.verify),
        strayGraceMs,
      }).finally(async () => {
        await store.close();
        await fs.rm(temp, { recursive: true, force: true });
      });
      createOutput(Boolean(options.json)).result(report, () => describe(report));
      if (!report.clean) {
        throw new RpmgateError('unprocessable', `the store and the database disagree: ${report.missing.length} row(s) without their file, ${report.stray.length} file(s) without a row`);
      }
    } finally {
      await database.close();
    }
  } finally {
    await lock?.release();
  }
}

function describe(report: FsckReport): string {
  const lines = [`checked ${report.rowsChecked} file row(s) and ${report.blobsChecked} blob(s)`];
  for (const file of report.missing) {
    const state = file.foundSize === null ? 'missing' : file.foundSize !== file.expectedSize ? `${file.foundSize} bytes, not ${file.expectedSize}` : 'content does not match its sha256';
    lines.push(`row without its file: ${file.nevra} ${file.role} ${file.sha256}: ${state}; ${file.repair}`);
  }
  for (const blob of report.stray) lines.push(`file without a row: ${blob.sha256} (${blob.size} bytes, ${blob.modifiedAt}); ${blob.repair}`);
  if (report.clean) lines.push(report.missing.length + report.stray.length === 0 ? 'store and database agree' : 'repaired: store and database agree');
  return lines.join('\n');
}

export async function storeMigrateCommand(options: { to: string; json?: boolean }): Promise<void> {
  const { migrateStore } = await import('../../store/migrate.ts');
  const out = createOutput(Boolean(options.json));
  const report = await migrateStore(options.to, { progress: (line) => out.progress(line) });
  out.result(report, () => `${report.copied} blob(s) copied to ${report.target}, ${report.present} already there, ${report.bytes} bytes verified by sha256`);
}
