// What a repository holds, in SQL: a level repository serves the binary (or source) packages at or
// above its level; a set repository serves the set's binary (or source) members.
import type { Queryable } from '../db/queryable.ts';
import type { PackageRow } from '../db/packages.ts';

export type RepoSelector =
  | { kind: 'level'; rank: number; source: boolean }
  | { kind: 'set'; setId: number; source: boolean };

export interface FragmentRow {
  primary_xml: string;
  filelists_xml: string;
  other_xml: string;
}

/** `from ... where ...` selecting the repository's packages as `p` (and their fragments as `r`). */
function membership(sql: Queryable, selector: RepoSelector, withFragments = false) {
  const fragments = withFragments ? sql`join package_repodata r on r.package_id = p.id` : sql``;
  return selector.kind === 'level'
    ? sql`from packages p ${fragments} where p.level_rank >= ${selector.rank} and p.is_source = ${selector.source}`
    : sql`from package_set_members m join packages p on p.id = m.package_id ${fragments}
          where m.set_id = ${selector.setId} and p.is_source = ${selector.source}`;
}

export async function countRepoPackages(sql: Queryable, selector: RepoSelector): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count ${membership(sql, selector)}`;
  return row!.count;
}

/** Batches of fragments in a stable order (name, then id), through a server-side cursor. */
export function streamRepoFragments(sql: Queryable, selector: RepoSelector, batch: number): AsyncIterable<FragmentRow[]> {
  return sql<FragmentRow[]>`
    select r.primary_xml, r.filelists_xml, r.other_xml
    ${membership(sql, selector, true)}
    order by p.name, p.id`.cursor(batch);
}

/** The package a repository serves under a file name, or null when that repository does not hold it. */
export async function findRepoPackage(sql: Queryable, selector: RepoSelector, filename: string): Promise<PackageRow | null> {
  const [row] = await sql<PackageRow[]>`select p.* ${membership(sql, selector)} and p.filename = ${filename}`;
  return row ?? null;
}
