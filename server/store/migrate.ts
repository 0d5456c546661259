// Moves the package store to another backend while servers keep serving from the old one: every blob
// of the configured store is copied to the target through a local temporary file, its sha256 checked
// on the way, and adopted there (verified again by size and ETag on S3). Blobs already in the target
// with their size are skipped, so the command is run again after the servers switch to the new store
// (RPMGATE_STORE_URL) to copy what was uploaded in between; nothing is removed from the source.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RpmgateError } from '../../common/errors.ts';
import { readConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { FsBlobStore } from './fs.ts';
import { openBlobStore } from './open.ts';
import { parseStoreUrl, type StoreConfig } from './store-config.ts';
import type { BlobStore } from './store.ts';

export interface MigrateReport {
  source: string;
  target: string;
  copied: number;
  present: number;
  bytes: number;
}

export async function migrateStore(to: string, options: { env?: Record<string, string | undefined>; progress?: (line: string) => void; log?: Logger } = {}): Promise<MigrateReport> {
  const env = options.env ?? process.env;
  const config = readConfig(env);
  const log = options.log ?? createLogger(false);
  const targetConfig: StoreConfig = to.startsWith('s3://') ? parseStoreUrl(to, env) : { kind: 'fs', root: path.resolve(to.replace(/^file:\/\//, '')) };
  // Its own temporary directory: the running server's DATA_DIR/tmp holds uploads in flight.
  const temp = path.join(config.dataDir, `migrate-tmp-${process.pid}`);
  const source = await openBlobStore(config, log, temp);
  // A file system target is a directory given as --to (its blobs/ below it), with its own tmp/.
  const target =
    targetConfig.kind === 'fs'
      ? new FsBlobStore(targetConfig.root!, temp)
      : await openBlobStore({ dataDir: config.dataDir, store: targetConfig }, log, temp);
  if (targetConfig.kind === 'fs') await target.open();
  if (target.location === source.location) throw new RpmgateError('usage', `the store is already ${source.location}`);
  const report: MigrateReport = { source: source.location, target: target.location, copied: 0, present: 0, bytes: 0 };
  try {
    for await (const blob of source.list()) {
      const there = await target.stat(blob.sha256);
      if (there?.size === blob.size) {
        report.present++;
        continue;
      }
      await copyBlob(source, target, blob.sha256, blob.size);
      report.copied++;
      report.bytes += blob.size;
      if (report.copied % 100 === 0) options.progress?.(`${report.copied} blobs copied (${report.bytes} bytes)`);
    }
  } finally {
    await source.close();
    await target.close();
    await fs.rm(temp, { recursive: true, force: true });
  }
  return report;
}

async function copyBlob(source: BlobStore, target: BlobStore, sha256: string, size: number): Promise<void> {
  const temp = target.tempPath('.rpm');
  try {
    const hash = createHash('sha256');
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const handle = await fs.open(temp, 'wx', 0o644);
    try {
      await pipeline(await source.read(sha256, { size }), hasher, createWriteStream(temp, { fd: handle.fd, autoClose: false }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    const digest = hash.digest('hex');
    if (digest !== sha256) throw new RpmgateError('internal', `the blob ${sha256} in ${source.location} has the content of ${digest}: not copied (the source store is damaged)`);
    await target.adopt(temp, sha256);
  } finally {
    await fs.rm(temp, { force: true });
  }
}
