// Inventory reports through the real HTTP API: the host, its inventory and its history as stored,
// identical reports costing one update, and malformed reports refused whole with nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpmgateError } from '../../common/errors.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { agentClient, machineId, report } from '../support/fleet.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const base = ['bash-5.1.8-9.el9.x86_64', 'glibc-2.34-100.el9.x86_64', 'tzdata-2024a-1.el9.noarch', 'openssl-libs-1:3.0.7-27.el9.x86_64'];

interface HostDocument {
  machineId: string;
  hostname: string;
  status: string;
  packageCount: number;
  reports: number;
  unchanged?: boolean;
  changes?: { installed: number; removed: number; changed: number };
  history: { kind: string; from: string | null; to: string | null; at: string }[];
  packages?: string[];
}

describe('POST /api/v1/hosts/report', () => {
  it('creates the host with its inventory and answers its summary', async () => {
    const agent = await agentClient(server);
    const { status, body } = await agent.post<HostDocument>('/api/v1/hosts/report', report('first', base));
    expect(status).toBe(201);
    expect(body).toMatchObject({ machineId: machineId('first'), hostname: 'first.example.com', status: 'no_set', packageCount: 4, reports: 1 });

    const { body: host } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('first')}?packages=true`);
    expect(host.packages).toEqual([...base].sort());
    expect(host.history).toEqual([]);
  });

  it('records a changed package as exactly one "changed" event, and installs and removals as such', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('changes', base));
    const second = ['bash-5.1.8-9.el9.x86_64', 'glibc-2.34-105.el9.x86_64', 'tzdata-2024a-1.el9.noarch', 'openssl-libs-1:3.0.7-27.el9.x86_64'];
    const response = await agent.post<HostDocument>('/api/v1/hosts/report', report('changes', second));
    let body = response.body;
    expect(response.status).toBe(200);
    expect(body.changes).toEqual({ installed: 0, removed: 0, changed: 1 });
    let { body: host } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('changes')}`);
    expect(host.history.map(({ kind, from, to }) => ({ kind, from, to }))).toEqual([
      { kind: 'changed', from: 'glibc-2.34-100.el9.x86_64', to: 'glibc-2.34-105.el9.x86_64' },
    ]);

    const third = [...second.filter((p) => !p.startsWith('tzdata')), 'vim-minimal-2:8.2.2637-20.el9.x86_64'];
    ({ body } = await agent.post<HostDocument>('/api/v1/hosts/report', report('changes', third)));
    expect(body.changes).toEqual({ installed: 1, removed: 1, changed: 0 });
    ({ body: host } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('changes')}`));
    expect(host.history.slice(0, 2).map(({ kind, from, to }) => ({ kind, from, to })).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { kind: 'installed', from: null, to: 'vim-minimal-2:8.2.2637-20.el9.x86_64' },
      { kind: 'removed', from: 'tzdata-2024a-1.el9.noarch', to: null },
    ]);
    expect(host.history).toHaveLength(3);
  });

  it('dates changes by X-Rpmgate-Collected-At (a report delivered late from a spool), never in the future', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('late', base));
    const collectedAt = '2026-01-15T08:30:00.000Z';
    const changed = [...base, 'vim-minimal-2:8.2.2637-20.el9.x86_64'];
    await agent.post('/api/v1/hosts/report', report('late', changed), { headers: { 'x-rpmgate-collected-at': collectedAt } });
    let { body: host } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('late')}`);
    expect(host.history).toEqual([expect.objectContaining({ kind: 'installed', at: collectedAt })]);

    // A clock ahead of the server's is not believed.
    const before = Date.now();
    await agent.post('/api/v1/hosts/report', report('late', base), { headers: { 'x-rpmgate-collected-at': '2099-01-01T00:00:00Z' } });
    ({ body: host } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('late')}`));
    const removal = host.history.find((change) => change.kind === 'removed')!;
    expect(Date.parse(removal.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(removal.at)).toBeLessThanOrEqual(Date.now());

    const bad = await agent.request('POST', '/api/v1/hosts/report', {
      json: report('late', changed),
      headers: { 'x-rpmgate-collected-at': 'yesterday' },
      accept: [400],
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { detail: string }).detail).toContain('X-Rpmgate-Collected-At');
  });

  it('an identical report (in any order) changes nothing but the report time and count', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('same', base));
    const sql = server.database.sql;
    const [before] = await sql<{ last_report_at: Date; inventory: number[] }[]>`
      select h.last_report_at, i.tuple_ids as inventory from hosts h join host_inventories i on i.host_id = h.id
      where machine_id = ${machineId('same')}`;
    const tuplesBefore = (await sql`select count(*)::int as n from package_tuples`)[0]!.n as number;
    const { body } = await agent.post<HostDocument>('/api/v1/hosts/report', report('same', [...base].reverse()));
    expect(body).toMatchObject({ unchanged: true, reports: 2, changes: { installed: 0, removed: 0, changed: 0 } });
    const [after] = await sql<{ last_report_at: Date; inventory: number[]; changes: number }[]>`
      select h.last_report_at, i.tuple_ids as inventory, (select count(*)::int from host_changes c where c.host_id = h.id) as changes
      from hosts h join host_inventories i on i.host_id = h.id where machine_id = ${machineId('same')}`;
    expect(after!.inventory).toEqual(before!.inventory);
    expect(after!.changes).toBe(0);
    expect(after!.last_report_at.getTime()).toBeGreaterThanOrEqual(before!.last_report_at.getTime());
    expect((await sql`select count(*)::int as n from package_tuples`)[0]!.n).toBe(tuplesBefore);
  });

  it('the same packages with a new hostname, or under another set, update the host but not its history', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('renamed', base));
    let { body } = await agent.post<HostDocument & { set: string | null }>(
      '/api/v1/hosts/report',
      { ...report('renamed', base), hostname: 'renamed-again.example.com', reportId: 'r-2' },
    );
    expect(body).toMatchObject({ unchanged: true, hostname: 'renamed-again.example.com', status: 'no_set' });
    ({ body } = await agent.post<HostDocument & { set: string | null }>('/api/v1/hosts/report', report('renamed', base, { set: 'nowhere/1.0' })));
    expect(body).toMatchObject({ unchanged: true, status: 'unknown_set', set: 'nowhere/1.0' });
    const { body: host } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('renamed')}`);
    expect(host.history).toEqual([]);
  });

  it('stores an inventory as sorted distinct tuple ids, each tuple once for the whole fleet', async () => {
    const a = await agentClient(server);
    const b = await agentClient(server);
    await a.post('/api/v1/hosts/report', report('share-a', [...base, base[0]!]));
    await b.post('/api/v1/hosts/report', report('share-b', base));
    const rows = await server.database.sql<{ tuple_ids: number[] }[]>`
      select i.tuple_ids from host_inventories i join hosts h on h.id = i.host_id
      where h.machine_id in (${machineId('share-a')}, ${machineId('share-b')})`;
    expect(rows).toHaveLength(2);
    expect(rows[0]!.tuple_ids).toEqual(rows[1]!.tuple_ids);
    expect(rows[0]!.tuple_ids).toEqual([...rows[0]!.tuple_ids].sort((x, y) => x - y));
    expect(new Set(rows[0]!.tuple_ids).size).toBe(4);
    const [{ n }] = (await server.database.sql`select count(*)::int as n from package_tuples where name = 'bash'`) as unknown as [{ n: number }];
    expect(n).toBe(1);
  });

  it('treats an absent epoch and epoch 0 as the same package', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('epoch', [{ name: 'zlib', epoch: null, version: '1.2.11', release: '40.el9', arch: 'x86_64' }]));
    const { body } = await agent.post<HostDocument>(
      '/api/v1/hosts/report',
      report('epoch', [{ name: 'zlib', epoch: 0, version: '1.2.11', release: '40.el9', arch: 'x86_64' }]),
    );
    expect(body.unchanged).toBe(true);
  });

  it('an empty inventory is a valid report, and emptying records every removal', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('empty', base));
    const { body } = await agent.post<HostDocument>('/api/v1/hosts/report', report('empty', []));
    expect(body.changes).toEqual({ installed: 0, removed: 4, changed: 0 });
    expect(body.packageCount).toBe(0);
  });
});

describe('concurrent reports of one host', () => {
  it('first reports racing each other make one host', async () => {
    const token = await server.tokenFor('agent');
    const send = () =>
      fetch(`${server.url}/api/v1/hosts/report`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(report('racing', base)),
      });
    const statuses = (await Promise.all(Array.from({ length: 6 }, send))).map((r) => r.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    const rows = await server.database.sql<{ report_count: number }[]>`select report_count from hosts where machine_id = ${machineId('racing')}`;
    expect(rows).toEqual([{ report_count: 6 }]);
  });

  it('changed reports racing each other leave an unbroken chain of history', async () => {
    const agent = await agentClient(server);
    await agent.post('/api/v1/hosts/report', report('chain', [...base, 'app-1-1.x86_64']));
    await Promise.all(Array.from({ length: 8 }, (_, i) => agent.post('/api/v1/hosts/report', report('chain', [...base, `app-${i + 2}-1.x86_64`]))));
    const { body } = await server.admin.get<HostDocument>(`/api/v1/hosts/${machineId('chain')}?packages=true`);
    const history = [...body.history].reverse();
    expect(history).toHaveLength(8);
    expect(history.every((change) => change.kind === 'changed')).toBe(true);
    expect(history[0]!.from).toBe('app-1-1.x86_64');
    for (let i = 1; i < history.length; i++) expect(history[i]!.from).toBe(history[i - 1]!.to);
    expect(body.packages).toContain(history.at(-1)!.to);
  });
});

describe('malformed reports', () => {
  const valid = () => report('malformed', base) as unknown as Record<string, unknown>;
  const cases: [string, (body: Record<string, unknown>) => unknown][] = [
    ['machineId not 32 hex digits', (b) => ({ ...b, machineId: 'ABC' })],
    ['machineId missing', ({ machineId: _m, ...b }) => b],
    ['hostname with a space', (b) => ({ ...b, hostname: 'a host' })],
    ['hostname too long', (b) => ({ ...b, hostname: 'a'.repeat(300) })],
    ['os not a string', (b) => ({ ...b, os: 7 })],
    ['arch with a slash', (b) => ({ ...b, arch: 'x86/64' })],
    ['set not NAME/VERSION', (b) => ({ ...b, set: 'billing' })],
    ['packages not a list', (b) => ({ ...b, packages: {} })],
    ['a package without a version', (b) => ({ ...b, packages: [{ name: 'a', epoch: null, release: '1', arch: 'x86_64' }] })],
    ['a package with a negative epoch', (b) => ({ ...b, packages: [{ name: 'a', epoch: -1, version: '1', release: '1', arch: 'x86_64' }] })],
    ['a package name with a control character', (b) => ({ ...b, packages: [{ name: 'a\u0001', epoch: null, version: '1', release: '1', arch: 'x86_64' }] })],
    ['a package that is a string', (b) => ({ ...b, packages: ['bash-5.1-1.x86_64'] })],
    ['too many packages', (b) => ({ ...b, packages: Array.from({ length: 100_001 }, (_, i) => ({ name: `p${i}`, epoch: null, version: '1', release: '1', arch: 'x86_64' })) })],
    ['a JSON array', () => []],
  ];

  it.each(cases)('%s: 400 problem+json, nothing written, the token stays unbound', async (_what, mutate) => {
    const token = await server.tokenFor('agent');
    const response = await fetch(`${server.url}/api/v1/hosts/report`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(mutate(valid())),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { status: number; detail: string; type: string };
    expect(problem.status).toBe(400);
    expect(problem.detail.length).toBeGreaterThan(5);
    const sql = server.database.sql;
    expect(await sql`select 1 from hosts where machine_id = ${machineId('malformed')}`).toHaveLength(0);
    const [row] = await sql<{ machine_id: string | null }[]>`select machine_id from tokens where role = 'agent' order by id desc limit 1`;
    expect(row!.machine_id).toBeNull();
  });

  it('a body that is not JSON is 400', async () => {
    const token = await server.tokenFor('agent');
    const response = await fetch(`${server.url}/api/v1/hosts/report`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"hostname": ',
    });
    expect(response.status).toBe(400);
  });

  it('a body over the size limit is 413', async () => {
    const token = await server.tokenFor('agent');
    const response = await fetch(`${server.url}/api/v1/hosts/report`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...valid(), os: 'x'.repeat(40 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
  });

  it('the report of an unknown host is 404 to readers', async () => {
    await expect(server.admin.get(`/api/v1/hosts/${machineId('nobody')}`)).rejects.toThrow(RpmgateError);
    await expect(server.admin.get(`/api/v1/hosts/${machineId('nobody')}`)).rejects.toMatchObject({ code: 'not_found' });
  });
});
