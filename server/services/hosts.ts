// The fleet's write side and host reads: inventory reports (token binding, the unchanged-report fast
// paths, interning, diffs into history, conformance stored at report time), enrollment of agent tokens,
// and the host listings that read the stored summaries.
//
// Ownership: an agent token binds to the first machine id it reports for (tokens.machine_id) and a host
// belongs to the token that first reported it (hosts.token_id). Another live token is refused; the way
// to move a host to a new token is enrollment, which revokes the old one.
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { compareInventory, type PackageTuple } from '../../common/conformance.ts';
import { collectionBudget } from '../ops/full-gc.ts';
import { RpmgateError } from '../../common/errors.ts';
import { hostnamePattern, machineIdPattern, parseHostReport } from '../../common/host-report.ts';
import { compareEvr } from '../../common/rpm/vercmp.ts';
import {
  findHost,
  insertHost,
  isTokenLive,
  listHostChanges,
  listHosts,
  lockHost,
  probeReport,
  revokeAgentTokensOf,
  setHostToken,
  touchUnchangedInventory,
  writeReport,
  type HostChange,
  type HostChangeRow,
  type HostFilter,
  type HostRow,
  type HostRowWithDrift,
  type HostState,
  type HostSummaryRow,
  type HostWrite,
} from '../db/hosts.ts';
import type { Queryable } from '../db/queryable.ts';
import { findSet } from '../db/sets.ts';
import { bindTokenToMachine, findTokenByDigest, hasLiveTokenFor } from '../db/tokens.ts';
import { conformanceColumns, hostConformance, resolvePendingAssignments, setMemberTuples, splitSetReference } from './conformance.ts';
import { normalizeInventory, tupleInterner, type TupleInterner } from './package-tuples.ts';
import { setNamePattern, setVersionPattern } from './sets.ts';
import { createToken, digestToken, type CreatedToken, type Principal } from './tokens.ts';

export interface ReportOutcome {
  host: HostRowWithDrift;
  /** The inventory was identical to the previous report (nothing but the report time was written). */
  unchanged: boolean;
  changes: { installed: number; removed: number; changed: number };
}

/**
 * Records one report, given as the bytes the agent sent (JSON). The common cases cost few statements and
 * no transaction: a report byte-identical to the host's previous one is recognised by its sha256 before
 * it is parsed (one update); otherwise the host's state is read with that probe, and the new report is
 * written in one compare-and-set statement (only the report time and description when the inventory
 * digest, arch and set are unchanged: no interning, no comparison). Anything unusual (a token's first
 * report, another token, a concurrent report) goes through the locked path, which decides every case.
 */
const spendReportWork = collectionBudget(50);

export async function recordHostReport(
  sql: Sql,
  body: Buffer,
  principal: Principal,
  delivery: { collectedAt: Date | null } = { collectedAt: null },
): Promise<ReportOutcome> {
  const tokenId = principal.tokenId;
  if (tokenId === null) throw new RpmgateError('forbidden', 'only an agent token bound to a host may report its inventory');
  const reportSha256 = createHash('sha256').update(body).digest();
  // undefined: not probed (the token is not bound yet); null: no such host.
  let state: HostState | null | undefined;
  if (principal.machineId !== null) {
    const probe = await probeReport(sql, { machineId: principal.machineId, tokenId, reportSha256 });
    if (probe.touched) return { host: probe.touched, unchanged: true, changes: noChanges() };
    state = probe.state;
  }

  // A report parsed leaves ~1 MB of garbage (1,500 packages as objects, maps, query parameters); a
  // full collection every 50 keeps 16 concurrent first reports from growing the heap by 50 MB and more.
  spendReportWork();
  const report = parseHostReport(parseJsonObject(body));
  if (principal.machineId !== null && principal.machineId !== report.machineId) throw otherHost(principal.machineId, report.machineId);
  const inventory = normalizeInventory(report.packages);
  if (
    state &&
    state.token_id === tokenId &&
    Buffer.compare(state.inventory_digest, inventory.digest) === 0 &&
    state.arch === report.arch &&
    state.set_ref === report.set &&
    (report.set === null || state.set_id !== null)
  ) {
    // Same packages, arch and (existing) set: the conformance stored is still the answer.
    const host = await touchUnchangedInventory(
      sql,
      state.id,
      { tokenId, arch: state.arch, setRef: state.set_ref, setId: state.set_id, digest: state.inventory_digest },
      { hostname: report.hostname, os: report.os, reportSha256 },
    );
    if (host) return { host, unchanged: true, changes: noChanges() };
  }
  // Outside any transaction: interning commits on its own, so tuples are shared at once and no lock
  // on package_tuples is held while the host is written.
  const interner = tupleInterner(sql);
  // The set as the host last named it, when it names it again (the write checks it still exists).
  const knownSetId = state && state.set_id !== null && state.set_ref === report.set ? state.set_id : null;
  const [ids, setId] = await Promise.all([interner.intern(inventory), knownSetId ?? findSetId(sql, report.set)]);
  const tupleIds = [...new Set(ids)].sort((a, b) => a - b);
  const prepare = async (setId: number | null): Promise<HostWrite> => {
    const result = setId === null ? null : compareInventory(await setMemberTuples(sql, setId), inventory.tuples, { arch: report.arch });
    return {
      machineId: report.machineId,
      hostname: report.hostname,
      os: report.os,
      arch: report.arch,
      setRef: report.set,
      setId,
      tokenId,
      reportSha256,
      digest: inventory.digest,
      packageCount: tupleIds.length,
      conformance: conformanceColumns(report.set, result),
      collectedAt: delivery.collectedAt,
    };
  };
  let write = await prepare(setId);

  if (state !== undefined && (state === null || state.token_id === tokenId)) {
    const written = state === null ? await insertNewHost(sql, write, tupleIds) : await writeOverState(sql, interner, state, write, tupleIds);
    if (written) return written;
  }
  return sql.begin(async (tx) => {
    if (principal.machineId === null) {
      const bound = await bindTokenToMachine(tx, tokenId, report.machineId);
      if (bound === null) throw heldByAnotherToken(report.machineId);
      if (bound !== report.machineId) throw otherHost(bound, report.machineId);
    }
    // The set is looked up again here: the one the host named last time may be gone.
    const currentSetId = await findSetId(tx, report.set);
    if (currentSetId !== write.setId) write = await prepare(currentSetId);
    let host = await lockHost(tx, report.machineId);
    if (!host) {
      const inserted = await insertHost(tx, write, tupleIds);
      if (inserted) return { host: inserted, unchanged: false, changes: noChanges() };
      // A concurrent first report of the same host won: continue as an update of its row.
      host = (await lockHost(tx, report.machineId))!;
    }
    if (host.token_id !== null && host.token_id !== tokenId && (await isTokenLive(tx, host.token_id))) throw heldByAnotherToken(report.machineId);
    // Under the row lock the compare-and-set cannot fail.
    return (await writeOverState(tx, interner, host, write, tupleIds))!;
  });
}

async function findSetId(sql: Queryable, reference: string | null): Promise<number | null> {
  if (reference === null) return null;
  const { name, version } = splitSetReference(reference);
  return (await findSet(sql, name, version))?.id ?? null;
}

function noChanges(): ReportOutcome['changes'] {
  return { installed: 0, removed: 0, changed: 0 };
}

async function insertNewHost(sql: Sql, write: HostWrite, tupleIds: number[]): Promise<ReportOutcome | null> {
  const inserted = await insertHost(sql, write, tupleIds);
  return inserted && { host: inserted, unchanged: false, changes: noChanges() };
}

/** Writes a report over the host's state as read; null when the host moved on meanwhile. */
async function writeOverState(
  sql: Queryable,
  interner: TupleInterner,
  state: HostState,
  write: HostWrite,
  tupleIds: number[],
): Promise<ReportOutcome | null> {
  const expected = { tokenId: state.token_id, setId: state.set_id, digest: state.inventory_digest };
  if (Buffer.compare(state.inventory_digest, write.digest) === 0) {
    // The same packages in another order or spelling: only the description and report time move.
    const host = await writeReport(sql, state.id, expected, write, null);
    return host && { host, unchanged: true, changes: noChanges() };
  }
  const diff = await describeChanges(interner, state.tuple_ids, tupleIds);
  const host = await writeReport(sql, state.id, expected, write, { tupleIds, changes: diff });
  if (!host) return null;
  const changes = noChanges();
  for (const change of diff) changes[change.kind]++;
  return { host, unchanged: false, changes };
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new RpmgateError('bad_request', `the report is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RpmgateError('bad_request', 'the report must be a JSON object');
  return value as Record<string, unknown>;
}

function heldByAnotherToken(machineId: string): RpmgateError {
  return new RpmgateError(
    'forbidden',
    `host ${machineId} reports with another agent token; an admin can replace that token (POST /api/v1/hosts/enroll with replace: true)`,
  );
}

function otherHost(bound: string, reported: string): RpmgateError {
  return new RpmgateError('forbidden', `this agent token belongs to host ${bound}; it cannot report for host ${reported}`);
}

/**
 * The difference between two sorted id lists as history events: within one name.arch, removed and
 * installed versions pair up in EVR order as "changed" (an update or downgrade is one event, not two);
 * what is left over is "installed" or "removed".
 */
async function describeChanges(interner: TupleInterner, before: readonly number[], after: readonly number[]): Promise<HostChange[]> {
  const removed: number[] = [];
  const added: number[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const a = before[i];
    const b = after[j];
    if (b === undefined || (a !== undefined && a < b)) {
      removed.push(a!);
      i++;
    } else if (a === undefined || b < a) {
      added.push(b);
      j++;
    } else {
      i++;
      j++;
    }
  }
  if (removed.length === 0 && added.length === 0) return [];
  const tuples = await interner.lookup([...removed, ...added]);
  const groups = new Map<string, { removed: [number, PackageTuple][]; added: [number, PackageTuple][] }>();
  const group = (t: PackageTuple) => {
    const key = `${t.name}\0${t.arch}`;
    let entry = groups.get(key);
    if (!entry) groups.set(key, (entry = { removed: [], added: [] }));
    return entry;
  };
  for (const id of removed) group(tuples.get(id)!).removed.push([id, tuples.get(id)!]);
  for (const id of added) group(tuples.get(id)!).added.push([id, tuples.get(id)!]);
  const changes: HostChange[] = [];
  for (const entry of groups.values()) {
    entry.removed.sort((x, y) => compareEvr(x[1], y[1]));
    entry.added.sort((x, y) => compareEvr(x[1], y[1]));
    const pairs = Math.min(entry.removed.length, entry.added.length);
    for (let k = 0; k < pairs; k++) changes.push({ kind: 'changed', from: entry.removed[k]![0], to: entry.added[k]![0] });
    for (const [id] of entry.removed.slice(pairs)) changes.push({ kind: 'removed', from: id, to: null });
    for (const [id] of entry.added.slice(pairs)) changes.push({ kind: 'installed', from: null, to: id });
  }
  return changes;
}

export interface EnrolledToken extends CreatedToken {
  machineId: string;
  /** An earlier agent token of this machine was revoked by this enrollment. */
  replaced: boolean;
}

/**
 * Mints the agent token of one host, bound to its machine id at once. A machine that holds a live
 * agent token already is refused: whoever holds a fleet's enrollment token must not be able to take
 * over another host. Replacing a host's token (a lost token, a compromised host) is an admin's act,
 * with `replace: true`, and revokes the earlier one: one live token per host.
 */
export async function enrollHost(sql: Sql, body: Record<string, unknown>, principal: Principal): Promise<EnrolledToken> {
  const { machineId, hostname, replace = false } = body;
  if (typeof machineId !== 'string' || !machineIdPattern.test(machineId)) {
    throw new RpmgateError('bad_request', 'machineId must be 32 lowercase hexadecimal digits, as in /etc/machine-id');
  }
  if (typeof hostname !== 'string' || !hostnamePattern.test(hostname)) {
    throw new RpmgateError('bad_request', 'hostname must be 1 to 253 letters, digits and . _ -');
  }
  if (typeof replace !== 'boolean') throw new RpmgateError('bad_request', 'replace must be true or false');
  if (replace && principal.role !== 'admin') throw new RpmgateError('forbidden', "only an admin may replace a host's agent token");
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`enroll:${machineId}`}, 0))`;
    if (!replace && (await hasLiveTokenFor(tx, machineId))) {
      throw new RpmgateError('conflict', `host ${machineId} has a live agent token already; an admin replaces it with rpmgate-agent enroll --replace (an admin token as --enrollment-token), or "replace": true in the API`, { machineId });
    }
    const revoked = await revokeAgentTokensOf(tx, machineId);
    // createToken only runs one insert through what it is given, which a transaction does as well as the pool.
    const created = await createToken(tx, { role: 'agent', name: `agent@${hostname.slice(0, 60)}/${machineId}` }, principal);
    const row = (await findTokenByDigest(tx, digestToken(created.token)))!;
    await bindTokenToMachine(tx, row.id, machineId);
    await setHostToken(tx, machineId, row.id);
    return { ...created, machineId, replaced: revoked > 0 };
  });
}

export async function findHosts(sql: Sql, filter: HostFilter): Promise<{ total: number; hosts: HostSummaryRow[] }> {
  await resolvePendingAssignments(sql);
  const rows = await listHosts(sql, filter);
  return { total: rows[0]?.total ?? 0, hosts: rows };
}

export interface HostDetail {
  host: HostRow;
  conformance: Awaited<ReturnType<typeof hostConformance>>;
  history: { at: Date; kind: HostChange['kind']; from: PackageTuple | null; to: PackageTuple | null }[];
}

export async function getHost(sql: Sql, machineId: string, options: { strict: boolean; historyLimit: number }): Promise<HostDetail> {
  if (!machineIdPattern.test(machineId)) throw new RpmgateError('not_found', `no host ${machineId}`);
  await resolvePendingAssignments(sql);
  const host = await findHost(sql, machineId);
  if (!host) throw new RpmgateError('not_found', `no host ${machineId}`);
  const [conformance, changes] = await Promise.all([hostConformance(sql, host, options.strict), listHostChanges(sql, host.id, options.historyLimit)]);
  const tuples = await tupleInterner(sql).lookup(changes.flatMap((c: HostChangeRow) => [c.from_tuple_id, c.to_tuple_id].filter((id): id is number => id !== null)));
  const history = changes.map((c) => ({
    at: c.changed_at,
    kind: c.kind,
    from: c.from_tuple_id === null ? null : (tuples.get(c.from_tuple_id) ?? null),
    to: c.to_tuple_id === null ? null : (tuples.get(c.to_tuple_id) ?? null),
  }));
  return { host, conformance, history };
}

/** A set reference from a query string: NAME/VERSION, else a 400. */
export function parseSetReference(value: string): string {
  const slash = value.indexOf('/');
  const name = value.slice(0, slash);
  const version = value.slice(slash + 1);
  if (slash <= 0 || !setNamePattern.test(name) || !setVersionPattern.test(version)) {
    throw new RpmgateError('bad_request', `a set is named NAME/VERSION, e.g. billing/4.2.0, not "${value}"`);
  }
  return value;
}
