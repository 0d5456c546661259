// The entry-check findings kept with each accepted package (sql/0015). SQL only.
import type { Finding, Severity } from '../checks/findings.ts';
import type { Queryable } from './queryable.ts';

export async function insertFindings(sql: Queryable, packageId: number, findings: Finding[]): Promise<void> {
  if (findings.length === 0) return;
  const rows = findings.map((finding, position) => ({
    package_id: packageId,
    position,
    check_id: finding.check,
    severity: finding.severity,
    path: finding.path ?? null,
    message: finding.message,
    waived_by: finding.waivedBy ?? null,
  }));
  await sql`insert into package_findings ${sql(rows)}`;
}

/** Replaces a package's findings (check --all). */
export async function replaceFindings(sql: Queryable, packageId: number, findings: Finding[]): Promise<void> {
  await sql`delete from package_findings where package_id = ${packageId}`;
  await insertFindings(sql, packageId, findings);
}

export async function findingsOf(sql: Queryable, packageId: number): Promise<Finding[]> {
  const rows = await sql<{ check_id: string; severity: Severity; path: string | null; message: string; waived_by: string | null }[]>`
    select check_id, severity, path, message, waived_by from package_findings where package_id = ${packageId} order by position`;
  return rows.map((row) => ({
    check: row.check_id,
    severity: row.severity,
    message: row.message,
    ...(row.path === null ? {} : { path: row.path }),
    ...(row.waived_by === null ? {} : { waivedBy: row.waived_by }),
  }));
}
