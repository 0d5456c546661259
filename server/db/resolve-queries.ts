// The reads behind dependency closure (server/services/resolve.ts): a set's packages with their
// provides and requires, and the store's providers of given names and owners of given paths.
// Every query takes a whole batch (`= any(...)`), so a resolution costs a few queries per round.
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

export interface ResolveDependencyRow {
  package_id: number;
  kind: 'provides' | 'requires';
  name: string;
  flags: number;
  evr: string;
}

export interface ProvideRow {
  package_id: number;
  name: string;
  flags: number;
  evr: string;
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

/** The provides and requires of the given packages. */
export async function findResolveDependencies(sql: Queryable, packageIds: readonly number[]): Promise<ResolveDependencyRow[]> {
  if (packageIds.length === 0) return [];
  return sql<ResolveDependencyRow[]>`
    select package_id, kind, name, flags, evr
    from package_dependencies
    where package_id = any(${packageIds as number[]}::bigint[]) and kind in ('provides', 'requires')`;
}

/** Every explicit provide of one of `names` by a binary package of the store. */
export async function findProvidesByName(sql: Queryable, names: readonly string[]): Promise<ProvideRow[]> {
  if (names.length === 0) return [];
  return sql<ProvideRow[]>`
    select d.package_id, d.name, d.flags, d.evr
    from package_dependencies d
    join packages p on p.id = d.package_id
    where d.kind = 'provides' and d.name = any(${names as string[]}::text[]) and not p.is_source`;
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
    where not is_source
      and (id = any(${filter.ids as number[]}::bigint[]) or name = any(${filter.names as string[]}::text[]))`;
}

/** The binary packages of the store that own one of `paths` (files, directories and ghosts alike, as rpm counts them). */
export async function findFileOwners(sql: Queryable, paths: readonly string[]): Promise<FileOwnerRow[]> {
  if (paths.length === 0) return [];
  return sql<FileOwnerRow[]>`
    select distinct f.package_id, f.path
    from package_files f
    join packages p on p.id = f.package_id
    where f.path = any(${paths as string[]}::text[]) and not p.is_source`;
}
