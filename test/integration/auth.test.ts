// Authentication and role checks through the real HTTP server: every API route refuses requests
// without a token, unknown tokens and wrong roles, with application/problem+json. The table below is
// checked against the routes the application really has, so a new route cannot go untested.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../common/roles.ts';
import { createApp } from '../../server/http/app.ts';
import { consoleLogin, postLogin } from '../support/console.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** Every API route: method, path, the roles the contract allows, and a body that gets past parsing. */
/** API routes open to anyone: the API's description (its shape, no data). */
const publicApiRoutes: { method: string; path: string }[] = [{ method: 'GET', path: '/api/v1/openapi.json' }];

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
  { method: 'GET', path: '/api/v1/tokens', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/tokens/1/revoke', roles: ['admin'] },
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
  { method: 'POST', path: '/api/v1/exceptions', roles: ['integ', 'release_manager', 'admin'] },
  { method: 'GET', path: '/api/v1/exceptions', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'DELETE', path: '/api/v1/exceptions/1', roles: ['integ', 'release_manager', 'admin'] },
  { method: 'POST', path: '/api/v1/checks', roles: ['admin'] },
  { method: 'GET', path: '/api/v1/cleanup', roles: ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] },
  { method: 'POST', path: '/api/v1/cleanup/run', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/mirrors', roles: ['admin'] },
  { method: 'GET', path: '/api/v1/mirrors', roles: ['admin'] },
  { method: 'GET', path: '/api/v1/mirrors/up', roles: ['admin'] },
  { method: 'DELETE', path: '/api/v1/mirrors/up', roles: ['admin'] },
  { method: 'DELETE', path: '/api/v1/sets/gone/1', roles: ['admin'] },
  { method: 'DELETE', path: '/api/v1/packages/gone-1-1.noarch', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/mirrors/up/sync', roles: ['admin'] },
  { method: 'POST', path: '/api/v1/mirrors/fetch', roles: ['admin'], body: '{"packages":["foo-1-1.noarch"]}' },
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
        [...apiRoutes, ...publicApiRoutes].some((entry) => entry.method === method && matcher.test(entry.path)),
        `${route} is not in the table: add it with the roles it allows`,
      ).toBe(true);
    }
  });

  it.each(publicApiRoutes)('$method $path answers without a token', async ({ method, path }) => {
    const response = await call(method, path);
    expect(response.status).toBe(200);
  });

  it('a malformed Authorization header is 401, not a crash', async () => {
    const response = await fetch(`${server.url}/api/v1/sets`, { headers: { authorization: 'Bearer' } });
    expect(response.status).toBe(401);
  });
});

/**
 * Every web console route: public (the log-in form, the digest-named assets) or behind a session.
 * The console takes no bearer token: a session comes only from logging in.
 */
const consoleRoutes: { method: string; path: string; access: 'public' | 'session' }[] = [
  { method: 'GET', path: '/ui/login', access: 'public' },
  { method: 'POST', path: '/ui/login', access: 'public' },
  { method: 'GET', path: '/ui/assets/console.0.css', access: 'public' },
  { method: 'POST', path: '/ui/logout', access: 'session' },
  { method: 'GET', path: '/ui', access: 'session' },
  { method: 'GET', path: '/ui/sets', access: 'session' },
  { method: 'GET', path: '/ui/sets/a/1', access: 'session' },
  { method: 'POST', path: '/ui/sets/a/1/promote', access: 'session' },
  { method: 'GET', path: '/ui/components', access: 'session' },
  { method: 'GET', path: '/ui/components/foo', access: 'session' },
  { method: 'GET', path: '/ui/hosts', access: 'session' },
  { method: 'GET', path: '/ui/hosts/0123456789abcdef0123456789abcdef', access: 'session' },
  { method: 'GET', path: '/ui/exceptions', access: 'session' },
  { method: 'POST', path: '/ui/exceptions', access: 'session' },
  { method: 'POST', path: '/ui/exceptions/1/remove', access: 'session' },
  { method: 'GET', path: '/ui/cleanup', access: 'session' },
];
const sessionRoutes = consoleRoutes.filter((route) => route.access === 'session');
const peopleRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;

describe('web console access', () => {
  it.each(sessionRoutes)('$method $path without a session: a page goes to log-in, a form is refused', async ({ method, path }) => {
    // A valid bearer token is no session: the console reads only its own cookie.
    const response = await fetch(server.url + path, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${server.adminToken}`, cookie: 'rpmgate_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'content-type': 'application/x-www-form-urlencoded' },
      body: method === 'POST' ? 'csrf=x' : undefined,
    });
    if (method === 'GET') {
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(`/ui/login?next=${encodeURIComponent(path)}`);
    } else {
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('text/html');
    }
  });

  it('every role of a person logs in and reads every page; host tokens cannot log in', async () => {
    for (const role of peopleRoles) {
      const login = await consoleLogin(server.url, await server.tokenFor(role));
      for (const { path } of sessionRoutes.filter((route) => route.method === 'GET')) {
        const response = await fetch(server.url + path, { headers: { cookie: login.cookie }, redirect: 'manual' });
        // 404: the set, component or host named does not exist, which only a logged-in person learns.
        expect([200, 404], `${role} on ${path}`).toContain(response.status);
        expect(response.headers.get('content-type')).toContain('text/html');
      }
    }
    for (const role of ['agent', 'enrollment'] as const) {
      const response = await postLogin(server.url, await server.tokenFor(role));
      expect(response.status, role).toBe(403);
      expect(response.headers.getSetCookie().some((line) => line.startsWith('rpmgate_session='))).toBe(false);
    }
  });

  it('the table above names every console route the application has', () => {
    const app = createApp(server.server.context);
    const handlers = app.routes.filter((route) => (route.path === '/ui' || route.path.startsWith('/ui/')) && route.method !== 'ALL' && !route.path.endsWith('*'));
    const declared = [...new Set(handlers.map((route) => `${route.method} ${route.path}`))];
    expect(declared.length).toBeGreaterThan(10);
    for (const route of declared) {
      const [method, pattern] = route.split(' ') as [string, string];
      const matcher = new RegExp(`^${pattern.replace(/:[A-Za-z]+/g, '[^/]+').replace(/\/$/, '')}/?$`);
      expect(
        consoleRoutes.some((entry) => entry.method === method && matcher.test(entry.path)),
        `${route} is not in the console table: add it as public or session`,
      ).toBe(true);
    }
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
