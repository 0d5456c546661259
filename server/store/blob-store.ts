// The content-addressed package store: each file lives once, at blobs/<first two hex>/<sha256>.
// Files are written to tmp/, fsynced, then renamed into place, so a crash mid-write leaves nothing
// visible under blobs/, and a database row is only committed after its blob is durable.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RpmgateError } from '../../common/errors.ts';

export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
}

const sha256Pattern = /^[0-9a-f]{64}$/;

export class BlobStore {
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(root: string) {
    this.blobsDir = path.join(root, 'blobs');
    this.tmpDir = path.join(root, 'tmp');
  }

  /** Creates the directories and removes temporary files a crash left behind. */
  async open(): Promise<void> {
    await fs.mkdir(this.blobsDir, { recursive: true });
    await fs.rm(this.tmpDir, { recursive: true, force: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
  }

  /** A fresh path under tmp/ for a file that will be adopted or removed. */
  tempPath(suffix = ''): string {
    return path.join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}${suffix}`);
  }

  /**
   * Streams `source` into a temporary file, hashing as it goes, refusing more than `limit` bytes.
   * The file is fsynced before this resolves; on any failure it is removed.
   */
  async writeTemp(source: Readable, limit: number): Promise<WrittenFile> {
    const target = this.tempPath('.rpm');
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > limit) {
          done(new RpmgateError('payload_too_large', `the upload is larger than the limit of ${limit} bytes`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      const handle = await fs.open(target, 'wx', 0o644);
      try {
        await pipeline(source, meter, createWriteStream(target, { fd: handle.fd, autoClose: false }));
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await fs.rm(target, { force: true });
      throw error;
    }
    return { path: target, sha256: hash.digest('hex'), size };
  }

  /** Writes bytes to a temporary file (fsynced) and returns its path. */
  async writeTempBytes(bytes: Uint8Array, suffix = '.rpm'): Promise<string> {
    const target = this.tempPath(suffix);
    const handle = await fs.open(target, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return target;
  }

  /** Moves a durable temporary file into the store under its digest; a blob already there wins. */
  async adopt(tempFile: string, sha256: string): Promise<void> {
    const target = this.blobPath(sha256);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // rename() replaces atomically; identical content makes a replacement harmless.
    await fs.rename(tempFile, target);
    await syncDirectory(path.dirname(target));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await fs.access(this.blobPath(sha256));
      return true;
    } catch {
      return false;
    }
  }

  blobPath(sha256: string): string {
    if (!sha256Pattern.test(sha256)) throw new RpmgateError('internal', `not a sha256 digest: ${sha256}`);
    return path.join(this.blobsDir, sha256.slice(0, 2), sha256);
  }

  openRead(sha256: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.blobPath(sha256), range);
  }

  async remove(sha256: string): Promise<void> {
    await fs.rm(this.blobPath(sha256), { force: true });
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
