// The upstream side of `set create`: which named NEVRAs a mirror lists (the store not holding them),
// the SRPMs of upstream binaries (stored already, or listed by the same mirror), and the record a
// pending member keeps of its upstream package (sql/0022). Metadata only: nothing is downloaded here;
// the set-adoption job fetches in the background.
import type { Queryable } from '../db/queryable.ts';
import type { MirrorPackageRow } from '../db/mirrors.ts';
import type { PendingAdoptionRecord } from '../db/set-pending-adoptions.ts';

export type UpstreamPackageRow = MirrorPackageRow & { mirror_name: string };

/** Whether any mirror has been synced: resolution then looks among the upstream packages too. */
export async function anyMirrorSynced(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ any: boolean }[]>`select exists (select from mirrors where synced_at is not null) as any`;
  return row?.any ?? false;
}

/** Of `nevras`, those a mirror lists: the first mirror by name that does (deterministic). */
export async function findUpstreamByNevra(sql: Queryable, nevras: readonly string[]): Promise<Map<string, UpstreamPackageRow>> {
  const found = new Map<string, UpstreamPackageRow>();
  if (nevras.length === 0) return found;
  const rows = await sql<UpstreamPackageRow[]>`
    select p.*, m.name as mirror_name from mirror_packages p join mirrors m on m.id = p.mirror_id
    where p.nevra in (select unnest(${nevras as string[]}::text[]))
    order by m.name, p.id`;
  for (const row of rows) if (!found.has(row.nevra)) found.set(row.nevra, row);
  return found;
}

/** Upstream packages by mirror_packages id. */
export async function findUpstreamByIds(sql: Queryable, ids: readonly number[]): Promise<UpstreamPackageRow[]> {
  if (ids.length === 0) return [];
  return sql<UpstreamPackageRow[]>`
    select p.*, m.name as mirror_name from mirror_packages p join mirrors m on m.id = p.mirror_id
    where p.id = any(${ids as number[]}::bigint[]) order by p.nevra`;
}

/**
 * The SRPM each upstream binary was built from (its SOURCERPM): the stored one when the store holds
 * it, else the one its mirror lists (to be adopted with it); binaries whose SRPM neither has are left out.
 */
export async function findUpstreamSources(
  sql: Queryable,
  binaries: readonly UpstreamPackageRow[],
): Promise<{ stored: { id: number; nevra: string }[]; upstream: UpstreamPackageRow[] }> {
  const withSource = binaries.filter((pkg) => !pkg.is_source && pkg.sourcerpm);
  if (withSource.length === 0) return { stored: [], upstream: [] };
  const filenames = [...new Set(withSource.map((pkg) => pkg.sourcerpm!))];
  const stored = await sql<{ id: number; nevra: string; filename: string }[]>`
    select id, nevra, filename from packages where is_source and filename in (select unnest(${filenames}::text[]))`;
  const storedNames = new Set(stored.map((row) => row.filename));
  const wanted = withSource.filter((pkg) => !storedNames.has(pkg.sourcerpm!));
  const upstream = wanted.length === 0 ? [] : await sql<UpstreamPackageRow[]>`
    select distinct on (p.mirror_id, w.sourcerpm) p.*, m.name as mirror_name
    from unnest(${wanted.map((pkg) => pkg.mirror_id)}::bigint[], ${wanted.map((pkg) => pkg.sourcerpm!)}::text[]) as w (mirror_id, sourcerpm)
    join mirror_packages p on p.mirror_id = w.mirror_id and p.is_source
      and p.name || '-' || p.version || '-' || p.release || '.src.rpm' = w.sourcerpm
    join mirrors m on m.id = p.mirror_id
    order by p.mirror_id, w.sourcerpm, p.id`;
  return { stored: stored.map(({ id, nevra }) => ({ id, nevra })), upstream };
}

export function pendingRecord(pkg: UpstreamPackageRow): PendingAdoptionRecord {
  return {
    nevra: pkg.nevra,
    mirror_name: pkg.mirror_name,
    pkgid: pkg.pkgid,
    checksum_type: pkg.checksum_type,
    location_href: pkg.location_href,
    size: pkg.size,
    is_source: pkg.is_source,
  };
}
