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
import { RpmgateError } from '../../common/errors.ts';
import { machineIdPattern, parseHostReport } from '../../common/host-report.ts';
import { compareEvr } from '../../common/rpm/vercmp.ts';
import {
  findHost,
  insertHost,
  insertHostChanges,
  isTokenLive,
  listHostChanges,
  listHosts,
  lockHost,
  readInventoryIds,
  revokeAgentTokensOf,
  setHostToken,
  touchIdenticalReport,
  touchUnchangedHost,
  updateReportedHost,
  writeInventory,
  type HostChangeRow,
  type HostFilter,
  type HostRow,
  type HostRowWithDrift,
  type HostWrite,
} from '../db/hosts.ts';
import { findSet } from '../db/sets.ts';
import { bindTokenToMachine, findTokenByDigest } from '../db/tokens.ts';
import { conformanceColumns, hostConformance, resolvePendingAssignments, setMemberTuples, splitSetReference } from './conformance.ts';
import { normalizeInventory, tupleInterner } from './package-tuples.ts';
import { setNamePattern, setVersionPattern } from './sets.ts';
import { createToken, digestToken, type CreatedToken, type Principal } from './tokens.ts';

export interface ReportOutcome {
  host: HostRowWithDrift;
  /** The inventory was identical to the previous report (nothing but the report time was written). */
  unchanged: boolean;
  changes: { installed: number; removed: number; changed: number };
}

type ChangeKind = 'installed' | 'removed' | 'changed';

/**
 * Records one report, given as the bytes the agent sent (JSON): a report byte-identical to the host's
 * previous one is recognised by its sha256 before it is parsed, and costs one indexed update.
 */
export async function recordHostReport(sql: Sql, body: Buffer, principal: Principal): Promise<ReportOutcome> {
  const tokenId = principal.tokenId;
  if (tokenId === null) throw new RpmgateError('forbidden', 'only an agent token bound to a host may report its inventory');
  const reportSha256 = createHash('sha256').update(body).digest();
  if (principal.machineId !== null) {
    const touched = await touchIdenticalReport(sql, { machineId: principal.machineId, tokenId, reportSha256 });
    if (touched) return { host: touched, unchanged: true, changes: { installed: 0, removed: 0, changed: 0 } };
  }

  const report = parseHostReport(parseJsonObject(body));
  if (principal.machineId !== null && principal.machineId !== report.machineId) throw otherHost(principal.machineId, report.machineId);
  const inventory = normalizeInventory(report.packages);
  const description = { hostname: report.hostname, os: report.os, arch: report.arch, setRef: report.set };
  if (principal.machineId !== null) {
    const touched = await touchUnchangedHost(sql, { machineId: report.machineId, tokenId, reportSha256, digest: inventory.digest, ...description });
    if (touched) return { host: touched, unchanged: true, changes: { installed: 0, removed: 0, changed: 0 } };
  }

  // Outside the transaction: interning commits on its own, so tuples are shared at once and no lock
  // on package_tuples is held while the host is written.
  const interner = tupleInterner(sql);
  const ids = await interner.intern(inventory.tuples);
  const set = report.set === null ? null : await findSet(sql, splitSetReference(report.set).name, splitSetReference(report.set).version);
  const result = set ? compareInventory(await setMemberTuples(sql, set.id), inventory.tuples, { arch: report.arch }) : null;
  const tupleIds = [...new Set(ids)].sort((a, b) => a - b);
  const write: HostWrite = {
    machineId: report.machineId,
    ...description,
    setId: set?.id ?? null,
    tokenId,
    reportSha256,
    digest: inventory.digest,
    packageCount: tupleIds.length,
    conformance: conformanceColumns(report.set, result),
  };

  return sql.begin(async (tx) => {
    if (principal.machineId === null) {
      const bound = await bindTokenToMachine(tx, tokenId, report.machineId);
      if (bound !== report.machineId) throw otherHost(bound, report.machineId);
    }
    let host = await lockHost(tx, report.machineId);
    if (!host) {
      const inserted = await insertHost(tx, write);
      if (inserted) {
        await writeInventory(tx, inserted.id, tupleIds);
        return { host: inserted, unchanged: false, changes: { installed: 0, removed: 0, changed: 0 } };
      }
      // A concurrent first report of the same host won: continue as an update of its row.
      host = (await lockHost(tx, report.machineId))!;
    }
    if (host.token_id !== null && host.token_id !== tokenId && (await isTokenLive(tx, host.token_id))) {
      throw new RpmgateError(
        'forbidden',
        `host ${report.machineId} reports with another agent token; enroll it again (POST /api/v1/hosts/enroll) to replace that token`,
      );
    }
    const unchanged = Buffer.compare(host.inventory_digest, inventory.digest) === 0;
    const changes = { installed: 0, removed: 0, changed: 0 };
    if (!unchanged) {
      const previous = await readInventoryIds(tx, host.id);
      const diff = await describeChanges(interner, previous, tupleIds);
      for (const change of diff) changes[change.kind]++;
      await insertHostChanges(tx, host.id, diff);
      await writeInventory(tx, host.id, tupleIds);
    }
    const updated = await updateReportedHost(tx, host.id, write, !unchanged);
    return { host: updated, unchanged, changes };
  });
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

function otherHost(bound: string, reported: string): RpmgateError {
  return new RpmgateError('forbidden', `this agent token belongs to host ${bound}; it cannot report for host ${reported}`);
}

/**
 * The difference between two sorted id lists as history events: within one name.arch, removed and
 * installed versions pair up in EVR order as "changed" (an update or downgrade is one event, not two);
 * what is left over is "installed" or "removed".
 */
async function describeChanges(
  interner: ReturnType<typeof tupleInterner>,
  before: readonly number[],
  after: readonly number[],
): Promise<{ kind: ChangeKind; from: number | null; to: number | null }[]> {
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
  const changes: { kind: ChangeKind; from: number | null; to: number | null }[] = [];
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
 * Mints the agent token of one host, bound to its machine id at once. Enrolling a machine again (a
 * reinstalled host, a lost token) revokes its earlier agent tokens: one live token per host.
 */
export async function enrollHost(sql: Sql, body: Record<string, unknown>, principal: Principal): Promise<EnrolledToken> {
  const { machineId, hostname } = body;
  if (typeof machineId !== 'string' || !machineIdPattern.test(machineId)) {
    throw new RpmgateError('bad_request', 'machineId must be 32 lowercase hexadecimal digits, as in /etc/machine-id');
  }
  if (typeof hostname !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(hostname)) {
    throw new RpmgateError('bad_request', 'hostname must be 1 to 253 letters, digits and . _ -');
  }
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`enroll:${machineId}`}, 0))`;
    const revoked = await revokeAgentTokensOf(tx, machineId);
    // createToken only runs one insert through what it is given, which a transaction does as well as the pool.
    const created = await createToken(tx as unknown as Sql, { role: 'agent', name: `agent@${hostname.slice(0, 60)}/${machineId}` }, principal);
    const row = (await findTokenByDigest(tx, digestToken(created.token)))!;
    await bindTokenToMachine(tx, row.id, machineId);
    await setHostToken(tx, machineId, row.id);
    return { ...created, machineId, replaced: revoked > 0 };
  });
}

export async function findHosts(sql: Sql, filter: HostFilter): Promise<{ total: number; hosts: HostRow[] }> {
  await resolvePendingAssignments(sql);
  const rows = await listHosts(sql, filter);
  return { total: rows[0]?.total ?? 0, hosts: rows };
}

export interface HostDetail {
  host: HostRow;
  conformance: Awaited<ReturnType<typeof hostConformance>>;
  history: { at: Date; kind: ChangeKind; from: PackageTuple | null; to: PackageTuple | null }[];
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
