// One real PostgreSQL for the whole test run (the embedded one, tuned for throwaway data), or the
// external server of DATABASE_URL. Each test file creates its own database in it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A postgres.js connection (URL or options) to a server where tests may create databases. */
    postgres: string | { host: string; port: number; user: string; database: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('postgres', process.env.DATABASE_URL);
    return async () => {};
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-test-pg-'));
  await import('node:fs/promises').then((fs) => fs.chmod(dir, 0o755));
  const cluster = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  project.provide('postgres', cluster.connection);
  return async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
