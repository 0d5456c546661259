// The OpenAPI 3.1 document at /api/v1/openapi.json: valid for an OpenAPI validator, complete (every
// /api/v1 route the app answers is in it), and true (real answers of a real server fit the schemas it
// documents for them, error answers included).
import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/http/app.ts';
import { ResponseConformance } from '../support/openapi-conformance.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let document: { openapi: string; paths: Record<string, Record<string, unknown>> } & Record<string, unknown>;
let rpms: string[];

beforeAll(async () => {
  [server, rpms] = await Promise.all([startTestServer(), buildSmallRpms([{ name: 'rg-openapi', version: '1.0' }])]);
  const response = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  document = (await response.json()) as typeof document;
});
afterAll(async () => {
  await server?.close();
});

const methods = ['get', 'put', 'post', 'delete', 'patch'];

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document that the validator accepts, answered without a token', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.components).toMatchObject({ securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } });
    expect(document.security).toEqual([{ bearer: [] }]);
  });

  it('documents every /api/v1 route the app answers, and nothing it does not', () => {
    const app = createApp(server.server.context);
    const answered = new Set(
      app.routes
        .filter((route) => route.path.startsWith('/api/v1/') && methods.includes(route.method.toLowerCase()))
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([pathName, item]) => Object.keys(item).filter((key) => methods.includes(key)).map((method) => `${method} ${pathName}`)),
    );
    expect(answered.size).toBeGreaterThan(25);
    expect([...answered].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !answered.has(route))).toEqual([]);
  });

  it('gives a schema for the success answers of every operation, so that the answers can be checked against it', () => {
    const withoutSchema: string[] = [];
    for (const [pathName, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item as Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>)) {
        if (!methods.includes(method)) continue;
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!/^2/.test(status)) continue;
          if (!Object.values(response.content ?? {}).some((media) => media.schema !== undefined)) withoutSchema.push(`${method} ${pathName} ${status}`);
        }
      }
    }
    expect(withoutSchema).toEqual([]);
  });

  it('describes the problem answers of every operation', () => {
    for (const [pathName, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item as Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>)) {
        if (!methods.includes(method)) continue;
        for (const status of ['400', '401', '403', '500', 'default']) {
          expect(operation.responses[status]?.content, `${method} ${pathName} ${status}`).toHaveProperty(['application/problem+json']);
        }
      }
    }
  });
});

describe('real answers fit the documented schemas', () => {
  /** Checks one real answer against the schema documented for its path, method, status and media type. */
  async function expectDocumented(response: Response, pathName: string, method: string): Promise<unknown> {
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!;
    const responses = (document.paths[pathName]?.[method] as { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } | undefined)?.responses;
    expect(responses, `${method} ${pathName} is documented`).toBeDefined();
    const documented = responses![String(response.status)] ?? responses!.default;
    const schema = documented?.content?.[mediaType]?.schema;
    expect(schema, `${method} ${pathName} ${response.status} ${mediaType} has a schema`).toBeDefined();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');
    const pointer = ['paths', pathName, method, 'responses', documented === responses![String(response.status)] ? String(response.status) : 'default', 'content', mediaType, 'schema']
      .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    const validate = ajv.compile({ $ref: `openapi.json#/${pointer}` });
    const body = await response.json();
    expect(validate(body) ? [] : validate.errors, `${method} ${pathName} ${response.status}`).toEqual([]);
    return body;
  }

  const call = (method: string, pathName: string, token: string | null, body?: unknown) =>
    fetch(`${server.url}${pathName}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('tokens, sets and promotion answers, and their problem answers', async () => {
    const admin = server.adminToken;
    const created = (await expectDocumented(await call('POST', '/api/v1/tokens', admin, { role: 'integ', name: 'openapi-integ' }), '/api/v1/tokens', 'post')) as { token: string };
    await expectDocumented(await call('GET', '/api/v1/tokens', admin), '/api/v1/tokens', 'get');

    const upload = await fetch(`${server.url}/api/v1/packages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/x-rpm' },
      body: await readFile(rpms[0]!),
    });
    expect(upload.status).toBe(201);
    const set = (await expectDocumented(
      await call('POST', '/api/v1/sets', created.token, { name: 'openapi', version: '1.0', packages: ['rg-openapi-1.0-1.noarch'] }),
      '/api/v1/sets',
      'post',
    )) as { id: string };
    expect(set.id).toBe('openapi/1.0');
    await expectDocumented(await call('GET', '/api/v1/sets', created.token), '/api/v1/sets', 'get');
    await expectDocumented(await call('POST', '/api/v1/sets/openapi/1.0/promote', created.token, { level: 'qa_ready' }), '/api/v1/sets/{name}/{version}/promote', 'post');
    const shown = (await expectDocumented(await call('GET', '/api/v1/sets/openapi/1.0', created.token), '/api/v1/sets/{name}/{version}', 'get')) as { history: unknown[] };
    expect(shown.history).toHaveLength(1);

    // Problems: a field refused (400 with invalidParams), no token (401), a role that may not (403),
    // nothing there (404, the default answer).
    const refused = (await expectDocumented(await call('POST', '/api/v1/sets', created.token, { name: 'x', version: '1', packages: [], extra: 1 }), '/api/v1/sets', 'post')) as { status: number; invalidParams: unknown[] };
    expect(refused.status).toBe(400);
    expect(refused.invalidParams.length).toBeGreaterThan(0);
    expect((await expectDocumented(await call('GET', '/api/v1/sets', null), '/api/v1/sets', 'get')) as { status: number }).toMatchObject({ status: 401 });
    expect((await expectDocumented(await call('GET', '/api/v1/tokens', created.token), '/api/v1/tokens', 'get')) as { status: number }).toMatchObject({ status: 403 });
    expect((await expectDocumented(await call('GET', '/api/v1/sets/openapi/9.9', created.token), '/api/v1/sets/{name}/{version}', 'get')) as { status: number }).toMatchObject({ status: 404 });
  });

  it('every answer of every integration test server is checked the same way, and a wrong one is caught', async () => {
    // This server's answers so far (tokens, sets, promotion, problems) were all checked and fit.
    expect(server.conformance!.checked).toBeGreaterThan(5);
    expect(server.conformance!.violations).toEqual([]);
    // A server answering what the document does not promise is reported.
    const conformance = ResponseConformance.of(server.server.context);
    const liar = createServer((req, res) => {
      if (req.url === '/api/v1/sets') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ name: 'x' }]));
      else res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
    conformance.watch(liar);
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
      await (await fetch(`${base}/api/v1/sets`)).text();
      await (await fetch(`${base}/api/v1/tokens`)).text();
    } finally {
      await new Promise((resolve) => liar.close(resolve));
    }
    expect(conformance.violations).toHaveLength(2);
    expect(conformance.violations[0]).toMatch(/^GET \/api\/v1\/sets 200 application\/json \(documented as \/api\/v1\/sets\): \/0 must have required property/);
    expect(conformance.violations[1]).toMatch(/^GET \/api\/v1\/tokens 202 .*status 202 is not documented/);
  });
});
