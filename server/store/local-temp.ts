// Local temporary files of the package store, under DATA_DIR/tmp: uploads are streamed, hashed and
// verified here, and signed copies written here, whatever backend keeps the blobs.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RpmgateError } from '../../common/errors.ts';
import type { WrittenFile } from './store.ts';

export class LocalTemp {
  constructor(readonly dir: string) {}

  /** Creates the directory; `clear` removes what a crash left behind first. */
  async prepare(clear: boolean): Promise<void> {
    if (clear) await fs.rm(this.dir, { recursive: true, force: true });
    await fs.mkdir(this.dir, { recursive: true });
  }

  path(suffix = ''): string {
    return path.join(this.dir, `${Date.now()}-${randomBytes(8).toString('hex')}${suffix}`);
  }

  async write(source: Readable, limit: number): Promise<WrittenFile> {
    const target = this.path('.rpm');
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

  async writeBytes(bytes: Uint8Array, suffix = '.rpm'): Promise<string> {
    const target = this.path(suffix);
    const handle = await fs.open(target, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return target;
  }
}
