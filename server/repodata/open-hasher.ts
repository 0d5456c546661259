// sha256 of a document's uncompressed text (repomd's open-checksum), computed by worker threads
// (hash-worker.mjs) that read the chunks' texts from their files. At 100,000 packages the three texts
// are ≈ 550 MB to hash: two workers take them (primary.xml; filelists.xml; other.xml to the first
// again) while the main thread stitches and hashes the compressed bytes, a seventh as many. Measured
// at 100,000 packages: stitching took 0.45–0.6 s with two workers, 0.83–1.0 s with one worker and the
// main thread sharing the texts, 0.8–1.05 s with none. Each worker is a V8 isolate: two, with small
// heap limits, add ≈ 30 MB to a build's peak RSS (three with default limits added 70 MB), so they are
// stopped once no build has used them for a minute (a resting server keeps no hashing thread), and
// started again by the next build (tens of milliseconds, against seconds for a build that needs
// them). Where a worker cannot start, the texts are hashed on the calling thread.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { FileRange } from './chunk-store.ts';

export interface OpenHashJob {
  addBytes(bytes: Buffer): void;
  addFileRange(range: FileRange): void;
  /** The digest (hex) and the number of bytes hashed. */
  finish(): Promise<{ digest: string; length: number }>;
  abort(): void;
}

type WorkerMessage =
  | { id: number; op: 'start' | 'end' | 'abort' }
  | { id: number; op: 'bytes'; bytes: Buffer }
  | ({ id: number; op: 'file' } & FileRange);

type WorkerReply = { id: number; digest: string; length: number } | { id: number; error: string };

interface PooledWorker {
  worker: Worker;
  pending: Map<number, { resolve: (value: { digest: string; length: number }) => void; reject: (error: Error) => void }>;
}

const workerUrl = new URL('./hash-worker.mjs', import.meta.url);

export class OpenHasher {
  private pool: PooledWorker[] = [];
  private nextWorker = 0;
  private nextJob = 1;
  private unavailable = false;
  /** Jobs started and not yet finished or aborted. */
  private active = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly size = 2,
    /** How long the workers stay without a job before they are stopped. */
    private readonly idleMs = 60_000,
  ) {}

  job(): OpenHashJob {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const pooled = this.worker();
    if (!pooled) return inThreadJob();
    this.active++;
    let settled = false;
    return this.workerJob(pooled, () => {
      if (settled) return;
      settled = true;
      if (--this.active === 0) this.stopWhenIdle();
    });
  }

  /** Hashing threads running now. */
  get threads(): number {
    return this.pool.length;
  }

  /** Stops the workers (they never keep the process alive, but tests may want them gone). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const pool = this.pool;
    this.pool = [];
    await Promise.all(pool.map(({ worker }) => worker.terminate()));
  }

  private stopWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.active === 0) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private worker(): PooledWorker | null {
    if (this.unavailable || this.size === 0) return null;
    while (this.pool.length < this.size) {
      try {
        this.pool.push(this.spawn());
      } catch {
        this.unavailable = true;
        return null;
      }
    }
    const pooled = this.pool[this.nextWorker++ % this.pool.length]!;
    return pooled;
  }

  private spawn(): PooledWorker {
    // The worker allocates almost nothing (one reused read buffer): small heaps keep its footprint small.
    const worker = new Worker(workerUrl, { resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } });
    worker.unref();
    const pooled: PooledWorker = { worker, pending: new Map() };
    let online = false;
    worker.once('online', () => (online = true));
    worker.on('message', (reply: WorkerReply) => {
      const waiter = pooled.pending.get(reply.id);
      if (!waiter) return;
      pooled.pending.delete(reply.id);
      if (pooled.pending.size === 0) worker.unref();
      if ('error' in reply) waiter.reject(new Error(`hashing repodata failed: ${reply.error}`));
      else waiter.resolve({ digest: reply.digest, length: reply.length });
    });
    const fail = (error: Error) => {
      // A worker that never started will not start next time either: hash in-thread from now on.
      if (!online) this.unavailable = true;
      this.pool = this.pool.filter((candidate) => candidate !== pooled);
      for (const waiter of pooled.pending.values()) waiter.reject(error);
      pooled.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`repodata hash worker exited (code ${code})`)));
    return pooled;
  }

  /** A job on `pooled`; `settled` is called once it is finished (either way) or aborted. */
  private workerJob(pooled: PooledWorker, settled: () => void): OpenHashJob {
    const id = this.nextJob++;
    const post = (message: WorkerMessage) => pooled.worker.postMessage(message);
    post({ id, op: 'start' });
    return {
      addBytes: (bytes) => post({ id, op: 'bytes', bytes }),
      addFileRange: (range) => post({ id, op: 'file', ...range }),
      finish: () => {
        const answer = new Promise<{ digest: string; length: number }>((resolve, reject) => {
          // A worker with a job outstanding keeps the process alive until it answers.
          pooled.worker.ref();
          pooled.pending.set(id, { resolve, reject });
          post({ id, op: 'end' });
        });
        void answer.then(settled, settled);
        return answer;
      },
      abort: () => {
        post({ id, op: 'abort' });
        settled();
      },
    };
  }
}

/** The same job on the calling thread. */
function inThreadJob(): OpenHashJob {
  const hash = createHash('sha256');
  let length = 0;
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  return {
    addBytes: (bytes) => {
      hash.update(bytes);
      length += bytes.length;
    },
    addFileRange: ({ path, offset, length: rangeLength }) => {
      const fd = openSync(path, 'r');
      try {
        for (let done = 0; done < rangeLength; ) {
          const read = readSync(fd, buffer, 0, Math.min(buffer.length, rangeLength - done), offset + done);
          if (read === 0) throw new Error(`${path} ends before byte ${offset + rangeLength}`);
          hash.update(buffer.subarray(0, read));
          done += read;
        }
      } finally {
        closeSync(fd);
      }
      length += rangeLength;
    },
    finish: async () => ({ digest: hash.digest('hex'), length }),
    abort: () => {},
  };
}
