// The reads behind dependency closure (server/services/resolve.ts): a set's packages, their distinct
// requires and the provides they are checked against, who requires what is missing, and the store's
// providers of given names and owners of given paths. Every query takes a whole batch (`= any(...)`),
// so a resolution costs a few queries per round whatever the set's size. Lists of names and paths
// are joined through unnest(): `= any(array)` with tens of thousands of texts costs PostgreSQL more
// to plan (a selectivity estimate per element) than to run.
//
// With `mirrors`, the synced upstream packages take part too, from the metadata a sync recorded
// (sql/0018), under negative ids (-mirror_packages.id) so that one resolution runs over both: an
// upstream package whose NEVRA the store holds is left out (the stored one is that package).
import type { Queryable } from './queryable.ts';

/** Store ids are positive, upstream ones the negated mirror_packages id. */
function splitIds(ids: readonly number[]): { stored: number[]; upstream: number[] } {
  const stored: number[] = [];
  const upstream: number[] = [];
  for (const id of ids) (id > 0 ? stored : upstream).push(id > 0 ? id : -id);
  return { stored, upstream };
}

/** What resolution needs to know about a package: identity, EVR, arch, and whether it is obsolete. */
export interface ResolvePackageRow {
  id: number;
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  /** -1 obsolete, 0 integ ... 3 release (sql/0002); an upstream package has reached none (-1). */
  level_rank: number;
  /** The mirror listing an upstream package; null for a stored one. */
  mirror: string | null;
}

export interface DependencyRow {
  name: string;
  flags: number;
  evr: string;
}

/** A provide or a require of one package. */
export interface PackageDependencyRow extends DependencyRow {
  package_id: number;
}

export interface ResolveDependencyRow extends PackageDependencyRow {
  kind: 'provides' | 'requires';
}

export interface FileOwnerRow {
  package_id: number;
  path: string;
}

export async function findResolvePackages(sql: Queryable, ids: readonly number[]): Promise<ResolvePackageRow[]> {
  if (ids.length === 0) return [];
  const { stored, upstream } = splitIds(ids);
  return sql<ResolvePackageRow[]>`
    select id, nevra, name, epoch, version, release, arch, is_source, level_rank, null::text as mirror
    from packages
    where id = any(${stored}::bigint[])
    union all
    select -p.id, p.nevra, p.name, p.epoch, p.version, p.release, p.arch, p.is_source, -1, m.name
    from mirror_packages p join mirrors m on m.id = p.mirror_id
    where p.id = any(${upstream}::bigint[])`;
}

/** The distinct requires of the given packages, without saying whose they are (the set's packages share most). */
export async function findDistinctRequires(sql: Queryable, packageIds: readonly number[]): Promise<DependencyRow[]> {
  if (packageIds.length === 0) return [];
  const { stored, upstream } = splitIds(packageIds);
  return sql<DependencyRow[]>`
    select name, flags, evr
    from package_dependencies
    where package_id = any(${stored}::bigint[]) and kind = 'requires'
    union
    select name, flags, evr
    from mirror_package_dependencies
    where mirror_package_id = any(${upstream}::bigint[]) and kind = 'requires'`;
}

/** Which of the given packages require one of `names`. */
export async function findRequirers(sql: Queryable, packageIds: readonly number[], names: readonly string[]): Promise<PackageDependencyRow[]> {
  if (packageIds.length === 0 || names.length === 0) return [];
  const { stored, upstream } = splitIds(packageIds);
  return sql<PackageDependencyRow[]>`
    select package_id, name, flags, evr
    from package_dependencies
    where package_id = any(${stored}::bigint[]) and kind = 'requires' and name in (select unnest(${names as string[]}::text[]))
    union all
    select -mirror_package_id, name, flags, evr
    from mirror_package_dependencies
    where mirror_package_id = any(${upstream}::bigint[]) and kind = 'requires' and name in (select unnest(${names as string[]}::text[]))`;
}

/** The provides named one of `names` among the given packages. */
export async function findProvidesAmong(sql: Queryable, packageIds: readonly number[], names: readonly string[]): Promise<PackageDependencyRow[]> {
  if (packageIds.length === 0 || names.length === 0) return [];
  const { stored, upstream } = splitIds(packageIds);
  return sql<PackageDependencyRow[]>`
    select package_id, name, flags, evr
    from package_dependencies
    where package_id = any(${stored}::bigint[]) and kind = 'provides' and name in (select unnest(${names as string[]}::text[]))
    union all
    select -mirror_package_id, name, flags, evr
    from mirror_package_dependencies
    where mirror_package_id = any(${upstream}::bigint[]) and kind = 'provides' and name in (select unnest(${names as string[]}::text[]))`;
}

/** All the provides and requires of the given packages. */
export async function findResolveDependencies(sql: Queryable, packageIds: readonly number[]): Promise<ResolveDependencyRow[]> {
  if (packageIds.length === 0) return [];
  const { stored, upstream } = splitIds(packageIds);
  return sql<ResolveDependencyRow[]>`
    select package_id, kind, name, flags, evr
    from package_dependencies
    where package_id = any(${stored}::bigint[]) and kind in ('provides', 'requires')
    union all
    select -mirror_package_id, kind, name, flags, evr
    from mirror_package_dependencies
    where mirror_package_id = any(${upstream}::bigint[]) and kind in ('provides', 'requires')`;
}

/** Every explicit provide of one of `names` by a binary package of the store. */
export async function findProvidesByName(sql: Queryable, names: readonly string[], mirrors = false): Promise<PackageDependencyRow[]> {
  if (names.length === 0) return [];
  return sql<PackageDependencyRow[]>`
    select d.package_id, d.name, d.flags, d.evr
    from package_dependencies d
    join packages p on p.id = d.package_id
    where d.kind = 'provides' and d.name in (select unnest(${names as string[]}::text[])) and not p.is_source
    ${mirrors ? sql`
    union all
    select -d.mirror_package_id, d.name, d.flags, d.evr
    from mirror_package_dependencies d
    join mirror_packages p on p.id = d.mirror_package_id
    where d.kind = 'provides' and d.name in (select unnest(${names as string[]}::text[])) and not p.is_source
      and not exists (select from packages s where s.nevra = p.nevra)` : sql``}`;
}

/** Binary packages of the store with one of `ids`, or named one of `names` (a package provides its own name). */
export async function findBinaryPackages(
  sql: Queryable,
  filter: { ids: readonly number[]; names: readonly string[] },
  mirrors = false,
): Promise<ResolvePackageRow[]> {
  if (filter.ids.length === 0 && filter.names.length === 0) return [];
  const { stored, upstream } = splitIds(filter.ids);
  return sql<ResolvePackageRow[]>`
    select id, nevra, name, epoch, version, release, arch, is_source, level_rank, null::text as mirror
    from packages
    where not is_source and id = any(${stored}::bigint[])
    union
    select id, nevra, name, epoch, version, release, arch, is_source, level_rank, null::text
    from packages
    where not is_source and name in (select unnest(${filter.names as string[]}::text[]))
    ${mirrors ? sql`
    union
    select -p.id, p.nevra, p.name, p.epoch, p.version, p.release, p.arch, p.is_source, -1, m.name
    from mirror_packages p join mirrors m on m.id = p.mirror_id
    where not p.is_source and (p.id = any(${upstream}::bigint[]) or p.name in (select unnest(${filter.names as string[]}::text[])))
      and not exists (select from packages s where s.nevra = p.nevra)` : sql``}`;
}

/** The binary packages of the store that own one of `paths` (files, directories and ghosts alike, as rpm counts them). */
export async function findFileOwners(sql: Queryable, paths: readonly string[], mirrors = false): Promise<FileOwnerRow[]> {
  if (paths.length === 0) return [];
  return sql<FileOwnerRow[]>`
    select distinct f.package_id, f.path
    from package_files f
    join packages p on p.id = f.package_id
    where f.path in (select unnest(${paths as string[]}::text[])) and not p.is_source
    ${mirrors ? sql`
    union
    select -f.mirror_package_id, f.path
    from mirror_package_files f
    join mirror_packages p on p.id = f.mirror_package_id
    where f.path in (select unnest(${paths as string[]}::text[])) and not p.is_source
      and not exists (select from packages s where s.nevra = p.nevra)` : sql``}`;
}
