// Request ids and log lines through a real HTTP server: the id taken from X-Request-Id when it is a short
// token (else made), echoed in the answer, in problem documents and in the one access line per request
// (method, route template, status, duration, principal, never the token); the warm repomd.xml path gets
// the header too and an access line only at debug; an error is logged once, with the request's id;
// RPMGATE_LOG_FORMAT=pretty writes one text line; RPMGATE_LOG_LEVEL filters.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let pretty: TestServer;
const lines: string[] = [];
const prettyLines: string[] = [];
const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
let token: string;
let upload: { sha256: string; filename: string; nevra: string };

beforeAll(async () => {
  const [rpms, first, second] = await Promise.all([
    buildSmallRpms([{ name: 'rg-logs', version: '1.0' }]),
    startTestServer({ log: createLogger({ destination: { write: (line) => void lines.push(line) } }) }),
    startTestServer({ log: createLogger({ level: 'debug', format: 'pretty', destination: { write: (line) => void prettyLines.push(line) } }) }),
  ]);
  [server, pretty] = [first, second];
  token = await server.tokenFor('integ', 'integ-logs');
  const stored = await fetch(`${server.url}/api/v1/packages`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: await readFile(rpms[0]!) });
  expect(stored.status).toBe(201);
  upload = (await stored.json()) as typeof upload;
  const set = await fetch(`${server.url}/api/v1/sets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'logs', version: '1.0', packages: [upload.nevra] }),
  });
  expect(set.status).toBe(201);
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.close(), pretty?.close()]);
});

/** The access line of the request with that id (waits for it: it is written when the answer finished). */
async function accessLine(requestId: string, from = records): Promise<Record<string, unknown>> {
  // Polled for up to 10 s: a loaded machine may write the line late.
  for (let i = 0; i < 500; i++) {
    const found = from().filter((record) => record.message === 'request' && record.requestId === requestId);
    if (found.length > 0) {
      expect(found).toHaveLength(1);
      return found[0]!;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no access line for ${requestId}`);
}

describe('request ids', () => {
  it('takes a sane X-Request-Id, echoes it, and writes one access line with the route template and principal, never the token', async () => {
    const answer = await fetch(`${server.url}/api/v1/sets/logs/1.0`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'proxy-id_42.a' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe('proxy-id_42.a');
    const line = await accessLine('proxy-id_42.a');
    expect(line).toMatchObject({ level: 'info', method: 'GET', route: '/api/v1/sets/:name/:version', status: 200, principal: 'integ-logs' });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(lines.join('')).not.toContain(token);
    expect(lines.join('')).not.toContain(server.adminToken);
  });

  it('makes a new id when the given one is too long or not token characters', async () => {
    for (const given of ['x'.repeat(129), 'two words', 'a"b', '']) {
      const answer = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': given } });
      const id = answer.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await accessLine(id!)).route).toBe('/healthz');
    }
    const first = (await fetch(`${server.url}/healthz`)).headers.get('x-request-id');
    const second = (await fetch(`${server.url}/healthz`)).headers.get('x-request-id');
    expect(first).not.toBe(second);
  });

  it('puts the id in problem documents; an anonymous request has no principal in its line', async () => {
    const answer = await fetch(`${server.url}/api/v1/sets`, { headers: { 'x-request-id': 'no-token-1' } });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ status: 401, requestId: 'no-token-1' });
    const line = await accessLine('no-token-1');
    expect(line).toMatchObject({ status: 401, route: '/api/v1/sets' });
    expect(line).not.toHaveProperty('principal');
    const missing = await fetch(`${server.url}/nothing/here`, { headers: { 'x-request-id': 'no-route-1' } });
    expect(await missing.json()).toMatchObject({ status: 404, code: 'no_route', requestId: 'no-route-1' });
  });

  it('the warm repomd.xml answer carries an id too, and no info access line', async () => {
    const url = `${server.url}/repo/set/logs/1.0/repodata/repomd.xml`;
    expect((await fetch(url)).status).toBe(200);
    const before = server.server.fastPath.answered;
    const warm = await fetch(url, { headers: { 'x-request-id': 'warm-1' } });
    expect(warm.status).toBe(200);
    expect(server.server.fastPath.answered).toBe(before + 1);
    expect(warm.headers.get('x-request-id')).toBe('warm-1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(records().filter((record) => record.requestId === 'warm-1')).toEqual([]);
  });

  it('an error is logged once, with the request id, and its problem document carries the id', async () => {
    await rm(path.join(server.dataDir, 'blobs', upload.sha256.slice(0, 2), upload.sha256));
    const answer = await fetch(`${server.url}/repo/set/logs/1.0/Packages/${upload.sha256.slice(0, 16)}/${upload.filename}`, { headers: { 'x-request-id': 'gone-1' } });
    expect(answer.status).toBe(500);
    expect(await answer.json()).toMatchObject({ status: 500, requestId: 'gone-1' });
    expect((await accessLine('gone-1')).status).toBe(500);
    const errors = records().filter((record) => record.level === 'error' && record.requestId === 'gone-1');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'stored file missing' });
  });
});

describe('RPMGATE_LOG_FORMAT=pretty, RPMGATE_LOG_LEVEL=debug', () => {
  it('writes one readable text line per request, the warm path\'s too at debug', async () => {
    const url = `${pretty.url}/repo/level/integ/repodata/repomd.xml`;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { headers: { 'x-request-id': 'pretty-warm' } })).status).toBe(200);
    expect((await fetch(`${pretty.url}/healthz`, { headers: { 'x-request-id': 'pretty-1' } })).status).toBe(200);
    await expect.poll(() => prettyLines.some((line) => line.includes('requestId=pretty-1')), { timeout: 10_000 }).toBe(true);
    const healthz = prettyLines.find((line) => line.includes('requestId=pretty-1'));
    expect(healthz).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  request requestId=pretty-1 method=GET route=\/healthz status=200 durationMs=[\d.]+\n$/);
    expect(prettyLines.find((line) => line.includes('requestId=pretty-warm'))).toMatch(/ DEBUG request .*route=\/repo\/\*\/repodata\/\*/);
  });

  it('levels filter, an error is written with its cause chain, and the variables are checked', () => {
    const written: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (line) => void written.push(line) } });
    log.info('not written');
    log.error('failed', { requestId: 'r1', err: new Error('outer', { cause: new Error('disk gone') }) });
    expect(written).toHaveLength(1);
    const record = JSON.parse(written[0]!) as { err: { message: string; stack: string; cause?: { message: string } } };
    expect(record.err.message).toBe('outer');
    expect(JSON.stringify(record.err)).toContain('disk gone');
    expect(readConfig({ RPMGATE_LOG_LEVEL: 'debug', RPMGATE_LOG_FORMAT: 'pretty' })).toMatchObject({ logLevel: 'debug', logFormat: 'pretty' });
    expect(readConfig({})).toMatchObject({ logLevel: 'info', logFormat: 'json' });
    expect(() => readConfig({ RPMGATE_LOG_LEVEL: 'loud' })).toThrow(/RPMGATE_LOG_LEVEL must be one of debug, info, warn, error/);
  });
});
