// A fresh, migrated-on-start database per test file, in the cluster global-setup provides.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { poolOptions, type Database } from '../../server/db/connect.ts';

export async function createTestDatabase(): Promise<Database> {
  const target = inject('postgres');
  const name = `rg_test_${randomBytes(6).toString('hex')}`;
  const admin = typeof target === 'string' ? postgres(target, { max: 1, onnotice: () => {} }) : postgres({ ...target, max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const sql = typeof target === 'string' ? postgres(withDatabase(target, name), poolOptions) : postgres({ ...target, database: name, ...poolOptions });
  return { sql, close: () => sql.end({ timeout: 5 }) };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.href;
}
