// The documents a repository should serve, rendered from scratch from the database: its members'
// stored fragments (rendered once at upload) concatenated in document order (name in the C
// collation, then id) between each document's head and tail. Which packages a repository holds is
// restated here in SQL from the rules (README, INTERFACE.md), independently of the server's own
// queries and of every cache (server/repodata): what the incremental, chunked builds must equal.
import type { Sql } from 'postgres';
import { documentHead, documentTail, repodataKinds, type RepodataKind } from '../../common/repodata/document.ts';

export type RepositoryOfRecord =
  | { kind: 'level'; rank: number; source: boolean }
  | { kind: 'set'; name: string; version: string; source: boolean };

export async function renderFromDatabase(sql: Sql, repo: RepositoryOfRecord): Promise<Record<RepodataKind, string>> {
  const members =
    repo.kind === 'level'
      ? sql`select p.id, p.name from packages p where p.level_rank >= ${repo.rank} and p.is_source = ${repo.source}`
      : repo.source
        ? // A set's sources: its source members, and unless made with noSources the SRPMs its binaries name.
          sql`select p.id, p.name from packages p, package_sets s
              where s.name = ${repo.name} and s.version = ${repo.version} and p.is_source
                and (p.id in (select package_id from package_set_members where set_id = s.id)
                     or (s.includes_sources and p.filename in (
                           select b.sourcerpm from package_set_members m join packages b on b.id = m.package_id
                           where m.set_id = s.id and not b.is_source)))`
        : sql`select p.id, p.name from packages p join package_set_members m on m.package_id = p.id
              join package_sets s on s.id = m.set_id
              where s.name = ${repo.name} and s.version = ${repo.version} and not p.is_source`;
  const rows = await sql<{ primary_xml: string; filelists_xml: string; other_xml: string }[]>`
    select r.primary_xml, r.filelists_xml, r.other_xml from (${members}) p join package_repodata r on r.package_id = p.id
    order by p.name collate "C", p.id`;
  const column = { primary: 'primary_xml', filelists: 'filelists_xml', other: 'other_xml' } as const;
  return Object.fromEntries(
    repodataKinds.map((kind) => [kind, documentHead(kind, rows.length) + rows.map((row) => row[column[kind]]).join('') + documentTail(kind)]),
  ) as Record<RepodataKind, string>;
}
