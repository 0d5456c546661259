// Request bodies generated before a benchmark's clock starts, kept in a file rather than in memory:
// 100,000 fleet reports of ~130 KB each are 13 GB, which the page cache holds and the heap cannot.
import { open, type FileHandle } from 'node:fs/promises';

export class BodyFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly offsets: Float64Array,
  ) {}

  /** Writes `count` bodies made by `make(index)` to `file`, in index order. */
  static async write(file: string, count: number, make: (index: number) => Buffer, progress?: (written: number) => void): Promise<BodyFile> {
    const handle = await open(file, 'w+');
    const offsets = new Float64Array(count + 1);
    let position = 0;
    const batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await handle.write(Buffer.concat(batch, batchBytes));
      batch.length = 0;
      batchBytes = 0;
    };
    for (let index = 0; index < count; index++) {
      const body = make(index);
      offsets[index] = position;
      position += body.length;
      batch.push(body);
      batchBytes += body.length;
      if (batchBytes > 16 * 1024 * 1024) await flush();
      if ((index + 1) % 10_000 === 0) progress?.(index + 1);
    }
    await flush();
    offsets[count] = position;
    return new BodyFile(handle, offsets);
  }

  get count(): number {
    return this.offsets.length - 1;
  }

  get bytes(): number {
    return this.offsets[this.count]!;
  }

  async read(index: number): Promise<Buffer> {
    const start = this.offsets[index]!;
    const length = this.offsets[index + 1]! - start;
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.handle.read(buffer, 0, length, start);
    if (bytesRead !== length) throw new Error(`body ${index}: read ${bytesRead} of ${length} bytes`);
    return buffer;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
