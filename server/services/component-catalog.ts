// Components (package names) as people browse them: names a page at a time, and one name's page:
// every stored version with the highest level it reached and the sets that hold it, beside the
// versions hosts run (component usage, as the API's /components/{name}/usage answers it).
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import { levelFromRank, type Level } from '../../common/roles.ts';
import { compareEvr } from '../../common/rpm/vercmp.ts';
import { listComponentNamesPage, listComponentVersions, type ComponentNameRow, type ComponentVersionRow } from '../db/component-listings.ts';
import { findHostsRunningTuples } from '../db/component-usage.ts';
import { findTuplesByName } from '../db/package-tuples.ts';

export const componentNamePattern = /^[\x21-\x7e]{1,256}$/;

export async function findComponentsPage(
  sql: Sql,
  filter: { prefix: string | null; limit: number; offset: number },
): Promise<{ rows: ComponentNameRow[]; hasMore: boolean }> {
  const rows = await listComponentNamesPage(sql, { ...filter, limit: filter.limit + 1 });
  return { rows: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
}

export interface ComponentVersionView {
  nevra: string;
  evr: string;
  arch: string;
  isSource: boolean;
  /** null when no stored package is this version (a host runs a build rpmgate never received). */
  stored: { level: Level; uploadedAt: Date; setCount: number; sets: ComponentVersionRow['sets'] } | null;
  hostCount: number;
  hosts: { machineId: string; hostname: string; set: string | null }[];
}

export interface ComponentPage {
  name: string;
  /** Hosts running any version, each counted once. */
  hostCount: number;
  versions: ComponentVersionView[];
}

/** Every version of a component, newest first: stored ones and those only hosts run. */
export async function getComponentPage(sql: Sql, name: string, options: { hostsPerVersion: number; setsPerVersion: number }): Promise<ComponentPage> {
  if (!componentNamePattern.test(name)) throw new RpmgateError('bad_request', 'a package name is 1 to 256 printable characters without spaces');
  const [stored, tuples] = await Promise.all([listComponentVersions(sql, name, options.setsPerVersion), findTuplesByName(sql, name)]);
  if (stored.length === 0 && tuples.length === 0) throw new RpmgateError('not_found', `no package named ${name} is stored or reported by a host`);
  const usage = await findHostsRunningTuples(
    sql,
    tuples.map((t) => t.id),
    options.hostsPerVersion,
  );
  const key = (t: { epoch: number | null; version: string; release: string; arch: string }) => `${t.epoch ?? 0}:${t.version}-${t.release}.${t.arch}`;
  const views = new Map<string, ComponentVersionView>();
  for (const row of stored) {
    views.set(key(row), {
      nevra: row.nevra,
      evr: evr(row),
      arch: row.arch,
      isSource: row.is_source,
      stored: { level: levelFromRank(row.level_rank), uploadedAt: row.uploaded_at, setCount: row.set_count, sets: row.sets },
      hostCount: 0,
      hosts: [],
    });
  }
  const tupleById = new Map(tuples.map((t) => [t.id, t]));
  for (const row of usage) {
    const tuple = tupleById.get(row.tuple_id)!;
    let view = views.get(key(tuple));
    if (!view) {
      view = { nevra: `${name}-${evr(tuple)}.${tuple.arch}`, evr: evr(tuple), arch: tuple.arch, isSource: false, stored: null, hostCount: 0, hosts: [] };
      views.set(key(tuple), view);
    }
    view.hostCount = row.host_count;
    if (view.hosts.length < options.hostsPerVersion) view.hosts.push({ machineId: row.machine_id, hostname: row.hostname, set: row.set_ref });
  }
  const versions = [...views.values()].sort((a, b) => compareEvr(b.evr, a.evr) || (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  return { name, hostCount: usage[0]?.distinct_hosts ?? 0, versions };
}

function evr(t: { epoch: number | null; version: string; release: string }): string {
  return `${t.epoch ? `${t.epoch}:` : ''}${t.version}-${t.release}`;
}
