// Component usage: which hosts run which versions of a package name (from the interned tuples and the
// inventories' GIN index), and which package sets hold that name, at which levels.
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import { compareEvr } from '../../common/rpm/vercmp.ts';
import { findHostsRunningTuples, findSetsHoldingName, type SetHoldingRow } from '../db/component-usage.ts';
import { findTuplesByName, type TupleRow } from '../db/package-tuples.ts';

export interface ComponentVersion {
  tuple: TupleRow;
  hostCount: number;
  /** At most the requested number, by hostname. */
  hosts: { machineId: string; hostname: string; set: string | null }[];
}

export interface ComponentUsage {
  name: string;
  /** Hosts running some version of it, each counted once. */
  hostCount: number;
  /** Newest first; only versions some host runs. */
  versions: ComponentVersion[];
  sets: SetHoldingRow[];
}

export async function componentUsage(sql: Sql, name: string, options: { hostsPerVersion: number }): Promise<ComponentUsage> {
  if (name.length === 0 || name.length > 256 || !/^[\x21-\x7e]+$/.test(name)) {
    throw new RpmgateError('bad_request', 'a package name is 1 to 256 printable characters without spaces');
  }
  const tuples = await findTuplesByName(sql, name);
  const [rows, sets] = await Promise.all([
    findHostsRunningTuples(
      sql,
      tuples.map((t) => t.id),
      options.hostsPerVersion,
    ),
    findSetsHoldingName(sql, name),
  ]);
  const byId = new Map(tuples.map((t) => [t.id, t]));
  const versions = new Map<number, ComponentVersion>();
  for (const row of rows) {
    let version = versions.get(row.tuple_id);
    if (!version) versions.set(row.tuple_id, (version = { tuple: byId.get(row.tuple_id)!, hostCount: row.host_count, hosts: [] }));
    if (version.hosts.length < options.hostsPerVersion) version.hosts.push({ machineId: row.machine_id, hostname: row.hostname, set: row.set_ref });
  }
  const sorted = [...versions.values()].sort(
    (a, b) => compareEvr(b.tuple, a.tuple) || (a.tuple.arch < b.tuple.arch ? -1 : a.tuple.arch > b.tuple.arch ? 1 : 0),
  );
  return { name, hostCount: rows[0]?.distinct_hosts ?? 0, versions: sorted, sets };
}
