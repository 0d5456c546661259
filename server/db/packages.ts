// Queries on packages and their dependency, file and repodata rows. SQL only, no policy.
import type { Queryable } from './queryable.ts';
import type { Dependency, PackageFile, RpmPackage } from '../../common/rpm/package.ts';

export interface PackageRow {
  id: number;
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  is_source: boolean;
  sourcerpm: string | null;
  filename: string;
  original_sha256: string;
  original_size: number;
  sha256: string;
  size: number;
  summary: string;
  license: string;
  url: string;
  vendor: string;
  buildhost: string;
  buildtime: number;
  installed_size: number;
  signed_by: string | null;
  header_start: number;
  header_end: number;
  uploaded_at: Date;
  uploaded_by: string;
  /** When the current served file began to be served: the upload, or the last re-signing (sql/0010). */
  served_since: Date;
}

export interface NewPackage {
  nevra: string;
  filename: string;
  pkg: RpmPackage;
  originalSha256: string;
  originalSize: number;
  sha256: string;
  size: number;
  headerRange: { start: number; end: number };
  signedBy: string | null;
  uploadedAt: Date;
  uploadedBy: string;
  repodata: { primary: string; filelists: string; other: string };
}

const dependencyKinds = ['provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances'] as const;
/** Rows per multi-row insert: keeps the bind parameters far below PostgreSQL's 65,535. */
const insertBatch = 5000;

export async function findPackageByNevra(sql: Queryable, nevra: string): Promise<PackageRow | null> {
  const [row] = await sql<PackageRow[]>`select * from packages where nevra = ${nevra}`;
  return row ?? null;
}

/** The package whose uploaded file, served file or a file it was served as before has this sha256. */
export async function findPackageByAnyFileSha256(sql: Queryable, sha256: string): Promise<PackageRow | null> {
  const [row] = await sql<PackageRow[]>`
    select * from packages
    where original_sha256 = ${sha256} or sha256 = ${sha256}
       or id in (select package_id from package_previous_files where sha256 = ${sha256})
    limit 1`;
  return row ?? null;
}

export async function findPackageByFilename(sql: Queryable, filename: string): Promise<PackageRow | null> {
  const [row] = await sql<PackageRow[]>`select * from packages where filename = ${filename}`;
  return row ?? null;
}

/** Whether any binary package of this name is stored. */
export async function hasBinaryPackageNamed(sql: Queryable, name: string): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`select exists (select 1 from packages where name = ${name} and not is_source) as found`;
  return row!.found;
}

export async function insertPackage(sql: Queryable, record: NewPackage): Promise<PackageRow> {
  const { pkg } = record;
  const [row] = await sql<PackageRow[]>`
    insert into packages (
      nevra, name, epoch, version, release, arch, is_source, sourcerpm, filename,
      original_sha256, original_size, sha256, size, summary, license, url, vendor, buildhost, buildtime,
      installed_size, header_start, header_end, uploaded_at, uploaded_by, signed_by, served_since
    ) values (
      ${record.nevra}, ${pkg.name}, ${pkg.epoch}, ${pkg.version}, ${pkg.release}, ${pkg.arch}, ${pkg.isSource},
      ${pkg.sourcerpm}, ${record.filename}, ${record.originalSha256}, ${record.originalSize}, ${record.sha256},
      ${record.size}, ${pkg.summary}, ${pkg.license}, ${pkg.url}, ${pkg.vendor}, ${pkg.buildhost}, ${pkg.buildtime},
      ${pkg.sizes.installed}, ${record.headerRange.start}, ${record.headerRange.end}, ${record.uploadedAt},
      ${record.uploadedBy}, ${record.signedBy}, ${record.uploadedAt}
    )
    returning *`;
  const id = row!.id;
  const dependencies = dependencyKinds.flatMap((kind) =>
    pkg[kind].map((dep: Dependency) => ({ package_id: id, kind, name: dep.name, flags: dep.flags, evr: dep.evr })),
  );
  for (let i = 0; i < dependencies.length; i += insertBatch) {
    await sql`insert into package_dependencies ${sql(dependencies.slice(i, i + insertBatch))}`;
  }
  const files = pkg.files.map((file: PackageFile) => ({ package_id: id, path: file.path, type: file.type }));
  for (let i = 0; i < files.length; i += insertBatch) {
    await sql`insert into package_files ${sql(files.slice(i, i + insertBatch))}`;
  }
  await sql`
    insert into package_repodata (package_id, primary_xml, filelists_xml, other_xml)
    values (${id}, ${record.repodata.primary}, ${record.repodata.filelists}, ${record.repodata.other})`;
  return row!;
}

/** A package with its effective level and the sets that hold it (a source: also as its binaries' source), for the API. */
export interface PackageDetailRow extends PackageRow {
  level_rank: number;
  sets: string[];
}

const withSets = (sql: Queryable) => sql`
  array(select s.name || '/' || s.version from package_sets s
        where s.id in (select m.set_id from package_set_members m where m.package_id = p.id)
           or (p.is_source and s.includes_sources and s.id in (
                 select m.set_id from package_set_members m join packages b on b.id = m.package_id
                 where b.sourcerpm = p.filename and not b.is_source))
        order by s.name, s.id) as sets`;

export async function listPackages(sql: Queryable, filter: { name?: string | null; limit: number; afterId: number }): Promise<PackageDetailRow[]> {
  return sql<PackageDetailRow[]>`
    select p.*, ${withSets(sql)} from packages p
    where p.id > ${filter.afterId} ${filter.name ? sql`and p.name = ${filter.name}` : sql``}
    order by p.id
    limit ${filter.limit}`;
}

export async function findPackageDetail(sql: Queryable, nevra: string): Promise<PackageDetailRow | null> {
  const [row] = await sql<PackageDetailRow[]>`select p.*, ${withSets(sql)} from packages p where p.nevra = ${nevra}`;
  return row ?? null;
}
