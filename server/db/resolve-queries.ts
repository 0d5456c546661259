// The reads behind dependency closure (server/services/resolve.ts): a set's packages, their distinct
// requires and the provides they are checked against, who requires what is missing, and the store's
// providers of given names and owners of given paths. Every query takes a whole batch (`= any(...)`),
// so a resolution costs a few queries per round whatever the set's size. Lists of names and paths
// are joined through unnest(): `= any(array)` with tens of thousands of texts costs PostgreSQL more
// to plan (a selectivity estimate per element) than to run.
import type { Queryable } from './queryable.ts';

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
  /** -1 obsolete, 0 integ ... 3 release (sql/0002). */
  level_rank: number;
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
  return sql<ResolvePackageRow[]>`
    select id, nevra, name, epoch, version, release, arch, is_source, level_rank
    from packages
    where id = any(${ids as number[]}::bigint[])`;
}

/** The distinct requires of the given packages, without saying whose they are (the set's packages share most). */
export async function findDistinctRequires(sql: Queryable, packageIds: readonly number[]): Promise<DependencyRow[]> {
  if (packageIds.length === 0) return [];
  return sql<DependencyRow[]>`
    select name, flags, evr
    from package_dependencies
    where package_id = any(${packageIds as number[]}::bigint[]) and kind = 'requires'
    group by name, flags, evr`;
}

/** Which of the given packages require one of `names`. */
export async function findRequirers(sql: Queryable, packageIds: readonly number[], names: readonly string[]): Promise<PackageDependencyRow[]> {
  if (packageIds.length === 0 || names.length === 0) return [];
  return sql<PackageDependencyRow[]>`
    select package_id, name, flags, evr
    from package_dependencies
    where package_id = any(${packageIds as number[]}::bigint[]) and kind = 'requires' and name in (select unnest(${names as string[]}::text[]))`;
}

/** The provides named one of `names` among the given packages. */
export async function findProvidesAmong(sql: Queryable, packageIds: readonly number[], names: readonly string[]): Promise<PackageDependencyRow[]> {
  if (packageIds.length === 0 || names.length === 0) return [];
  return sql<PackageDependencyRow[]>`
    select package_id, name, flags, evr
    from package_dependencies
    where package_id = any(${packageIds as number[]}::bigint[]) and kind = 'provides' and name in (select unnest(${names as string[]}::text[]))`;
}

/** All the provides and requires of the given packages. */
export async function findResolveDependencies(sql: Queryable, packageIds: readonly number[]): Promise<ResolveDependencyRow[]> {
  if (packageIds.length === 0) return [];
  return sql<ResolveDependencyRow[]>`
    select package_id, kind, name, flags, evr
    from package_dependencies
    where package_id = any(${packageIds as number[]}::bigint[]) and kind in ('provides', 'requires')`;
}

/** Every explicit provide of one of `names` by a binary package of the store. */
export async function findProvidesByName(sql: Queryable, names: readonly string[]): Promise<PackageDependencyRow[]> {
  if (names.length === 0) return [];
  return sql<PackageDependencyRow[]>`
    select d.package_id, d.name, d.flags, d.evr
    from package_dependencies d
    join packages p on p.id = d.package_id
    where d.kind = 'provides' and d.name in (select unnest(${names as string[]}::text[])) and not p.is_source`;
}

/** Binary packages of the store with one of `ids`, or named one of `names` (a package provides its own name). */
export async function findBinaryPackages(
  sql: Queryable,
  filter: { ids: readonly number[]; names: readonly string[] },
): Promise<ResolvePackageRow[]> {
  if (filter.ids.length === 0 && filter.names.length === 0) return [];
  return sql<ResolvePackageRow[]>`
    select id, nevra, name, epoch, version, release, arch, is_source, level_rank
    from packages
    where not is_source and id = any(${filter.ids as number[]}::bigint[])
    union
    select id, nevra, name, epoch, version, release, arch, is_source, level_rank
    from packages
    where not is_source and name in (select unnest(${filter.names as string[]}::text[]))`;
}

/** The binary packages of the store that own one of `paths` (files, directories and ghosts alike, as rpm counts them). */
export async function findFileOwners(sql: Queryable, paths: readonly string[]): Promise<FileOwnerRow[]> {
  if (paths.length === 0) return [];
  return sql<FileOwnerRow[]>`
    select distinct f.package_id, f.path
    from package_files f
    join packages p on p.id = f.package_id
    where f.path in (select unnest(${paths as string[]}::text[])) and not p.is_source`;
}
