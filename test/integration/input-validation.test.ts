// Bad input through the real HTTP server is a 400 problem naming the field, never a 500, and changes
// nothing: every API route declares its path parameters, query and body with schemas, and the tests
// below are generated from those declarations (wrong types, missing fields, unknown fields, NUL
// characters, invalid UTF-8). The table of example requests is checked against the app's routes, so
// a route added without a schema, or without an example here, fails.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parseHostReport } from '../../common/host-report.ts';
import type { Role } from '../../common/roles.ts';
import { createApp } from '../../server/http/app.ts';
import { reportBody } from '../../server/http/schemas/hosts.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { machineId, report } from '../support/fleet.ts';

let server: TestServer;
const tokens = new Map<Role, string>();

beforeAll(async () => {
  server = await startTestServer();
  for (const role of ['admin', 'agent'] as const) tokens.set(role, await server.tokenFor(role));
});
afterAll(async () => {
  await server?.close();
});

interface Example {
  /** A concrete path of the route (parameters filled in). */
  path: string;
  /** Who sends it: a role the route allows, so that what is refused is the input. */
  role: Role;
  /** A body the route accepts (not sent as is: the tests send variations of it). */
  body?: Record<string, unknown>;
}

/** One example per API route, keyed as the app lists its routes. */
const examples: Record<string, Example> = {
  'GET /api/v1/openapi.json': { path: '/api/v1/openapi.json', role: 'admin' },
  'POST /api/v1/packages': { path: '/api/v1/packages', role: 'admin' },
  'GET /api/v1/packages': { path: '/api/v1/packages', role: 'admin' },
  'GET /api/v1/packages/:nevra': { path: '/api/v1/packages/foo-1-1.noarch', role: 'admin' },
  'DELETE /api/v1/packages/:nevra': { path: '/api/v1/packages/foo-1-1.noarch', role: 'admin' },
  'POST /api/v1/sets': {
    path: '/api/v1/sets',
    role: 'admin',
    body: { name: 'refused', version: '1.0', packages: ['foo-1-1.noarch'], description: 'd', resolve: true, allowUnresolved: false, noSources: false },
  },
  'GET /api/v1/sets': { path: '/api/v1/sets', role: 'admin' },
  'GET /api/v1/sets/:name/:version': { path: '/api/v1/sets/a/1', role: 'admin' },
  'DELETE /api/v1/sets/:name/:version': { path: '/api/v1/sets/a/1', role: 'admin' },
  'POST /api/v1/sets/:name/:version/promote': { path: '/api/v1/sets/a/1/promote', role: 'admin', body: { level: 'qa_ready', comment: 'c' } },
  'GET /api/v1/sets/:name/:version/conformance': { path: '/api/v1/sets/a/1/conformance', role: 'admin' },
  'POST /api/v1/hosts/report': {
    path: '/api/v1/hosts/report',
    role: 'agent',
    body: { ...report('refused', ['bash-5.1.8-9.el9.x86_64']), set: 'billing/1.0' } as unknown as Record<string, unknown>,
  },
  'POST /api/v1/hosts/enroll': { path: '/api/v1/hosts/enroll', role: 'admin', body: { machineId: machineId('refused'), hostname: 'refused', replace: true } },
  'GET /api/v1/hosts': { path: '/api/v1/hosts', role: 'admin' },
  'GET /api/v1/hosts/:machineId': { path: `/api/v1/hosts/${machineId('refused')}`, role: 'admin' },
  'GET /api/v1/components/:name/usage': { path: '/api/v1/components/foo/usage', role: 'admin' },
  'POST /api/v1/tokens': { path: '/api/v1/tokens', role: 'admin', body: { role: 'qa', name: 'refused' } },
  'GET /api/v1/tokens': { path: '/api/v1/tokens', role: 'admin' },
  'POST /api/v1/tokens/:id/revoke': { path: '/api/v1/tokens/999999/revoke', role: 'admin', body: {} },
  'GET /api/v1/keys': { path: '/api/v1/keys', role: 'admin' },
  'POST /api/v1/keys': { path: '/api/v1/keys', role: 'admin', body: { armored: 'x', passphrase: 'p' } },
  'POST /api/v1/keys/:fingerprint/activate': { path: '/api/v1/keys/ABCDEF0123456789/activate', role: 'admin', body: {} },
  'POST /api/v1/keys/:fingerprint/retire': { path: '/api/v1/keys/ABCDEF0123456789/retire', role: 'admin', body: {} },
  'POST /api/v1/exceptions': {
    path: '/api/v1/exceptions',
    role: 'admin',
    body: { check: 'setuid-file', package: 'refused', path: '/usr/bin/x', reason: 'r', expires: '2099-01-01', untilVersion: '2.0' },
  },
  'GET /api/v1/exceptions': { path: '/api/v1/exceptions', role: 'admin' },
  'DELETE /api/v1/exceptions/:id': { path: '/api/v1/exceptions/1', role: 'admin' },
  'POST /api/v1/checks': { path: '/api/v1/checks', role: 'admin', body: { dryRun: true } },
  'GET /api/v1/cleanup': { path: '/api/v1/cleanup', role: 'admin' },
  'POST /api/v1/cleanup/run': { path: '/api/v1/cleanup/run', role: 'admin', body: {} },
  'POST /api/v1/mirrors': {
    path: '/api/v1/mirrors',
    role: 'admin',
    body: { name: 'refused', baseurl: 'http://127.0.0.1:9/', key: '-----BEGIN PGP PUBLIC KEY BLOCK-----', sourceBaseurl: 'http://127.0.0.1:9/src/', arches: ['x86_64'] },
  },
  'GET /api/v1/mirrors': { path: '/api/v1/mirrors', role: 'admin' },
  'GET /api/v1/mirrors/:name': { path: '/api/v1/mirrors/refused', role: 'admin' },
  'DELETE /api/v1/mirrors/:name': { path: '/api/v1/mirrors/refused', role: 'admin' },
  'POST /api/v1/mirrors/:name/sync': { path: '/api/v1/mirrors/refused/sync', role: 'admin' },
  'POST /api/v1/mirrors/fetch': { path: '/api/v1/mirrors/fetch', role: 'admin', body: { packages: ['foo-1-1.noarch'] } },
};

interface Declared {
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodObject;
}

/** What the route declares, from the app's registry (the declarations the routes validate with). */
function declared(key: string): Declared {
  const [method, path] = key.split(' ') as [string, string];
  const definition = createApp(server.server.context)
    .openAPIRegistry.definitions.filter((entry) => entry.type === 'route')
    .map((entry) => (entry as { route: { method: string; path: string; request?: Record<string, unknown> } }).route)
    .find((route) => route.method.toUpperCase() === method && route.path.replace(/\{(\w+)\}/g, ':$1') === path);
  if (!definition) throw new Error(`${key} is not declared with createRoute`);
  const request = (definition.request ?? {}) as { params?: z.ZodObject; query?: z.ZodObject; body?: { content: Record<string, { schema: z.ZodObject }> } };
  return { params: request.params, query: request.query, body: request.body?.content['application/json']?.schema };
}

async function send(key: string, options: { path?: string; query?: string; body?: string; headers?: Record<string, string> } = {}) {
  const example = examples[key]!;
  const method = key.split(' ')[0]!;
  const response = await fetch(`${server.url}${options.path ?? example.path}${options.query ?? ''}`, {
    method,
    headers: { authorization: `Bearer ${tokens.get(example.role)}`, 'content-type': 'application/json', ...options.headers },
    body: method === 'POST' ? (options.body ?? JSON.stringify(example.body ?? {})) : undefined,
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), problem: (text ? JSON.parse(text) : {}) as { detail?: string; invalidParams?: { name: string }[] } };
}

async function expectRefused(answer: ReturnType<typeof send>, field: string, what: string) {
  const { status, type, problem } = await answer;
  expect(status, `${what}: ${JSON.stringify(problem)}`).toBe(400);
  expect(type).toBe('application/problem+json');
  expect(problem.detail, what).toContain(field);
}

/** A value of another JSON type than the one given. */
function wrongTyped(value: unknown): unknown {
  if (typeof value === 'string') return 12345;
  if (typeof value === 'boolean' || value === null) return 'yes';
  return 'x';
}

/** What the database holds that a refused request must not change. */
async function snapshot() {
  const [counts] = await server.database.sql`
    select (select count(*) from tokens)::int as tokens, (select count(*) from tokens where machine_id is not null)::int as bound,
           (select count(*) from package_sets)::int as sets, (select count(*) from hosts)::int as hosts,
           (select count(*) from packages)::int as packages, (select count(*) from set_promotions)::int as promotions`;
  return { ...counts, keys: server.server.context.keyring.list().map((key) => `${key.fingerprint}:${key.status}`) };
}

describe('every API route declares what it accepts', () => {
  it('the examples above name every API route the application has, and each is declared with its schemas', () => {
    const app = createApp(server.server.context);
    const routes = app.routes.filter((route) => route.path.startsWith('/api/v1/') && route.method !== 'ALL' && !route.path.endsWith('*'));
    const keys = [...new Set(routes.map((route) => `${route.method} ${route.path.replace(/\/$/, '')}`))];
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      expect(examples[key], `${key} has no example here: add one`).toBeDefined();
      const { params, query, body } = declared(key);
      expect(query, `${key} declares no query schema`).toBeDefined();
      expect(query!.safeParse({ unknownParameter: '1' }).success, `${key}: its query schema must refuse unknown parameters`).toBe(false);
      expect(params !== undefined, `${key} declares its path parameters`).toBe(key.includes(':'));
      if (examples[key]!.body) {
        expect(body, `${key} declares no JSON body`).toBeDefined();
        expect(body!.safeParse(examples[key]!.body).success, `${key}: the example body fits the schema`).toBe(true);
      }
    }
    expect(Object.keys(examples).sort()).toEqual([...keys].sort());
  });
});

describe.each(Object.keys(examples))('%s', (key) => {
  it('refuses a NUL or invalid UTF-8 in its path, and unknown, malformed or wrong query parameters, naming them', async () => {
    const before = await snapshot();
    const example = examples[key]!;
    const { params, query } = declared(key);
    for (const name of Object.keys(params?.shape ?? {})) {
      // The example path's segment at this parameter's place.
      const pattern = key.split(' ')[1]!.split('/');
      const index = pattern.indexOf(`:${name}`);
      for (const bad of ['a%00b', '%FF', '%C0%80']) {
        const path = example.path.split('/').map((segment, i) => (i === index ? bad : segment)).join('/');
        await expectRefused(send(key, { path }), 'path', `${name}=${bad}`);
      }
    }
    await expectRefused(send(key, { query: '?unknownParameter=1' }), 'unknownParameter', 'an unknown query parameter');
    for (const name of Object.keys(query!.shape)) {
      await expectRefused(send(key, { query: `?${name}=a%00b` }), name, `${name} with a NUL`);
      await expectRefused(send(key, { query: `?${name}=%E9t%E9` }), name, `${name} in Latin-1`);
      for (const bad of ['yes', '-1', '1.5', 'billing', 'x'.repeat(300)]) {
        if (query!.safeParse({ [name]: bad }).success) continue;
        await expectRefused(send(key, { query: `?${name}=${bad}` }), name, `${name}=${bad}`);
      }
    }
    expect(await snapshot()).toEqual(before);
  });
});

// Only the routes that take a body: the others have nothing to refuse here.
describe.each(Object.keys(examples).filter((key) => examples[key]!.body !== undefined))('%s body', (key) => {
  it('refuses wrong-typed, missing, unknown and unstorable body fields, naming them', async () => {
    const before = await snapshot();
    const example = examples[key]!.body!;
    const { body: schema } = declared(key);
    for (const [field, value] of Object.entries(example)) {
      await expectRefused(send(key, { body: JSON.stringify({ ...example, [field]: wrongTyped(value) }) }), field, `${field} of the wrong type`);
      if (!schema!.shape[field]!.safeParse(undefined).success) {
        const { [field]: _left, ...rest } = example;
        await expectRefused(send(key, { body: JSON.stringify(rest) }), field, `${field} missing`);
      }
      if (typeof value === 'string') {
        await expectRefused(send(key, { body: JSON.stringify({ ...example, [field]: `${value}\u0000` }) }), field, `${field} with a NUL`);
      }
      if (Array.isArray(value) && typeof value[0] === 'string') {
        await expectRefused(send(key, { body: JSON.stringify({ ...example, [field]: ['a\u0000'] }) }), `${field}[0]`, `${field}[0] with a NUL`);
      }
    }
    if (!schema!.safeParse({ ...example, unknownField: 1 }).success) {
      await expectRefused(send(key, { body: JSON.stringify({ ...example, unknownField: 1 }) }), 'unknownField', 'an unknown field');
    }
    // Latin-1 bytes where UTF-8 belongs (é as 0xE9).
    const latin1 = Buffer.from(JSON.stringify({ ...example, x: 'caf\u00e9' }), 'latin1');
    expect((await fetch(server.url + examples[key]!.path, { method: 'POST', headers: { authorization: `Bearer ${tokens.get(examples[key]!.role)}`, 'content-type': 'application/json' }, body: latin1 })).status).toBe(400);
    for (const junk of ['{not json', '[]', '"text"', '42', 'null']) {
      expect((await send(key, { body: junk })).status, junk).toBe(400);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('what a refusal says', () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(server.url + path, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', ...headers }, body });

  it('names each field with what it expected, in the detail and one by one', async () => {
    const response = await post('/api/v1/sets', JSON.stringify({ version: '1.0', packages: ['foo-1-1.noarch'], resolve: 'yes', noSources: 'x' }));
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { detail: string; invalidParams: unknown[] };
    expect(problem.detail).toBe('name: required (expected string); resolve: expected boolean, received string; noSources: expected boolean, received string');
    expect(problem.invalidParams).toEqual([
      { name: 'name', in: 'body', reason: 'required (expected string)' },
      { name: 'resolve', in: 'body', reason: 'expected boolean, received string' },
      { name: 'noSources', in: 'body', reason: 'expected boolean, received string' },
    ]);
  });

  it('names query parameters and unknown fields', async () => {
    const drifting = await fetch(`${server.url}/api/v1/hosts?drifting=maybe&limit=0`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(((await drifting.json()) as { detail: string }).detail).toBe('drifting: expected true or false; limit: expected an integer between 1 and 100000');
    const typo = await post('/api/v1/sets/a/1/promote', JSON.stringify({ level: 'qa_ready', coment: 'typo' }));
    expect(((await typo.json()) as { detail: string }).detail).toBe('coment: not a known field');
  });

  it('refuses half a surrogate pair, which no UTF-8 text can hold, naming the field', async () => {
    const response = await post('/api/v1/tokens', '{"role":"qa","name":"a\\ud800"}');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toBe('name: contains a NUL character or invalid UTF-16');
  });

  it('takes JSON bodies only as application/json, and within the size limit', async () => {
    const plain = await post('/api/v1/tokens', '{"role":"qa","name":"plain"}', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { detail: string }).detail).toContain('Content-Type: application/json');
    // Refused on the declared length, before any of it is read.
    const url = new URL('/api/v1/tokens', server.url);
    const huge = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: {
        authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', 'content-length': String(server.server.context.config.maxJsonBytes + 1),
      } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.write('{"role":"qa","name":"');
    });
    expect(huge).toBe(413);
  });

  it('POST /api/v1/keys generates a key only when asked in the form it knows ({} or {algorithm})', async () => {
    const before = server.server.context.keyring.list().length;
    for (const body of ['{"foo":1}', '{"algorithm":"rsa1024"}', '{"algorithm":3072}', '{"armored":5}', '{"passphrase":"p"}', '[]', 'junk', '{"armored":"x","algorithm":"ed25519"}']) {
      const response = await post('/api/v1/keys', body);
      expect(response.status, body).toBe(400);
    }
    expect(server.server.context.keyring.list()).toHaveLength(before);
    // `rpmgate key add` without --algorithm sends {}: the server's configured algorithm.
    const generated = await post('/api/v1/keys', '{"algorithm":"ed25519"}');
    expect(generated.status).toBe(201);
    expect(server.server.context.keyring.list()).toHaveLength(before + 1);
  });

  it('refuses a NUL or invalid UTF-8 in a repository URL with 400', async () => {
    for (const path of ['/repo/set/a%00/1/repodata/repomd.xml', '/repo/set/a%FF/1.repo', '/repo/level/release/repodata/repomd.xml?x=%00', '/repo/level/release.repo?x=%C0%80']) {
      const response = await fetch(server.url + path);
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});

describe('the inventory report', () => {
  it('is described by its schema exactly as parseHostReport (shared with the agent) checks it', () => {
    const base = report('agree', ['bash-5.1.8-9.el9.x86_64', 'gpg-pubkey-0-1.(none)']) as unknown as Record<string, unknown>;
    const pkg = (base.packages as Record<string, unknown>[])[0]!;
    const variants: Record<string, unknown>[] = [
      base,
      { ...base, set: 'billing/1.0' },
      { ...base, set: null },
      { ...base, set: 'billing' },
      { ...base, set: 5 },
      { ...base, machineId: 'ABC' },
      { ...base, hostname: 'bad host' },
      { ...base, os: '' },
      { ...base, os: 'x'.repeat(201) },
      { ...base, os: 'Rocky\tLinux' },
      { ...base, arch: 'x86-64' },
      { ...base, packages: {} },
      { ...base, packages: [] },
      { ...base, packages: [{ ...pkg, epoch: -1 }] },
      { ...base, packages: [{ ...pkg, epoch: 1.5 }] },
      { ...base, packages: [{ ...pkg, epoch: 3 }] },
      { ...base, packages: [{ ...pkg, name: 'has space' }] },
      { ...base, packages: [{ ...pkg, version: '' }] },
      { ...base, packages: [{ ...pkg, release: 'r'.repeat(129) }] },
      { ...base, packages: [{ ...pkg, arch: '(none)' }] },
      { ...base, packages: ['bash'] },
      { ...base, unknownField: 1 },
    ];
    for (const variant of variants) {
      let parsed = true;
      try {
        parseHostReport(variant);
      } catch {
        parsed = false;
      }
      expect(reportBody.safeParse(variant).success, JSON.stringify(variant).slice(0, 200)).toBe(parsed);
    }
  });
});
