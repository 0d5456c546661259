// Conformance through the real HTTP API and CLI: the rules (missing, older, newer, different, foreign,
// strict, arches), the drift queries, a set's conformance view, component usage, and hosts whose set
// appears after they reported or disappears under them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSummaryView } from '../../server/http/routes/hosts.ts';
import { findHostsPage } from '../../server/services/fleet-listings.ts';
import { rpmgate } from '../support/cli.ts';
import { agentClient, createSetOf, machineId, report, tuple } from '../support/fleet.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;

interface Summary {
  machineId: string;
  hostname: string;
  set: string | null;
  setKnown: boolean;
  status: string;
  conforming: boolean | null;
  counts: Record<string, number>;
}
interface Detail extends Summary {
  conformance: {
    conforming: boolean;
    counts: Record<string, number>;
    missing: string[];
    older: { name: string; arch: string; expected: string; installed: string }[];
    newer: { name: string; arch: string; expected: string; installed: string }[];
    different: string[];
    foreign: string[];
  } | null;
}

const setMembers = ['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64', 'libfoo-1.5-3.i686', 'tool-1.0-1.aarch64'];
const os = ['bash-5.1.8-9.el9.x86_64', 'glibc-2.34-100.el9.x86_64', 'tzdata-2024a-1.el9.noarch'];
const exact = ['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64'];
const without = (list: string[], name: string) => list.filter((nevra) => tuple(nevra).name !== name);

/** Each host: its report and the verdict the rules give. */
const hosts: { label: string; packages: string[]; arch?: string; set?: string | null; status: string; counts?: Record<string, number> }[] = [
  { label: 'good', packages: [...exact, ...os], status: 'conforming', counts: { expected: 3, matched: 3, foreign: 3 } },
  { label: 'good-multilib', packages: [...exact, 'libfoo-1.5-3.i686', ...os], status: 'conforming', counts: { expected: 4, matched: 4 } },
  { label: 'missing', packages: [...without(exact, 'libfoo'), ...os], status: 'drifting', counts: { missing: 1, older: 0, newer: 0, different: 0 } },
  { label: 'older', packages: [...without(exact, 'app'), 'app-1.9-4.x86_64', ...os], status: 'drifting', counts: { missing: 0, older: 1, newer: 0, different: 0 } },
  { label: 'newer', packages: [...without(exact, 'app-common'), 'app-common-2.1-1.noarch', ...os], status: 'drifting', counts: { missing: 0, older: 0, newer: 1, different: 0 } },
  { label: 'different', packages: [...exact, 'app-1.8-1.x86_64', ...os], status: 'drifting', counts: { missing: 0, older: 0, newer: 0, different: 1 } },
  { label: 'multilib-old', packages: [...exact, 'libfoo-1.4-1.i686', ...os], status: 'drifting', counts: { expected: 4, missing: 0, older: 1, newer: 0, different: 0 } },
  { label: 'arm', arch: 'aarch64', packages: ['app-common-2.0-1.noarch', 'tool-1.0-1.aarch64', 'bash-5.1.8-9.el9.aarch64'], status: 'conforming', counts: { expected: 2 } },
  { label: 'unassigned', set: null, packages: os, status: 'no_set' },
  { label: 'future', set: 'billing/9.0', packages: [...exact, ...os], status: 'unknown_set' },
];
const drifting = hosts.filter((h) => h.status === 'drifting').map((h) => machineId(h.label)).sort();

beforeAll(async () => {
  server = await startTestServer();
  await createSetOf(server, 'billing', '1.0', setMembers);
  for (const host of hosts) {
    const agent = await agentClient(server);
    const set = host.set === undefined ? 'billing/1.0' : host.set;
    await agent.post('/api/v1/hosts/report', report(host.label, host.packages, { arch: host.arch ?? 'x86_64', ...(set ? { set } : {}) }));
  }
});
afterAll(async () => {
  await server?.close();
});

describe('conformance rules', () => {
  it.each(hosts)('$label is $status', async ({ label, status, counts }) => {
    const { body } = await server.admin.get<Detail>(`/api/v1/hosts/${machineId(label)}`);
    expect(body.status).toBe(status);
    if (counts) expect(body.counts).toMatchObject(counts);
    if (body.conformance) expect(body.conformance.counts).toMatchObject(counts ?? {});
  });

  it('details name what drifts', async () => {
    const get = async (label: string) => (await server.admin.get<Detail>(`/api/v1/hosts/${machineId(label)}`)).body.conformance!;
    expect((await get('missing')).missing).toEqual(['libfoo-1.5-3.x86_64']);
    expect((await get('older')).older).toEqual([{ name: 'app', arch: 'x86_64', expected: '2.0-1', installed: '1.9-4' }]);
    expect((await get('newer')).newer).toEqual([{ name: 'app-common', arch: 'noarch', expected: '2.0-1', installed: '2.1-1' }]);
    expect((await get('different')).different).toEqual(['app-1.8-1.x86_64']);
    expect((await get('good')).foreign).toEqual(os);
  });

  it('strict counts foreign packages as drift', async () => {
    const { body } = await server.admin.get<Detail>(`/api/v1/hosts/${machineId('good')}?strict=true`);
    expect(body.status).toBe('drifting');
    expect(body.conformance!.conforming).toBe(false);
  });

  it('the report itself answers the conformance summary', async () => {
    const agent = await agentClient(server);
    const { body } = await agent.post<Summary & { drift: { older: unknown[] } }>(
      '/api/v1/hosts/report',
      report('answer', [...without(exact, 'app'), 'app-1.9-4.x86_64'], { set: 'billing/1.0' }),
    );
    expect(body).toMatchObject({ status: 'drifting', conforming: false, counts: { older: 1 }, set: 'billing/1.0', setKnown: true });
    expect(body.drift.older).toHaveLength(1);
  });
});

describe('drift queries', () => {
  it('GET /api/v1/hosts?drifting=true lists exactly the drifting hosts', async () => {
    const { body } = await server.admin.get<{ total: number; hosts: Summary[] }>('/api/v1/hosts?drifting=true&set=billing/1.0');
    // 'answer' reported (older) in the tests above.
    expect(body.hosts.map((h) => h.machineId).sort()).toEqual([...drifting, machineId('answer')].sort());
    expect(body.total).toBe(drifting.length + 1);
  });

  it('?set= lists every host assigned to the set, ?strict=true adds hosts with foreign packages', async () => {
    const all = (await server.admin.get<{ hosts: Summary[] }>('/api/v1/hosts?set=billing/1.0')).body.hosts;
    expect(all.map((h) => h.hostname).sort()).toEqual(hosts.filter((h) => h.set === undefined).map((h) => `${h.label}.example.com`).concat('answer.example.com').sort());
    const strict = (await server.admin.get<{ hosts: Summary[] }>('/api/v1/hosts?set=billing/1.0&drifting=true&strict=true')).body.hosts;
    expect(strict.length).toBe(all.length);
  });

  it('lists each host exactly as hostSummaryView shows its stored summary, plain and strict, in name order', async () => {
    const stored = await findHostsPage(server.database.sql, { setRef: null, drifting: false, staleDays: null, search: null, limit: 1000, offset: 0 });
    expect(stored.hosts.length).toBeGreaterThanOrEqual(hosts.length);
    for (const strict of [false, true]) {
      const { body } = await server.admin.get<{ total: number; hosts: Summary[] }>(`/api/v1/hosts?strict=${strict}`);
      expect(body.total).toBe(stored.total);
      expect(body.hosts, `strict=${strict}`).toEqual(stored.hosts.map((row) => hostSummaryView(row, strict)));
    }
    // The times to the millisecond, in UTC (PostgreSQL keeps microseconds).
    const { body } = await server.admin.get<{ hosts: { lastReportAt: string }[] }>('/api/v1/hosts?limit=1');
    expect(body.hosts[0]!.lastReportAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('refuses a malformed filter with 400', async () => {
    await expect(server.admin.get('/api/v1/hosts?set=billing')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(server.admin.get('/api/v1/hosts?drifting=maybe')).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('GET /api/v1/sets/{name}/{version}/conformance: every host of the set and how it drifts', async () => {
    const developer = await server.clientFor('developer');
    const { body } = await developer.get<{ set: string; summary: Record<string, number>; hosts: (Summary & { drift: Record<string, unknown[]> })[] }>(
      '/api/v1/sets/billing/1.0/conformance',
    );
    expect(body.set).toBe('billing/1.0');
    expect(body.summary.drifting).toBe(drifting.length + 1);
    const missing = body.hosts.find((h) => h.machineId === machineId('missing'))!;
    expect(missing.drift.missing).toEqual(['libfoo-1.5-3.x86_64']);
    // The set router still answers its own paths beside this one.
    expect((await developer.get<{ id: string }>('/api/v1/sets/billing/1.0')).body.id).toBe('billing/1.0');
    await expect(developer.get('/api/v1/sets/billing/2.0/conformance')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('sets that appear and disappear', () => {
  it('a host that reported an unknown set is judged once the set exists', async () => {
    let { body } = await server.admin.get<Summary>(`/api/v1/hosts/${machineId('future')}`);
    expect(body).toMatchObject({ status: 'unknown_set', set: 'billing/9.0', setKnown: false });
    await createSetOf(server, 'billing', '9.0', ['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64']);
    const listed = (await server.admin.get<{ hosts: Summary[] }>('/api/v1/hosts?set=billing/9.0')).body.hosts;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ status: 'conforming', setKnown: true });
    ({ body } = await server.admin.get<Summary>(`/api/v1/hosts/${machineId('future')}`));
    expect(body.status).toBe('conforming');
  });

  it('a host whose set is deleted reads as unknown_set, not with stale conformance', async () => {
    await createSetOf(server, 'gone', '1.0', ['app-2.0-1.x86_64']);
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('orphan', ['app-1.0-1.x86_64'], { set: 'gone/1.0' }));
    expect((await server.admin.get<Summary>(`/api/v1/hosts/${machineId('orphan')}`)).body.status).toBe('drifting');
    await server.database.sql`delete from package_sets where name = 'gone'`;
    const { body } = await server.admin.get<Summary>(`/api/v1/hosts/${machineId('orphan')}`);
    expect(body).toMatchObject({ status: 'unknown_set', setKnown: false, counts: { missing: 0, older: 0 } });
  });
});

describe('GET /api/v1/components/{name}/usage', () => {
  it('groups hosts by the version they run and lists the sets holding the name with their levels', async () => {
    await server.admin.post('/api/v1/sets/billing/1.0/promote', { level: 'qa_ready' });
    const qa = await server.clientFor('qa');
    const { body } = await qa.get<{
      hostCount: number;
      versions: { nevra: string; hostCount: number; hosts: { hostname: string }[] }[];
      sets: { set: string; level: string; nevra: string; hostCount: number }[];
    }>('/api/v1/components/app/usage');
    const counts = Object.fromEntries(body.versions.map((v) => [v.nevra, v.hostCount]));
    // app-2.0-1: good, good-multilib, missing, newer, different, multilib-old, future, and 'answer' runs 1.9-4.
    expect(counts).toEqual({ 'app-2.0-1.x86_64': 7, 'app-1.9-4.x86_64': 2, 'app-1.8-1.x86_64': 1, 'app-1.0-1.x86_64': 1 });
    expect(body.versions[0]!.nevra).toBe('app-2.0-1.x86_64');
    expect(body.versions.find((v) => v.nevra === 'app-1.8-1.x86_64')!.hosts.map((h) => h.hostname)).toEqual(['different.example.com']);
    expect(body.sets.map((s) => [s.set, s.level, s.nevra])).toEqual([
      ['billing/1.0', 'qa_ready', 'app-2.0-1.x86_64'],
      ['billing/9.0', 'integ', 'app-2.0-1.x86_64'],
    ]);
    expect(body.hostCount).toBe(10);
    expect(body.sets[0]!.hostCount).toBe(9);
  });

  it('a name nobody runs and no set holds is an empty answer', async () => {
    const { body } = await server.admin.get<{ versions: unknown[]; sets: unknown[] }>('/api/v1/components/nothing-here/usage');
    expect(body).toMatchObject({ versions: [], sets: [] });
  });
});

describe('CLI', () => {
  it('rpmgate hosts --drifting prints a table of the drifting hosts; --json the documents', async () => {
    const token = await server.tokenFor('release_manager');
    const human = await rpmgate(server, token, ['hosts', '--set', 'billing/1.0', '--drifting']);
    // Drifting hosts are the answer "no": exit 1, with the count on stderr.
    expect(human.code, human.stderr).toBe(1);
    expect(human.stderr.trim()).toMatch(/^rpmgate: \d+ host\(s\) drift from their set$/);
    expect(human.stdout).toMatch(/^HOSTNAME\s+MACHINE-ID\s+SET\s+STATUS/);
    expect(human.stdout).toContain('missing.example.com');
    expect(human.stdout).not.toContain('good.example.com');
    const json = await rpmgate(server, token, ['--json', 'hosts', '--drifting', '--set', 'billing/1.0']);
    const parsed = JSON.parse(json.stdout) as { hosts: Summary[] };
    expect(parsed.hosts.map((h) => h.machineId).sort()).toEqual([...drifting, machineId('answer')].sort());
    expect(json.code).toBe(1);
    // A set no host drifts from: exit 0. A set that does not exist is an error, not an empty answer.
    await createSetOf(server, 'quiet', '1.0', ['app-2.0-1.x86_64']);
    const none = await rpmgate(server, token, ['hosts', '--set', 'quiet/1.0', '--drifting']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout.trim()).toBe('no drifting hosts');
    const unknown = await rpmgate(server, token, ['hosts', '--set', 'billing/2.0', '--drifting']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('rpmgate: no package set billing/2.0');
  });

  it('rpmgate usage NAME prints versions with host counts and the sets holding it', async () => {
    const token = await server.tokenFor('cpe');
    const result = await rpmgate(server, token, ['usage', 'app']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/app runs on 10 host\(s\)/);
    expect(result.stdout).toMatch(/2\.0-1\s+x86_64\s+7/);
    expect(result.stdout).toMatch(/billing\/1\.0\s+qa_ready\s+app-2\.0-1\.x86_64/);
  });

  it('a malformed set reference is a usage error (exit 2)', async () => {
    const result = await rpmgate(server, await server.tokenFor('qa'), ['hosts', '--set', 'billing']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/NAME\/VERSION/);
  });
});
