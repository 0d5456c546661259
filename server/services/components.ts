// Component usage: which hosts run which versions of a package name (from the interned tuples and the
// inventories' GIN index), and which package sets hold that name, at which levels.
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import { compareEvr } from '../../common/rpm/vercmp.ts';
import { countHostsRunningAny, findHostsRunningTuples, findSetsHoldingName, findTuplesByName, type SetHoldingRow, type TupleRow } from '../db/hosts.ts';

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
  const ids = tuples.map((t) => t.id);
  const [running, hostCount, sets] = await Promise.all([
    findHostsRunningTuples(sql, ids, options.hostsPerVersion),
    countHostsRunningAny(sql, ids),
    findSetsHoldingName(sql, name),
  ]);
  const byId = new Map(tuples.map((t) => [t.id, t]));
  const versions = running
    .filter((row) => row.host_count > 0)
    .map((row) => ({ tuple: byId.get(row.tuple_id)!, hostCount: row.host_count, hosts: row.hosts }))
    .sort((a, b) => compareEvr(b.tuple, a.tuple) || (a.tuple.arch < b.tuple.arch ? -1 : a.tuple.arch > b.tuple.arch ? 1 : 0));
  return { name, hostCount, versions, sets };
}
