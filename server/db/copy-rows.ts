// COPY ... FROM STDIN in text format: rows written in ≈ 1 MB chunks with back-pressure. Many times
// faster than multi-row INSERTs for bulk rows (no parameters to bind, one statement), which is what a
// mirror sync writes for every new upstream package's dependencies and files.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Queryable } from './queryable.ts';

export type CopyRow = readonly unknown[];

export async function copyRows(sql: Queryable, table: string, columns: readonly string[], rows: Iterable<CopyRow> | AsyncIterable<CopyRow>): Promise<void> {
  const writable: Writable = await sql`copy ${sql(table)} (${sql(columns as string[])}) from stdin`.writable();
  const finished = new Promise<void>((resolve, reject) => {
    writable.once('finish', resolve);
    writable.once('error', reject);
  });
  let chunk = '';
  try {
    for await (const row of rows) {
      chunk += `${row.map(copyValue).join('\t')}\n`;
      if (chunk.length >= 1 << 20) {
        if (!writable.write(chunk)) await once(writable, 'drain');
        chunk = '';
      }
    }
  } catch (error) {
    writable.destroy(error as Error);
    throw error;
  }
  if (chunk) writable.write(chunk);
  writable.end();
  await finished;
}

function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return String(value).replace(/[\\\n\r\t]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : '\\t'));
}
