// The benchmark's database: a fresh database in the PostgreSQL of DATABASE_URL, or an embedded cluster
// in the benchmark's temporary directory (tuned for throwaway data like the tests' one). Either way the
// server under test connects through a DATABASE_URL of its own.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import postgres, { type Sql } from 'postgres';
import { poolOptions } from '../../server/db/connect.ts';
import { startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts';

export interface BenchDatabase {
  sql: Sql;
  /** What the server process gets: DATABASE_URL plus, for a Unix socket, PGHOST/PGPORT/PGUSER. */
  serverEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function openBenchDatabase(workDir: string): Promise<BenchDatabase> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `rpmgate_bench_${randomBytes(4).toString('hex')}`;
    const admin = postgres(external, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(external);
    url.pathname = `/${name}`;
    const sql = postgres(url.href, poolOptions);
    return {
      sql,
      serverEnv: { DATABASE_URL: url.href },
      close: async () => {
        await sql.end({ timeout: 5 });
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end({ timeout: 5 });
      },
    };
  }
  // BENCH_DURABLE=1 keeps PostgreSQL's durability on (fsync, synchronous commit), as a server runs.
  const durability: Record<string, string> = process.env.BENCH_DURABLE === '1' ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
  const cluster = await startEmbeddedPostgres({
    dataDir: path.join(workDir, 'pg'),
    settings: { ...durability, max_connections: '100' },
  });
  const { host, port, user, database } = cluster.connection;
  const sql = postgres({ ...cluster.connection, ...poolOptions });
  return {
    sql,
    // postgres.js takes the socket directory from PGHOST when the URL names no host.
    serverEnv: { DATABASE_URL: `postgres:///${database}`, PGHOST: host, PGPORT: String(port), PGUSER: user },
    close: async () => {
      await sql.end({ timeout: 5 });
      await cluster.stop();
    },
  };
}
