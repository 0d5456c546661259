// The uploads the entry checks refused (sql/0015's entry_refusals, written by services/upload.ts):
// the latest first, for the console's overview. SQL only.
import type { Finding } from '../checks/findings.ts';
import type { Queryable } from './queryable.ts';

export interface RefusalRow {
  id: number;
  nevra: string;
  uploaded_by: string;
  refused_at: Date;
  findings: Finding[];
}

/** The latest refusals, newest first (entry_refusals_refused_at_idx). */
export async function listLatestRefusals(sql: Queryable, limit: number): Promise<RefusalRow[]> {
  return sql<RefusalRow[]>`
    select id, nevra, uploaded_by, refused_at, findings from entry_refusals order by refused_at desc, id desc limit ${limit}`;
}
