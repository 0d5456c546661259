// The repodata hashing threads: a digest from a worker equals node:crypto's, the threads stop once no
// build has used them for the idle time (a resting server keeps none), a job in progress keeps them,
// and the next job starts them again.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenHasher } from '../../../server/repodata/open-hasher.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
let hasher: OpenHasher | null = null;

afterEach(async () => {
  await hasher?.close();
  hasher = null;
});

async function hashed(on: OpenHasher, text: string): Promise<{ digest: string; length: number }> {
  const job = on.job();
  job.addBytes(Buffer.from(text));
  return job.finish();
}

describe('OpenHasher', () => {
  it('stops its threads once idle, keeps them while a job is under way, and starts them again', async () => {
    hasher = new OpenHasher(2, 100);
    expect(await hashed(hasher, 'primary')).toEqual({ digest: sha256('primary'), length: 7 });
    expect(hasher.threads).toBe(2);
    await expect.poll(() => hasher!.threads, { timeout: 10_000 }).toBe(0);

    // Started again by the next job; a job begun and not finished keeps them past the idle time.
    const pending = hasher.job();
    pending.addBytes(Buffer.from('file'));
    expect(hasher.threads).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hasher.threads).toBe(2);
    expect(await hashed(hasher, 'lists')).toEqual({ digest: sha256('lists'), length: 5 });
    pending.addBytes(Buffer.from('lists'));
    expect(await pending.finish()).toEqual({ digest: sha256('filelists'), length: 9 });
    await expect.poll(() => hasher!.threads, { timeout: 10_000 }).toBe(0);

    // An aborted job counts as done too.
    hasher.job().abort();
    expect(hasher.threads).toBe(2);
    await expect.poll(() => hasher!.threads, { timeout: 10_000 }).toBe(0);
  });
});
