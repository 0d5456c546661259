// Migrations: applied once each, in order, by servers starting together; edited or missing files refused.
import { cp, mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/connect.ts';
import { defaultMigrationsDir, migrate } from '../../server/db/migrate.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Database;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('migrate', () => {
  it('applies every migration exactly once when five servers start together', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => migrate(database.sql)));
    const files = (await readdir(defaultMigrationsDir)).filter((name) => name.endsWith('.sql'));
    expect(results.flatMap((result) => result.applied).sort()).toEqual(files.sort());
    const rows = await database.sql<{ version: number }[]>`select version from schema_migrations order by version`;
    expect(rows.map((row) => row.version)).toEqual(files.map((_, i) => i + 1));
    expect((await migrate(database.sql)).applied).toEqual([]);
  });

  it('refuses a landed migration whose text changed, and a gap in the numbering', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-migrations-'));
    try {
      await cp(defaultMigrationsDir, dir, { recursive: true });
      await appendFile(path.join(dir, '0001_packages_and_tokens.sql'), '\n-- edited\n');
      await expect(migrate(database.sql, dir)).rejects.toThrow(/was edited after it was applied/);
      await cp(defaultMigrationsDir, dir, { recursive: true });
      await writeFile(path.join(dir, '0099_later.sql'), 'select 1;');
      await expect(migrate(database.sql, dir)).rejects.toThrow(/without gaps/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
