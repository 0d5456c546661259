// Exceptions to entry checks, by package (name or glob) and optionally by file (a path glob), limited
// by a date (expires) or a version (untilVersion: applies while the package's version compares below
// it by rpm's rules). Expired and outgrown exceptions simply stop matching. SQL and matching only.
import { rpmvercmp } from '../../common/rpm/vercmp.ts';
import type { Queryable } from '../db/queryable.ts';
import type { Finding } from './findings.ts';
import { globToRegExp } from './glob.ts';

export interface ExceptionRow {
  id: number;
  check_id: string;
  package_glob: string;
  path_glob: string | null;
  reason: string;
  granted_by: string;
  granted_at: Date;
  expires_at: Date | null;
  until_version: string | null;
  removed_at: Date | null;
  removed_by: string | null;
}

export interface NewException {
  check: string;
  package: string;
  path?: string | undefined;
  reason: string;
  expires?: Date | undefined;
  untilVersion?: string | undefined;
}

export async function grantException(sql: Queryable, exception: NewException, actor: string): Promise<ExceptionRow> {
  const [row] = await sql<ExceptionRow[]>`
    with granted as (
      insert into check_exceptions (check_id, package_glob, path_glob, reason, granted_by, expires_at, until_version)
      values (${exception.check}, ${exception.package}, ${exception.path ?? null}, ${exception.reason}, ${actor},
              ${exception.expires ?? null}, ${exception.untilVersion ?? null})
      returning *
    ), audited as (
      insert into check_exception_audit (exception_id, action, actor) select id, 'grant', ${actor} from granted
    )
    select * from granted`;
  return row!;
}

/** Marks an exception removed (kept for the record); null when there is no live one by that id. */
export async function removeException(sql: Queryable, id: number, actor: string): Promise<ExceptionRow | null> {
  const [row] = await sql<ExceptionRow[]>`
    with removed as (
      update check_exceptions set removed_at = now(), removed_by = ${actor}
      where id = ${id} and removed_at is null returning *
    ), audited as (
      insert into check_exception_audit (exception_id, action, actor) select id, 'remove', ${actor} from removed
    )
    select * from removed`;
  return row ?? null;
}

/** Every exception not removed, newest first; expired ones too (shown as such). */
export async function listExceptions(sql: Queryable, options: { includeRemoved?: boolean } = {}): Promise<ExceptionRow[]> {
  return options.includeRemoved
    ? sql<ExceptionRow[]>`select * from check_exceptions order by id desc`
    : sql<ExceptionRow[]>`select * from check_exceptions where removed_at is null order by id desc`;
}

/** The exceptions that can still apply at `now` (not removed, not expired). */
export async function liveExceptions(sql: Queryable, now: Date): Promise<ExceptionRow[]> {
  return sql<ExceptionRow[]>`
    select * from check_exceptions
    where removed_at is null and (expires_at is null or expires_at > ${now})
    order by id`;
}

export type ExceptionState = 'active' | 'expired' | 'removed';

export function exceptionState(row: ExceptionRow, now: Date): ExceptionState {
  if (row.removed_at) return 'removed';
  if (row.expires_at && row.expires_at <= now) return 'expired';
  return 'active';
}

/** Marks the findings an exception covers with waivedBy; the first matching exception (oldest) wins. */
export function applyExceptions(findings: Finding[], exceptions: ExceptionRow[], pkg: { name: string; version: string }): Finding[] {
  const compiled = exceptions.map((row) => ({
    row,
    check: globToRegExp(row.check_id),
    pkg: globToRegExp(row.package_glob),
    path: row.path_glob === null ? null : globToRegExp(row.path_glob),
  }));
  return findings.map((finding) => {
    const match = compiled.find(
      ({ row, check, pkg: name, path }) =>
        check.test(finding.check) &&
        name.test(pkg.name) &&
        (path === null || (finding.path !== undefined && path.test(finding.path))) &&
        (row.until_version === null || rpmvercmp(pkg.version, row.until_version) < 0),
    );
    return match ? { ...finding, waivedBy: `exception ${match.row.id} (granted by ${match.row.granted_by}: ${match.row.reason})` } : finding;
  });
}
