// Chooses the package store's backend from the configuration: the file system under the data dir,
// or S3 when RPMGATE_STORE_URL names a bucket.
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { FsBlobStore } from './fs.ts';
import type { BlobStore } from './store.ts';

/** `tempDir`: the local temporary directory (default DATA_DIR/tmp, emptied at open: one server's own). */
export async function openBlobStore(
  config: Pick<Config, 'dataDir' | 'store'>,
  log: Logger,
  tempDir = path.join(config.dataDir, 'tmp'),
  options: { clearTemp?: boolean } = {},
): Promise<BlobStore> {
  let store: BlobStore;
  if (config.store.kind === 's3') {
    const { S3BlobStore } = await import('./s3.ts');
    store = new S3BlobStore(config.store, tempDir, log);
  } else {
    store = new FsBlobStore(config.store.root ?? config.dataDir, tempDir);
  }
  await store.open(options);
  return store;
}
