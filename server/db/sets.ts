// Queries on package sets, their members and promotion history. SQL only, no policy.
import type { Level } from '../../common/roles.ts';
import type { Queryable } from './queryable.ts';
import { insertPendingAdoptions, type PendingAdoptionRecord } from './set-pending-adoptions.ts';

export interface SetRow {
  id: number;
  name: string;
  version: string;
  description: string;
  level: Level;
  created_at: Date;
  created_by: string;
}

export interface SetMemberRow {
  id: number;
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  sha256: string;
  filename: string;
}

export interface PromotionRow {
  from_level: string;
  to_level: string;
  promoted_by: string;
  promoted_at: Date;
  comment: string;
}

const setColumns = ['id', 'name', 'version', 'description', 'level', 'created_at', 'created_by'];

export async function findSet(sql: Queryable, name: string, version: string): Promise<SetRow | null> {
  const [row] = await sql<SetRow[]>`select ${sql(setColumns)} from package_sets where name = ${name} and version = ${version}`;
  return row ?? null;
}

export async function listSets(sql: Queryable, filter: { name?: string | null; level?: string | null }): Promise<SetRow[]> {
  return sql<SetRow[]>`
    select ${sql(setColumns)} from package_sets
    where true
      ${filter.name ? sql`and name = ${filter.name}` : sql``}
      ${filter.level ? sql`and level = ${filter.level}` : sql``}
    order by name, created_at, id`;
}

/** Sets of one product line at or above a level rank (not obsolete). */
export async function listSetsAtOrAbove(sql: Queryable, name: string, rank: number): Promise<SetRow[]> {
  return sql<SetRow[]>`
    select ${sql(setColumns)} from package_sets
    where name = ${name} and level <> 'obsolete' and level_rank(level) >= ${rank}`;
}

export async function insertSet(
  sql: Queryable,
  set: {
    name: string;
    version: string;
    description: string;
    createdBy: string;
    packageIds: number[];
    includesSources?: boolean;
    unresolved?: UnresolvedRequirementRow[];
    /** Upstream members not in the store yet: adopted in the background (sql/0022). */
    pending?: PendingAdoptionRecord[];
  },
): Promise<SetRow> {
  const [row] = await sql<SetRow[]>`
    insert into package_sets (name, version, description, created_by, includes_sources, unresolved)
    values (${set.name}, ${set.version}, ${set.description}, ${set.createdBy}, ${set.includesSources ?? true}, ${sql.json((set.unresolved ?? []) as never)})
    returning ${sql(setColumns)}`;
  await sql`
    insert into package_set_members (set_id, package_id)
    select ${row!.id}, unnest(${set.packageIds}::bigint[])`;
  await insertPendingAdoptions(sql, row!.id, set.pending ?? []);
  await sql`update package_sets set sealed = true where id = ${row!.id}`;
  return row!;
}

/** Every version a product line has used: its sets' and its deleted sets' (sql/0009 tombstones). */
export async function listVersionsEverUsed(sql: Queryable, name: string): Promise<{ version: string; deleted: boolean }[]> {
  return sql<{ version: string; deleted: boolean }[]>`
    select version, false as deleted from package_sets where name = ${name}
    union all
    select version, true as deleted from package_set_tombstones where name = ${name}`;
}

export interface UnresolvedRequirementRow {
  nevra: string;
  requirement: string;
}

/** What `--allow-unresolved` left unresolved when the set was created (sql/0020); read only for one set. */
export async function findSetUnresolved(sql: Queryable, setId: number): Promise<UnresolvedRequirementRow[]> {
  const [row] = await sql<{ unresolved: UnresolvedRequirementRow[] }[]>`select unresolved from package_sets where id = ${setId}`;
  return row?.unresolved ?? [];
}

export async function listSetMembers(sql: Queryable, setId: number): Promise<SetMemberRow[]> {
  return sql<SetMemberRow[]>`
    select p.id, p.nevra, p.name, p.epoch, p.version, p.release, p.arch, p.is_source, p.sha256, p.filename
    from package_set_members m join packages p on p.id = m.package_id
    where m.set_id = ${setId}
    order by p.name, p.arch, p.nevra`;
}

export async function listPromotions(sql: Queryable, setId: number): Promise<PromotionRow[]> {
  return sql<PromotionRow[]>`
    select from_level, to_level, promoted_by, promoted_at, comment
    from set_promotions where set_id = ${setId} order by id`;
}

export async function findPackagesByNevra(sql: Queryable, nevras: string[]) {
  return sql<{ id: number; nevra: string; is_source: boolean; sourcerpm: string | null; filename: string }[]>`
    select id, nevra, is_source, sourcerpm, filename from packages where nevra = any(${nevras})`;
}

/** Stored source packages whose file name is one of these SOURCERPM values. */
export async function findSourcesByFilename(sql: Queryable, filenames: string[]) {
  return sql<{ id: number; nevra: string; filename: string }[]>`
    select id, nevra, filename from packages where is_source and filename = any(${filenames})`;
}

export async function refreshPackageLevels(sql: Queryable, packageIds: number[]): Promise<void> {
  await sql`select refresh_package_levels(${packageIds}::bigint[])`;
}

/** Moves a set from one level to another only if it is still at `from`: the loser of a race gets false. */
export async function updateSetLevel(sql: Queryable, setId: number, from: Level, to: Level): Promise<boolean> {
  const rows = await sql`update package_sets set level = ${to} where id = ${setId} and level = ${from} returning id`;
  return rows.length === 1;
}

export async function insertPromotion(
  sql: Queryable,
  promotion: { setId: number; from: Level; to: Level; by: string; comment: string },
): Promise<PromotionRow> {
  const [row] = await sql<PromotionRow[]>`
    insert into set_promotions (set_id, from_level, to_level, promoted_by, comment)
    values (${promotion.setId}, ${promotion.from}, ${promotion.to}, ${promotion.by}, ${promotion.comment})
    returning from_level, to_level, promoted_by, promoted_at, comment`;
  return row!;
}

export async function listSetMemberIds(sql: Queryable, setId: number): Promise<number[]> {
  const rows = await sql<{ package_id: number }[]>`select package_id from package_set_members where set_id = ${setId}`;
  return rows.map((row) => row.package_id);
}
