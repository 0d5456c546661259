// Queries on mirrors, their metadata files and their upstream packages. SQL only, no policy.
import { copyRows } from './copy-rows.ts';
import type { Queryable } from './queryable.ts';
import type { MirrorPackageRecord } from '../mirrors/primary-record.ts';

export interface MirrorRow {
  id: number;
  name: string;
  baseurl: string;
  source_baseurl: string | null;
  arches: string[] | null;
  keys: string[];
  created_at: Date;
  created_by: string;
  revision: string | null;
  repomd_xml: Buffer | null;
  repomd_asc: Buffer | null;
  source_repomd_xml: Buffer | null;
  source_repomd_asc: Buffer | null;
  synced_at: Date | null;
  last_attempt_at: Date | null;
  last_error: string | null;
}

export type MirrorPart = 'binary' | 'source';

export interface MirrorSummaryRow extends MirrorRow {
  packages: number;
  cached: number;
}

export interface MirrorPackageRow {
  id: number;
  mirror_id: number;
  pkgid: string;
  checksum_type: string;
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  sourcerpm: string | null;
  location_href: string;
  size: number;
  cached_sha256: string | null;
}


export async function insertMirror(
  sql: Queryable,
  mirror: { name: string; baseurl: string; sourceBaseurl: string | null; arches: string[] | null; keys: string[]; createdBy: string },
): Promise<MirrorRow | null> {
  const [row] = await sql<MirrorRow[]>`
    insert into mirrors (name, baseurl, source_baseurl, arches, keys, created_by)
    values (${mirror.name}, ${mirror.baseurl}, ${mirror.sourceBaseurl}, ${mirror.arches}, ${mirror.keys}, ${mirror.createdBy})
    on conflict on constraint mirrors_name_key do nothing
    returning *`;
  return row ?? null;
}

export async function findMirror(sql: Queryable, name: string): Promise<MirrorRow | null> {
  const [row] = await sql<MirrorRow[]>`select * from mirrors where name = ${name}`;
  return row ?? null;
}

export async function listMirrors(sql: Queryable): Promise<MirrorSummaryRow[]> {
  return sql<MirrorSummaryRow[]>`
    select m.*,
           (select count(*)::int from mirror_packages p where p.mirror_id = m.id) as packages,
           (select count(*)::int from mirror_packages p where p.mirror_id = m.id and p.cached_sha256 is not null) as cached
    from mirrors m order by m.name`;
}

/** Mirrors not attempted within the last `seconds` (by the database's clock: servers' clocks may differ). */
export async function listMirrorsDue(sql: Queryable, seconds: number): Promise<MirrorRow[]> {
  return sql<MirrorRow[]>`
    select * from mirrors
    where last_attempt_at is null or last_attempt_at < now() - make_interval(secs => ${seconds})
    order by name`;
}

export async function deleteMirror(sql: Queryable, name: string): Promise<MirrorRow | null> {
  const [row] = await sql<MirrorRow[]>`delete from mirrors where name = ${name} returning *`;
  return row ?? null;
}

export async function recordSyncFailure(sql: Queryable, mirrorId: number, message: string): Promise<void> {
  await sql`update mirrors set last_attempt_at = now(), last_error = ${message} where id = ${mirrorId}`;
}

/** Of the given pkgids, those the mirror records already. */
export async function findKnownPkgids(sql: Queryable, mirrorId: number, pkgids: string[]): Promise<Set<string>> {
  if (pkgids.length === 0) return new Set();
  const rows = await sql<{ pkgid: string }[]>`
    select pkgid from mirror_packages where mirror_id = ${mirrorId} and pkgid in (select unnest(${pkgids}::text[]))`;
  return new Set(rows.map((row) => row.pkgid));
}

export async function insertMirrorPackages(sql: Queryable, mirrorId: number, records: MirrorPackageRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = await sql<{ id: number; pkgid: string }[]>`
    insert into mirror_packages ${sql(
      records.map((r) => ({
        mirror_id: mirrorId,
        pkgid: r.pkgid,
        checksum_type: r.checksumType,
        nevra: r.nevra,
        name: r.name,
        epoch: r.epoch,
        version: r.version,
        release: r.release,
        arch: r.arch,
        is_source: r.isSource,
        sourcerpm: r.sourcerpm,
        location_href: r.locationHref,
        size: r.size,
      })),
    )}
    returning id, pkgid`;
  const idOf = new Map(rows.map((row) => [row.pkgid, row.id]));
  await copyRows(sql, 'mirror_package_dependencies', ['mirror_package_id', 'kind', 'name', 'flags', 'evr'], (function* () {
    for (const r of records) for (const d of r.dependencies) yield [idOf.get(r.pkgid)!, d.kind, d.name, d.flags, d.evr];
  })());
  await copyRows(sql, 'mirror_package_files', ['mirror_package_id', 'path'], (function* () {
    for (const r of records) for (const path of r.files) yield [idOf.get(r.pkgid)!, path];
  })());
}

export async function findMirrorPackageByHref(sql: Queryable, mirrorId: number, href: string): Promise<MirrorPackageRow | null> {
  const [row] = await sql<MirrorPackageRow[]>`
    select * from mirror_packages where mirror_id = ${mirrorId} and location_href = ${href} limit 1`;
  return row ?? null;
}

export async function findMirrorPackagesByNevra(sql: Queryable, nevras: string[]): Promise<(MirrorPackageRow & { mirror_name: string })[]> {
  if (nevras.length === 0) return [];
  return sql<(MirrorPackageRow & { mirror_name: string })[]>`
    select p.*, m.name as mirror_name from mirror_packages p join mirrors m on m.id = p.mirror_id
    where p.nevra in (select unnest(${nevras}::text[]))
    order by m.name, p.id`;
}

export async function markMirrorPackageCached(sql: Queryable, id: number, sha256: string): Promise<void> {
  await sql`update mirror_packages set cached_sha256 = ${sha256} where id = ${id}`;
}

export async function findMetadataFile(sql: Queryable, mirrorId: number, part: MirrorPart, href: string): Promise<{ sha256: string; size: number } | null> {
  const [row] = await sql<{ sha256: string; size: number }[]>`
    select sha256, size from mirror_metadata_files where mirror_id = ${mirrorId} and part = ${part} and href = ${href}`;
  return row ?? null;
}
