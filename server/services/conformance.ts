// Conformance of hosts to their package sets, on the server: the set's member tuples (cached: sets are
// immutable), the summary stored on each host row at report time, hosts whose set appeared after they
// reported, one host's full detail, and a set's view of every host assigned to it.
import type { Sql } from 'postgres';
import { compareInventory, type ConformanceResult, type PackageTuple } from '../../common/conformance.ts';
import { RpmgateError } from '../../common/errors.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import {
  findResolvableHosts,
  listHostsOfSet,
  listSetMemberTuples,
  readInventoryTuples,
  updateHostConformance,
  type ConformanceColumns,
  type HostRow,
  type HostSummaryWithDrift,
  type StoredDrift,
} from '../db/hosts.ts';
import { hasPendingMembers } from '../db/set-pending-adoptions.ts';
import { findSet, type SetRow } from '../db/sets.ts';

/** Sets whose members are kept in memory; each is a few hundred tuples. */
const maxCachedSets = 2000;
const memberCaches = new WeakMap<Sql, Map<number, PackageTuple[]>>();

/**
 * A set's binary members. Cached per pool (pass the pool, not a transaction) for good: a set's members
 * never change once it is complete (only adopted upstream members join it, sql/0022), and a deleted
 * set's id is never reused.
 */
export async function setMemberTuples(sql: Sql, setId: number): Promise<PackageTuple[]> {
  let cache = memberCaches.get(sql);
  if (!cache) {
    cache = new Map();
    memberCaches.set(sql, cache);
  }
  const cached = cache.get(setId);
  if (cached) return cached;
  const [members, growing] = await Promise.all([listSetMemberTuples(sql, setId), hasPendingMembers(sql, setId)]);
  // A set still adopting upstream members grows: its members are read again until it is complete.
  if (growing) return members;
  if (cache.size >= maxCachedSets) cache.delete(cache.keys().next().value!);
  cache.set(setId, members);
  return members;
}

/** Splits "NAME/VERSION"; the caller has validated the form. */
export function splitSetReference(reference: string): { name: string; version: string } {
  const slash = reference.indexOf('/');
  return { name: reference.slice(0, slash), version: reference.slice(slash + 1) };
}

/** What a host row stores: the non-strict verdict, the counts, and the drift as view-ready strings. */
export function conformanceColumns(setRef: string | null, result: ConformanceResult | null): ConformanceColumns {
  if (!result) {
    return { status: setRef === null ? 'no_set' : 'unknown_set', expected: 0, missing: 0, older: 0, newer: 0, different: 0, foreign: 0, drift: {} };
  }
  const { counts } = result;
  return {
    status: result.conforming ? 'conforming' : 'drifting',
    expected: counts.expected,
    missing: counts.missing,
    older: counts.older,
    newer: counts.newer,
    different: counts.different,
    foreign: counts.foreign,
    drift: driftView(result),
  };
}

export function driftView(result: ConformanceResult): Required<StoredDrift> {
  const mismatch = (m: ConformanceResult['older'][number]) => ({ name: m.name, arch: m.arch, expected: evrString(m.expected), installed: evrString(m.installed) });
  return {
    missing: result.missing.map(formatNevra),
    older: result.older.map(mismatch),
    newer: result.newer.map(mismatch),
    different: result.different.map(formatNevra),
  };
}

export function evrString(t: Pick<PackageTuple, 'epoch' | 'version' | 'release'>): string {
  return `${t.epoch ? `${t.epoch}:` : ''}${t.version}-${t.release}`;
}

/**
 * Hosts that reported a set before it existed are judged once it does: called before the fleet reads,
 * it costs one indexed query when there is nothing to do.
 */
export async function resolvePendingAssignments(sql: Sql): Promise<number> {
  const pending = await findResolvableHosts(sql);
  for (const host of pending) {
    const [members, installed] = await Promise.all([setMemberTuples(sql, host.set_id), readInventoryTuples(sql, host.id)]);
    const result = compareInventory(members, installed, { arch: host.arch });
    await updateHostConformance(sql, host.id, { digest: host.inventory_digest }, host.set_id, conformanceColumns(host.set_ref, result));
  }
  return pending.length;
}

/** One host compared live with its set, foreign packages listed too (the stored row only counts them). */
export async function hostConformance(
  sql: Sql,
  host: HostRow,
  strict: boolean,
): Promise<{ result: ConformanceResult | null; installed: PackageTuple[] }> {
  const installed = await readInventoryTuples(sql, host.id);
  if (host.set_id === null) return { result: null, installed };
  const members = await setMemberTuples(sql, host.set_id);
  return { result: compareInventory(members, installed, { arch: host.arch, strict }), installed };
}

export interface SetConformance {
  set: SetRow;
  hosts: HostSummaryWithDrift[];
}

export async function setConformance(sql: Sql, name: string, version: string): Promise<SetConformance> {
  const set = await findSet(sql, name, version);
  if (!set) throw new RpmgateError('not_found', `no package set ${name}/${version}`);
  await resolvePendingAssignments(sql);
  return { set, hosts: await listHostsOfSet(sql, set.id) };
}
