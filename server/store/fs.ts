// The file system backend of the package store (the default): each blob lives once, at
// DATA_DIR/blobs/<first two hex>/<sha256>. Temporary files are fsynced, then renamed into place, so a
// crash mid-write leaves nothing visible under blobs/, and a row is only committed after its blob is
// durable.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LocalTemp } from './local-temp.ts';
import { assertSha256, blobDamaged, isSha256, type BlobStat, type BlobStore, type ListedBlob, type LocalBlob, type ReadRequest, type WrittenFile } from './store.ts';

export class FsBlobStore implements BlobStore {
  readonly blobsDir: string;
  readonly location: string;
  private readonly temp: LocalTemp;

  constructor(root: string, tempDir = path.join(root, 'tmp')) {
    this.blobsDir = path.join(root, 'blobs');
    this.location = this.blobsDir;
    this.temp = new LocalTemp(tempDir);
  }

  async open(options: { clearTemp?: boolean } = {}): Promise<void> {
    await fs.mkdir(this.blobsDir, { recursive: true });
    await this.temp.prepare(options.clearTemp ?? true);
  }

  async close(): Promise<void> {}

  tempPath(suffix = ''): string {
    return this.temp.path(suffix);
  }

  writeTemp(source: Readable, limit: number): Promise<WrittenFile> {
    return this.temp.write(source, limit);
  }

  writeTempBytes(bytes: Uint8Array, suffix = '.rpm'): Promise<string> {
    return this.temp.writeBytes(bytes, suffix);
  }

  /** Moves a durable temporary file into the store under its digest; a blob already there is replaced by identical bytes. */
  async adopt(tempFile: string, sha256: string): Promise<void> {
    const target = this.blobPath(sha256);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(tempFile, target);
    await syncDirectory(path.dirname(target));
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async stat(sha256: string): Promise<BlobStat | null> {
    try {
      const found = await fs.stat(this.blobPath(sha256));
      return { size: found.size, modifiedAt: found.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  blobPath(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.blobsDir, sha256.slice(0, 2), sha256);
  }

  async read(sha256: string, request: ReadRequest): Promise<Readable> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.blobPath(sha256), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw blobDamaged(sha256, request.size, null, this.location);
      throw error;
    }
    // Checked on the open file: what is streamed is what was measured.
    const { size } = await handle.stat();
    if (size !== request.size) {
      await handle.close();
      throw blobDamaged(sha256, request.size, size, this.location);
    }
    return handle.createReadStream({ start: request.start, end: request.end, highWaterMark: 256 * 1024 });
  }

  localFile(sha256: string): string {
    return this.blobPath(sha256);
  }

  async localCopy(sha256: string): Promise<LocalBlob> {
    return { path: this.blobPath(sha256), release: async () => {} };
  }

  async remove(sha256: string): Promise<void> {
    await fs.rm(this.blobPath(sha256), { force: true });
  }

  async *list(): AsyncIterable<ListedBlob> {
    for (const prefix of await fs.readdir(this.blobsDir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of await fs.readdir(path.join(this.blobsDir, prefix))) {
        if (!isSha256(name) || !name.startsWith(prefix)) continue;
        const found = await this.stat(name);
        if (found) yield { sha256: name, ...found };
      }
    }
  }

  async redirectUrl(): Promise<string | null> {
    return null;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
