// Authentication and role checks through the real HTTP server: every API route refuses requests
// without a token, unknown tokens and wrong roles, with application/problem+json. The table below is
// checked against the routes the application really has, so a new route cannot go untested.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../common/roles.ts';
import { createApp } from '../../server/http/app.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** Every API route: method, path, the roles the contract allows, and a body that gets past parsing. */
const apiRoutes: { method: string; path: string; roles: string[]; body?: string }[] = [
  { method: 'POST', path: '/api/v1/packages', roles: ['developer', 'integ', 'admin'] },
  { method: 'GET', path: '/api/v1/packages', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'GET', path: '/api/v1/packages/foo-1-1.noarch', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'POST', path: '/api/v1/sets', roles: ['integ', 'admin'] },
  { method: 'GET', path: '/api/v1/sets', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] },
  { method: 'GET', path: '/api/v1/sets/a/1', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] },
  // Who may promote depends on the level; qa_ready: integ and admin (the matrix is promotion.test.ts).
  { method: 'POST', path: '/api/v1/sets/a/1/promote', roles: ['integ', 'admin'], body: '{"level":"qa_ready"}' },
  { method: 'POST', path: '/api/v1/tokens', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/hosts/report', roles: ['agent'] },
  { method: 'POST', path: '/api/v1/hosts/enroll', roles: ['enrollment', 'admin'] },
  { method: 'GET', path: '/api/v1/hosts', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'GET', path: '/api/v1/hosts/0123456789abcdef0123456789abcdef', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'GET', path: '/api/v1/sets/a/1/conformance', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'GET', path: '/api/v1/components/foo/usage', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'GET', path: '/api/v1/keys', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'POST', path: '/api/v1/keys', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/keys/ABCDEF/activate', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/keys/ABCDEF/retire', roles: ['admin'] },
];

async function call(method: string, path: string, token?: string, body?: string): Promise<Response> {
  return fetch(server.url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: method === 'POST' ? (body ?? '{}') : undefined,
  });
}

describe('authentication', () => {
  it.each(apiRoutes)('$method $path without a token is 401 problem+json', async ({ method, path }) => {
    const response = await call(method, path);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 401, title: expect.any(String), detail: expect.any(String), type: expect.stringContaining('unauthorized') });
  });

  it.each(apiRoutes)('$method $path with an unknown token is 401', async ({ method, path }) => {
    const response = await call(method, path, 'rg_not-a-real-token');
    expect(response.status).toBe(401);
  });

  it.each(apiRoutes)('$method $path refuses every role the contract does not allow', async ({ method, path, roles: allowed, body }) => {
    const refused = roles.filter((role) => !allowed.includes(role));
    for (const role of refused) {
      const token = await server.tokenFor(role);
      const response = await call(method, path, token, body);
      expect(response.status, `${role} on ${method} ${path}`).toBe(403);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toContain(role);
    }
  });

  it('the table above names every API route the application has', () => {
    const app = createApp(server.server.context);
    const handlers = app.routes.filter((route) => route.path.startsWith('/api/v1/') && route.method !== 'ALL' && !route.path.endsWith('*'));
    const declared = [...new Set(handlers.map((route) => `${route.method} ${route.path}`))];
    expect(declared.length).toBeGreaterThan(10);
    for (const route of declared) {
      const [method, pattern] = route.split(' ') as [string, string];
      const matcher = new RegExp(`^${pattern.replace(/:[A-Za-z]+/g, '[^/]+').replace(/\/$/, '')}/?$`);
      expect(
        apiRoutes.some((entry) => entry.method === method && matcher.test(entry.path)),
        `${route} is not in the table: add it with the roles it allows`,
      ).toBe(true);
    }
  });

  it('a malformed Authorization header is 401, not a crash', async () => {
    const response = await fetch(`${server.url}/api/v1/sets`, { headers: { authorization: 'Bearer' } });
    expect(response.status).toBe(401);
  });
});

describe('tokens', () => {
  it('an admin creates a token that works for its role and is stored only as a digest', async () => {
    const { status, body } = await server.admin.post<{ token: string; role: string; name: string }>('/api/v1/tokens', {
      role: 'qa',
      name: 'qa-team',
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ role: 'qa', name: 'qa-team' });
    const listing = await call('GET', '/api/v1/sets', body.token);
    expect(listing.status).toBe(200);

    const rows = await server.database.sql<{ token_sha256: Buffer }[]>`select token_sha256 from tokens where name = 'qa-team'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_sha256.toString('hex')).toBe(createHash('sha256').update(body.token).digest('hex'));
    const plaintext = await server.database.sql`select 1 from tokens t where position(${body.token} in t::text) > 0`;
    expect(plaintext).toHaveLength(0);
  });

  it('refuses an unknown role and a bad name with 400', async () => {
    for (const body of [{ role: 'root', name: 'x' }, { role: 'qa', name: '' }, { role: 'qa', name: 'spaces are bad' }]) {
      const response = await call('POST', '/api/v1/tokens', server.adminToken, JSON.stringify(body));
      expect(response.status).toBe(400);
    }
  });

  it('refuses a body that is not JSON with 400', async () => {
    const response = await call('POST', '/api/v1/tokens', server.adminToken, '{not json');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/JSON/);
  });
});

describe('health', () => {
  it('answers 200 while the database answers', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
  });

  it('unknown paths are 404 problem documents', async () => {
    const response = await fetch(`${server.url}/api/v1/nothing-here`);
    expect(response.status).toBe(404);
  });
});
