// Session advisory locks for jobs that must run on one server at a time (re-signing, cleanup, mirror
// sync): held on a reserved connection for the job's length, released by the job, and by PostgreSQL
// when the holder's connection ends (a server killed mid-job), so that another server takes over.
import type { Sql } from 'postgres';

export interface HeldLock {
  release(): Promise<void>;
}

/** The lock named `name`, or null when another session holds it. */
export async function tryAdvisoryLock(sql: Sql, name: string): Promise<HeldLock | null> {
  const reserved = await sql.reserve();
  try {
    const [row] = await reserved<{ locked: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${`job:${name}`}, 0)) as locked`;
    if (!row?.locked) {
      reserved.release();
      return null;
    }
  } catch (error) {
    reserved.release();
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await reserved`select pg_advisory_unlock(hashtextextended(${`job:${name}`}, 0))`;
      } finally {
        reserved.release();
      }
    },
  };
}
