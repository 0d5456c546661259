// Read-side queries over package sets for listings a page at a time: counts per level, the latest
// promotions, sets filtered by name prefix and level, a set's members with their levels and source
// ties, the versions of a product line, and the members one set has and another lacks. SQL only.
import type { Level } from '../../common/roles.ts';
import type { Queryable } from './queryable.ts';

export async function countSetsByLevel(sql: Queryable): Promise<{ level: Level; count: number }[]> {
  return sql<{ level: Level; count: number }[]>`select level, count(*)::int4 as count from package_sets group by level`;
}

export interface PromotionEventRow {
  set_name: string;
  set_version: string;
  from_level: Level;
  to_level: Level;
  promoted_by: string;
  promoted_at: Date;
  comment: string;
}

/** The newest promotions of any set (set_promotions' primary key, newest first). */
export async function listLatestPromotions(sql: Queryable, limit: number): Promise<PromotionEventRow[]> {
  return sql<PromotionEventRow[]>`
    select s.name as set_name, s.version as set_version, p.from_level, p.to_level, p.promoted_by, p.promoted_at, p.comment
    from (select * from set_promotions order by id desc limit ${limit}) p
    join package_sets s on s.id = p.set_id
    order by p.id desc`;
}

export interface SetListRow {
  id: number;
  name: string;
  version: string;
  level: Level;
  created_at: Date;
  created_by: string;
  member_count: number;
  host_count: number;
  drifting_count: number;
  total: number;
}

/** `name_prefix` matches the start of the product name (LIKE with pattern operators: sql/0013). */
export async function listSetsPage(
  sql: Queryable,
  filter: { namePrefix: string | null; level: Level | null; limit: number; offset: number },
): Promise<SetListRow[]> {
  return sql<SetListRow[]>`
    with page as (
      select id, name, version, level, created_at, created_by, count(*) over ()::int4 as total
      from package_sets
      where true
        ${filter.namePrefix !== null ? sql`and name like ${likePrefix(filter.namePrefix)}` : sql``}
        ${filter.level !== null ? sql`and level = ${filter.level}` : sql``}
      order by name, created_at desc, id desc
      limit ${filter.limit} offset ${filter.offset}
    )
    select page.*,
      (select count(*) from package_set_members m where m.set_id = page.id)::int4 as member_count,
      (select count(*) from hosts h where h.set_id = page.id)::int4 as host_count,
      (select count(*) from hosts h where h.set_id = page.id and h.conformance_status = 'drifting')::int4 as drifting_count
    from page
    order by name, created_at desc, id desc`;
}

export interface SetMemberDetailRow {
  id: number;
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  level_rank: number;
  sourcerpm: string | null;
  /** A binary's stored source package (by SOURCERPM), if any, and whether this set holds it. */
  source_nevra: string | null;
  source_in_set: boolean;
  /** A source package: how many of this set's binaries were built from it. */
  binaries_in_set: number;
}

export async function countSetMembers(sql: Queryable, setId: number): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int4 as count from package_set_members where set_id = ${setId}`;
  return row!.count;
}

export async function listSetMembersPage(sql: Queryable, setId: number, page: { limit: number; offset: number }): Promise<SetMemberDetailRow[]> {
  return sql<SetMemberDetailRow[]>`
    with page as (
      select p.id, p.nevra, p.name, p.epoch, p.version, p.release, p.arch, p.is_source, p.level_rank, p.sourcerpm, p.filename
      from package_set_members m join packages p on p.id = m.package_id
      where m.set_id = ${setId}
      order by p.name, p.arch, p.nevra
      limit ${page.limit} offset ${page.offset}
    )
    select page.id, page.nevra, page.name, page.epoch, page.version, page.release, page.arch, page.is_source, page.level_rank,
      page.sourcerpm, src.nevra as source_nevra,
      (src.id is not null and exists (select 1 from package_set_members ms where ms.set_id = ${setId} and ms.package_id = src.id)) as source_in_set,
      case when page.is_source then (
        select count(*) from packages b join package_set_members mb on mb.package_id = b.id and mb.set_id = ${setId}
        where b.sourcerpm = page.filename and not b.is_source)::int4 else 0 end as binaries_in_set
    from page
    left join packages src on not page.is_source and src.is_source and src.filename = page.sourcerpm
    order by page.name, page.arch, page.nevra`;
}

/** Every set of a product line (few: a product's versions). */
export async function listProductVersions(sql: Queryable, name: string): Promise<{ id: number; version: string; level: Level }[]> {
  return sql<{ id: number; version: string; level: Level }[]>`select id, version, level from package_sets where name = ${name}`;
}

export interface DiffMemberRow {
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
}

/** Members of one set that another set does not hold (by package). */
export async function listMembersNotIn(sql: Queryable, setId: number, otherSetId: number): Promise<DiffMemberRow[]> {
  return sql<DiffMemberRow[]>`
    select p.nevra, p.name, p.epoch, p.version, p.release, p.arch
    from package_set_members m join packages p on p.id = m.package_id
    where m.set_id = ${setId}
      and not exists (select 1 from package_set_members o where o.set_id = ${otherSetId} and o.package_id = m.package_id)`;
}

/** A LIKE pattern for "starts with", with LIKE's own characters escaped. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
