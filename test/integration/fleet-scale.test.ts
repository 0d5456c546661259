// A simulated fleet of 1,000 hosts × ~1,500 packages reported through the HTTP API (each host enrolled
// for its own token), where every drift answer is checked against the truth the fleet was built with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNevra } from '../../common/rpm/nevra.ts';
import { createSetOf } from '../support/fleet.ts';
import { createFleetModel, type FleetHost } from '../support/fleet-model.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const hostCount = 1000;
const concurrency = 8;
const model = createFleetModel();
let server: TestServer;
const tokens: string[] = [];
/** What the tests check against, kept while the fleet is generated (regenerating would block the event loop). */
const truth: FleetHost['truth'][] = [];
const machineIds: string[] = [];
const distinctTuples = new Set<string>();
const usageName = 'rg-comp-15';
const usageTruth = new Map<string, number>();

interface Summary {
  machineId: string;
  hostname: string;
  set: string | null;
  status: string;
  counts: { missing: number; older: number; newer: number; different: number; foreign: number };
  packageCount: number;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Runs `work(i)` for i in [0, count) with a fixed number in flight. */
async function inParallel(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

beforeAll(async () => {
  server = await startTestServer();
  for (const set of model.sets) await createSetOf(server, set.name, set.version, set.members.map(formatNevra));
  const enrollment = await server.tokenFor('enrollment');
  await inParallel(hostCount, async (i) => {
    const host = model.host(i);
    const enrolled = await call(enrollment, 'POST', '/api/v1/hosts/enroll', { machineId: host.report.machineId, hostname: host.report.hostname });
    expect(enrolled.status).toBe(201);
    tokens[i] = enrolled.json.token;
  });
  const started = performance.now();
  await inParallel(hostCount, async (i) => {
    const host = model.host(i);
    truth[i] = host.truth;
    machineIds[i] = host.report.machineId;
    for (const p of host.report.packages) {
      const nevra = formatNevra(p);
      distinctTuples.add(nevra);
      if (p.name === usageName) usageTruth.set(nevra, (usageTruth.get(nevra) ?? 0) + 1);
    }
    const { status, json } = await call(tokens[i]!, 'POST', '/api/v1/hosts/report', host.report);
    expect(status, JSON.stringify(json)).toBe(201);
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(`fleet scale: ${hostCount} first reports in ${seconds.toFixed(1)} s (${(hostCount / seconds).toFixed(0)} reports/s)`);
}, 600_000);

afterAll(async () => {
  await server?.close();
});

describe(`a fleet of ${hostCount} hosts`, () => {
  it('stores each host once with its whole inventory, and each distinct package tuple once', async () => {
    const sql = server.database.sql;
    const [counts] = await sql<{ hosts: number; inventories: number; tuples: number; changes: number }[]>`
      select (select count(*)::int from hosts) as hosts, (select count(*)::int from host_inventories) as inventories,
             (select count(*)::int from package_tuples) as tuples, (select count(*)::int from host_changes) as changes`;
    expect(counts).toMatchObject({ hosts: hostCount, inventories: hostCount, changes: 0 });
    expect(counts!.tuples).toBe(distinctTuples.size);
    const [sizes] = await sql<{ min: number; max: number }[]>`select min(package_count) as min, max(package_count) as max from hosts`;
    expect(sizes!.min).toBeGreaterThanOrEqual(1490);
    expect(sizes!.max).toBeLessThanOrEqual(1510);
  });

  it('every host has the status and drift counts of its truth', async () => {
    const { json } = await call(server.adminToken, 'GET', '/api/v1/hosts?limit=100000');
    const byMachine = new Map((json.hosts as Summary[]).map((h) => [h.machineId, h]));
    expect(byMachine.size).toBe(hostCount);
    for (let i = 0; i < hostCount; i++) {
      const host = byMachine.get(machineIds[i]!)!;
      const t = truth[i]!;
      expect({ host: i, status: host.status, set: host.set }).toEqual({ host: i, status: t.status, set: t.set });
      expect({ host: i, ...host.counts }).toMatchObject({
        host: i,
        missing: t.missing.length,
        older: t.older.length,
        newer: t.newer.length,
        different: t.different.length,
        foreign: t.foreign,
      });
    }
  });

  it('GET /api/v1/hosts?drifting=true lists exactly the drifting hosts, per set too', async () => {
    const expected = (set: string | null) =>
      truth
        .map((t, i) => ({ t, id: machineIds[i]! }))
        .filter(({ t }) => t.status === 'drifting' && (set === null || t.set === set))
        .map(({ id }) => id)
        .sort();
    const started = performance.now();
    const all = await call(server.adminToken, 'GET', '/api/v1/hosts?drifting=true');
    const elapsed = performance.now() - started;
    expect((all.json.hosts as Summary[]).map((h) => h.machineId).sort()).toEqual(expected(null));
    expect(all.json.total).toBe(expected(null).length);
    expect(expected(null).length).toBeGreaterThan(200);
    console.log(`fleet scale: drifting query over ${hostCount} hosts answered in ${elapsed.toFixed(1)} ms`);
    for (const set of ['billing/1.0', 'billing/2.0']) {
      const { json } = await call(server.adminToken, 'GET', `/api/v1/hosts?drifting=true&set=${set}`);
      expect((json.hosts as Summary[]).map((h) => h.machineId).sort(), set).toEqual(expected(set));
    }
    const unknown = await call(server.adminToken, 'GET', '/api/v1/hosts?set=billing/0.9');
    expect(unknown.json.total).toBe(truth.filter((t) => t.status === 'unknown_set').length);
  });

  it('a set conformance view names exactly what drifts on each host', async () => {
    const { json } = await call(server.adminToken, 'GET', '/api/v1/sets/billing/1.0/conformance');
    const assigned = truth.map((t, i) => ({ t, i })).filter(({ t }) => t.set === 'billing/1.0');
    expect(json.summary.hosts).toBe(assigned.length);
    expect(json.summary.drifting).toBe(assigned.filter(({ t }) => t.status === 'drifting').length);
    const byMachine = new Map((json.hosts as any[]).map((h) => [h.machineId, h]));
    for (const { t, i } of assigned) {
      const drift = byMachine.get(machineIds[i]!).drift;
      expect({ host: i, missing: drift.missing, different: drift.different }).toEqual({ host: i, missing: t.missing, different: t.different });
      expect({ host: i, older: drift.older.map((m: any) => `${m.name}.${m.arch}`).sort() }).toEqual({ host: i, older: [...t.older].sort() });
      expect({ host: i, newer: drift.newer.map((m: any) => `${m.name}.${m.arch}`).sort() }).toEqual({ host: i, newer: [...t.newer].sort() });
    }
  });

  it('component usage counts the hosts on each version', async () => {
    const { json } = await call(server.adminToken, 'GET', `/api/v1/components/${usageName}/usage?limit=5`);
    expect(Object.fromEntries((json.versions as any[]).map((v) => [v.nevra, v.hostCount]))).toEqual(Object.fromEntries(usageTruth));
    expect(usageTruth.size).toBeGreaterThanOrEqual(2);
    expect((json.versions as any[]).every((v) => v.hosts.length === Math.min(5, v.hostCount))).toBe(true);
    expect((json.sets as any[]).map((s) => s.set).sort()).toEqual(['billing/1.0', 'billing/2.0']);
  });

  it('a second round: identical reports write no history, an OS update is exactly one "changed" event', async () => {
    const updated = (i: number) => i % 10 === 0;
    await inParallel(hostCount, async (i) => {
      const host = updated(i) ? model.updatedHost(i) : model.host(i);
      const { status, json } = await call(tokens[i]!, 'POST', '/api/v1/hosts/report', host.report);
      expect(status).toBe(200);
      expect(json.unchanged).toBe(!updated(i));
      expect(json.status).toBe(truth[i]!.status);
    });
    const rows = await server.database.sql<{ machine_id: string; kind: string; n: number }[]>`
      select h.machine_id, c.kind, count(*)::int as n from host_changes c join hosts h on h.id = c.host_id group by 1, 2`;
    expect(rows).toHaveLength(hostCount / 10);
    expect(rows.every((row) => row.kind === 'changed' && row.n === 1)).toBe(true);
  });
});
