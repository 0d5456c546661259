// Opens the database: the external PostgreSQL of DATABASE_URL, or the embedded one under the data dir.
import path from 'node:path';
import postgres, { type Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import type { Logger } from '../log.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';

/** Where another process of this server connects: DATABASE_URL, or the embedded server's socket. */
export type DatabaseTarget = string | { host: string; port: number; user: string; database: string };

export interface Database {
  sql: Sql;
  /** For the HTTP workers (server/ops); absent for a database a test opened itself. */
  target?: DatabaseTarget;
  /** Ends the pool, then stops the embedded server if this process started it. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** PostgreSQL's own lines and the embedded server's restarts. */
  log?: Logger;
}

export const poolOptions = {
  max: 20,
  idle_timeout: 60,
  // While PostgreSQL is away every request that needs it must answer 503 within 2 s, before clients
  // give up waiting: a connection attempt may take 1.5 s (a reachable PostgreSQL answers in ms), and
  // a query waits at most 0.25 s behind a failed one (postgres.js's own backoff grows to 20 s).
  connect_timeout: 1.5,
  backoff: (retries: number) => Math.min(0.02 * 2 ** retries, 0.25),
  onnotice: () => {},
  // undefined in a query means SQL null, not an error.
  transform: { undefined: null },
  types: {
    // bigint columns (sizes, ids, counts) come back as numbers: every value rpmgate stores fits in 2^53.
    int8AsNumber: {
      to: 20,
      from: [20],
      serialize: (value: number) => String(value),
      parse: (value: string) => Number(value),
    },
  },
};

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const sql = postgres(options.databaseUrl, poolOptions);
    await assertReachable(sql, 'DATABASE_URL');
    return { sql, target: options.databaseUrl, close: () => sql.end({ timeout: 5 }) };
  }
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres({
    dataDir: path.join(options.dataDir, 'pg'),
    log: options.log,
  });
  const sql = postgres({ ...embedded.connection, ...poolOptions });
  await assertReachable(sql, 'the embedded PostgreSQL');
  return {
    sql,
    target: embedded.connection,
    close: async () => {
      await sql.end({ timeout: 5 });
      await embedded.stop();
    },
  };
}

/** A pool on a database another process of this server opened (an HTTP worker's). */
export async function connectDatabase(target: DatabaseTarget, max = poolOptions.max): Promise<Database> {
  const options = { ...poolOptions, max };
  const sql = typeof target === 'string' ? postgres(target, options) : postgres({ ...target, ...options });
  await assertReachable(sql, 'the database');
  return { sql, target, close: () => sql.end({ timeout: 5 }) };
}

async function assertReachable(sql: Sql, what: string): Promise<void> {
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new RpmgateError('unavailable', `cannot connect to ${what}: ${reason}`);
  }
}
