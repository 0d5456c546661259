// Read-side queries over components (package names): names a page at a time by prefix, and every
// stored version of one name with its level and the sets that hold it. SQL only.
import type { Queryable } from './queryable.ts';
import { likePrefix } from './set-listings.ts';

export interface ComponentNameRow {
  name: string;
  version_count: number;
  top_level_rank: number;
}

/**
 * Package names in order, `limit` from `offset` (an index scan of packages_name_idx that stops at the
 * page: no count of every name, so callers ask for one row more to know whether a next page exists).
 */
export async function listComponentNamesPage(
  sql: Queryable,
  filter: { prefix: string | null; limit: number; offset: number },
): Promise<ComponentNameRow[]> {
  return sql<ComponentNameRow[]>`
    with names as (
      select distinct name from packages
      where true ${filter.prefix !== null ? sql`and name like ${likePrefix(filter.prefix)}` : sql``}
      order by name
      limit ${filter.limit} offset ${filter.offset}
    )
    select names.name, v.version_count, v.top_level_rank
    from names cross join lateral (
      select count(*)::int4 as version_count, max(level_rank)::int4 as top_level_rank from packages p where p.name = names.name
    ) v
    order by names.name`;
}

export interface ComponentVersionRow {
  id: number;
  nevra: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  level_rank: number;
  uploaded_at: Date;
  /** Sets holding this package, and the newest few of them. */
  set_count: number;
  sets: { name: string; version: string; level: string }[];
}

/** Every stored package of a name, with the sets holding each (the newest `setsPerVersion`). */
export async function listComponentVersions(sql: Queryable, name: string, setsPerVersion: number): Promise<ComponentVersionRow[]> {
  return sql<ComponentVersionRow[]>`
    select p.id, p.nevra, p.epoch, p.version, p.release, p.arch, p.is_source, p.level_rank, p.uploaded_at,
      (select count(*) from package_set_members m where m.package_id = p.id)::int4 as set_count,
      coalesce((
        select json_agg(json_build_object('name', s.name, 'version', s.version, 'level', s.level) order by s.created_at desc, s.id desc)
        from (
          select s.* from package_set_members m join package_sets s on s.id = m.set_id
          where m.package_id = p.id order by s.created_at desc, s.id desc limit ${setsPerVersion}
        ) s
      ), '[]') as sets
    from packages p
    where p.name = ${name}`;
}
