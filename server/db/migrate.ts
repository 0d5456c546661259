// Applies the numbered SQL files of sql/ (NNNN_what.sql) exactly once each, in order, each in its own
// transaction, under a session advisory lock so that servers starting together do not race.
// A gap in the numbering, or a landed file whose text has changed, stops the server: migrations are
// forward-only and never edited.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';

export const defaultMigrationsDir = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../sql');

/** Any constant works as long as every rpmgate agrees on it: "rpmgate" in ASCII. */
const migrationLockKey = 0x72706d67617465n;

interface Migration {
  version: number;
  name: string;
  text: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  current: number;
}

/** `upTo`: apply none past that version (a restore builds the schema its backup was made with). */
export async function migrate(sql: Sql, dir: string = defaultMigrationsDir, upTo = Number.POSITIVE_INFINITY): Promise<MigrationResult> {
  const migrations = (await readMigrations(dir)).filter((migration) => migration.version <= upTo);
  const reserved = await sql.reserve();
  try {
    await reserved`select pg_advisory_lock(${migrationLockKey.toString()}::bigint)`;
    try {
      await reserved`
        create table if not exists schema_migrations (
          version integer primary key,
          name text not null,
          checksum text not null,
          applied_at timestamptz not null default now()
        )`;
      const landed = await reserved<{ version: number; name: string; checksum: string }[]>`
        select version, name, checksum from schema_migrations order by version`;
      const landedByVersion = new Map(landed.map((row) => [row.version, row]));
      for (const row of landed) {
        const file = migrations.find((migration) => migration.version === row.version);
        if (!file) throw new RpmgateError('unavailable', `the database has migration ${row.name}, which this rpmgate does not know: it is older than the database`);
        if (file.checksum !== row.checksum) throw new RpmgateError('unavailable', `migration ${file.name} was edited after it was applied: write a new migration instead`);
      }
      const applied: string[] = [];
      for (const migration of migrations) {
        if (landedByVersion.has(migration.version)) continue;
        // A reserved connection has no begin(): the transaction is spelled out.
        await reserved`begin`;
        try {
          await reserved.unsafe(migration.text);
          await reserved`insert into schema_migrations (version, name, checksum)
                         values (${migration.version}, ${migration.name}, ${migration.checksum})`;
          await reserved`commit`;
        } catch (error) {
          await reserved`rollback`;
          throw new RpmgateError('unavailable', `migration ${migration.name} failed: ${(error as Error).message}`);
        }
        applied.push(migration.name);
      }
      return { applied, current: migrations.at(-1)?.version ?? 0 };
    } finally {
      await reserved`select pg_advisory_unlock(${migrationLockKey.toString()}::bigint)`;
    }
  } finally {
    reserved.release();
  }
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const [index, name] of names.entries()) {
    const match = /^(\d{4})_[a-z0-9_]+\.sql$/.exec(name);
    if (!match) throw new RpmgateError('unavailable', `migration file name must look like 0001_what.sql: ${name}`);
    const version = Number(match[1]);
    if (version !== index + 1) throw new RpmgateError('unavailable', `migrations must be numbered without gaps: expected ${String(index + 1).padStart(4, '0')}, found ${name}`);
    const text = await readFile(path.join(dir, name), 'utf8');
    migrations.push({ version, name, text, checksum: createHash('sha256').update(text).digest('hex') });
  }
  return migrations;
}
