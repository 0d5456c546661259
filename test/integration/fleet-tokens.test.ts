// Who may write a host's inventory: agent tokens bind to the first machine they report for, a host
// belongs to its token, and enrollment mints one bound agent token per host; only an admin replaces one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../common/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { machineId, report } from '../support/fleet.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const packages = ['bash-5.1.8-9.el9.x86_64', 'glibc-2.34-100.el9.x86_64'];

async function post(token: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(server.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('agent token binding', () => {
  it('binds an agent token to the first machine that reports with it; another machine is 403', async () => {
    const token = await server.tokenFor('agent');
    expect((await post(token, '/api/v1/hosts/report', report('bound-a', packages))).status).toBe(201);
    const [row] = await server.database.sql<{ machine_id: string }[]>`
      select machine_id from tokens where machine_id is not null and id = (select token_id from hosts where machine_id = ${machineId('bound-a')})`;
    expect(row!.machine_id).toBe(machineId('bound-a'));

    const other = await post(token, '/api/v1/hosts/report', report('bound-b', ['evil-1-1.x86_64']));
    expect(other.status).toBe(403);
    expect(other.body.detail).toContain(machineId('bound-a'));
    expect(await server.database.sql`select 1 from hosts where machine_id = ${machineId('bound-b')}`).toHaveLength(0);
    // The host's own reports still work.
    expect((await post(token, '/api/v1/hosts/report', report('bound-a', packages))).status).toBe(200);
  });

  it('a second unbound token cannot take over a host that reports with a live token', async () => {
    const owner = await server.tokenFor('agent');
    await post(owner, '/api/v1/hosts/report', report('owned', packages));
    const intruder = await server.tokenFor('agent');
    const attempt = await post(intruder, '/api/v1/hosts/report', report('owned', ['evil-1-1.x86_64']));
    expect(attempt.status).toBe(403);
    const { body } = await server.admin.get<{ packageCount: number }>(`/api/v1/hosts/${machineId('owned')}`);
    expect(body.packageCount).toBe(2);
    // The refused attempt left the intruder's token unbound.
    const [row] = await server.database.sql<{ n: number }[]>`select count(*)::int as n from tokens where machine_id = ${machineId('owned')}`;
    expect(row!.n).toBe(1);
  });

  it('only agents report: people get 403', async () => {
    for (const role of ['admin', 'developer', 'release_manager', 'enrollment'] as const) {
      const response = await post(await server.tokenFor(role), '/api/v1/hosts/report', report('people', packages));
      expect(response.status, role).toBe(403);
    }
  });

  it('agents do not read the fleet', async () => {
    const agent = await server.clientFor('agent');
    await expect(agent.get('/api/v1/hosts')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(agent.get('/api/v1/components/bash/usage')).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('POST /api/v1/hosts/enroll', () => {
  it('mints an agent token already bound to the machine', async () => {
    const enrollment = await server.tokenFor('enrollment');
    const { status, body } = await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('enrolled'), hostname: 'enrolled.example.com' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ role: 'agent', machineId: machineId('enrolled'), replaced: false, token: expect.stringMatching(/^rg_/) });
    const token = body.token as string;
    expect((await post(token, '/api/v1/hosts/report', report('other-machine', packages))).status).toBe(403);
    expect((await post(token, '/api/v1/hosts/report', report('enrolled', packages))).status).toBe(201);
  });

  it('refuses to enroll a machine that holds a live token: an enrollment token cannot take over a host', async () => {
    const enrollment = await server.tokenFor('enrollment');
    const first = (await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('taken'), hostname: 'taken' })).body.token as string;
    expect((await post(first, '/api/v1/hosts/report', report('taken', packages))).status).toBe(201);
    const again = await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('taken'), hostname: 'taken' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('replace');
    expect((await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('taken'), hostname: 'taken', replace: true })).status).toBe(403);
    // The host's own token still works, and its inventory is untouched.
    expect((await post(first, '/api/v1/hosts/report', report('taken', packages))).status).toBe(200);

    // A host that reported with a token from POST /api/v1/tokens is just as taken.
    const plain = await server.tokenFor('agent');
    expect((await post(plain, '/api/v1/hosts/report', report('plain', packages))).status).toBe(201);
    expect((await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('plain'), hostname: 'plain' })).status).toBe(409);
  });

  it('an enrolled host that has not reported yet cannot be claimed by another agent token', async () => {
    const enrollment = await server.tokenFor('enrollment');
    const enrolled = (await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('fresh'), hostname: 'fresh' })).body.token as string;
    const intruder = await server.tokenFor('agent');
    const attempt = await post(intruder, '/api/v1/hosts/report', report('fresh', ['evil-1-1.x86_64']));
    expect(attempt.status).toBe(403);
    expect(await server.database.sql`select 1 from hosts where machine_id = ${machineId('fresh')}`).toHaveLength(0);
    // The intruder's token stays unbound (it may still serve another, unclaimed machine).
    const [row] = await server.database.sql<{ n: number }[]>`select count(*)::int as n from tokens where machine_id = ${machineId('fresh')}`;
    expect(row!.n).toBe(1);
    expect((await post(enrolled, '/api/v1/hosts/report', report('fresh', packages))).status).toBe(201);
  });

  it('two tokens reporting a new machine at once: one owns it, the other is refused', async () => {
    const tokens = await Promise.all([server.tokenFor('agent'), server.tokenFor('agent'), server.tokenFor('agent'), server.tokenFor('agent')]);
    const statuses = await Promise.all(tokens.map(async (token) => (await post(token, '/api/v1/hosts/report', report('raced', packages))).status));
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 403)).toHaveLength(tokens.length - 1);
    const [row] = await server.database.sql<{ n: number }[]>`select count(*)::int as n from tokens where machine_id = ${machineId('raced')} and revoked_at is null`;
    expect(row!.n).toBe(1);
  });

  it('an admin replaces a host\'s token with replace: true; the earlier token is revoked and the host moves to the new one', async () => {
    const enrollment = await server.tokenFor('enrollment');
    const first = (await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('again'), hostname: 'again' })).body.token as string;
    expect((await post(first, '/api/v1/hosts/report', report('again', packages))).status).toBe(201);
    const second = await post(server.adminToken, '/api/v1/hosts/enroll', { machineId: machineId('again'), hostname: 'again', replace: true });
    expect(second.status).toBe(201);
    expect(second.body.replaced).toBe(true);
    expect((await post(first, '/api/v1/hosts/report', report('again', packages))).status).toBe(401);
    const fresh = await post(second.body.token as string, '/api/v1/hosts/report', report('again', [...packages, 'vim-9.0-1.x86_64']));
    expect(fresh.status).toBe(200);
    expect(fresh.body.changes).toEqual({ installed: 1, removed: 0, changed: 0 });
  });

  it('refuses a malformed machine id or hostname, and roles other than enrollment and admin', async () => {
    const enrollment = await server.tokenFor('enrollment');
    expect((await post(enrollment, '/api/v1/hosts/enroll', { machineId: 'x', hostname: 'h' })).status).toBe(400);
    expect((await post(enrollment, '/api/v1/hosts/enroll', { machineId: machineId('h'), hostname: 'bad host' })).status).toBe(400);
    for (const role of ['agent', 'developer', 'release_manager'] as const) {
      expect((await post(await server.tokenFor(role), '/api/v1/hosts/enroll', { machineId: machineId('h'), hostname: 'h' })).status, role).toBe(403);
    }
  });

  it('an enrollment token reads nothing else', async () => {
    const enrollment = new ApiClient({ server: server.url, token: await server.tokenFor('enrollment') });
    await expect(enrollment.get('/api/v1/hosts')).rejects.toMatchObject({ code: 'forbidden' });
  });
});
