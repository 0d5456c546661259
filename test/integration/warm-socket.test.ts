// The warm socket (server/http/warm-socket.ts) over real TCP connections to the real server: plain warm
// GETs answered off the connection (pipelined, split, half-closed, under backpressure), exactly as the
// app answers them; the first request it does not take, and the rest of the connection, answered by
// Node's HTTP server as if the socket were not there; the metrics and the server's close.
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/http/app.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let port: number;
const repomd = '/repo/set/socket/1/repodata/repomd.xml';
let packagePath: string;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  port = Number(new URL(server.url).port);
  const lib = fixtures.byName('rg-lib');
  await server.admin.request('POST', '/api/v1/packages', { body: await readFile(lib.path) });
  await server.admin.post('/api/v1/sets', { name: 'socket', version: '1', packages: [lib.nevra], allowUnresolved: true });
  packagePath = `/repo/set/socket/1/Packages/${lib.fileName}`;
  // The app answers each URL once; from then on they are warm.
  for (const url of [repomd, packagePath, '/keys/rpmgate.asc']) expect((await fetch(`${server.url}${url}`)).status).toBe(200);
});
afterAll(async () => {
  await server?.close();
});

interface RawResponse {
  status: number;
  /** The header block as sent (names in the case they were written: Node capitalises its own). */
  head: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads HTTP/1.1 responses off `bytes`, one per request method given (HEAD and 304 have no body). */
function parseResponses(bytes: Buffer, methods: string[]): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  for (const method of methods) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) break;
    const head = bytes.toString('latin1', offset, headEnd);
    const [statusLine, ...lines] = head.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine!.split(' ')[1]);
    const length = method === 'HEAD' || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    responses.push({ status, head, headers, body: bytes.subarray(headEnd + 4, headEnd + 4 + length) });
    offset = headEnd + 4 + length;
  }
  return responses;
}

/** Writes each chunk (a pause between them when asked), then collects what comes back until the server ends or `expected` responses are in. */
async function exchange(chunks: (string | Buffer)[], methods: string[], options: { pauseMs?: number; halfClose?: boolean; readAfterMs?: number } = {}): Promise<{ responses: RawResponse[]; ended: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const received: Buffer[] = [];
  let ended = false;
  // Responses complete so far, counted on what arrived after the last complete one.
  let complete = 0;
  let unparsed = Buffer.alloc(0);
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      unparsed = Buffer.concat([unparsed, chunk]);
      const more = parseResponses(unparsed, methods.slice(complete));
      const last = more.filter((response) => response.body.length === (methods[complete + more.indexOf(response)] === 'HEAD' || response.status === 304 ? 0 : Number(response.headers['content-length'] ?? 0))).length;
      if (last > 0) {
        const answered = more.slice(0, last);
        const consumed = answered.reduce((bytes, response) => bytes + response.head.length + 4 + response.body.length, 0);
        unparsed = unparsed.subarray(consumed);
        complete += last;
      }
      if (complete === methods.length) resolve();
    });
    socket.on('end', () => {
      ended = true;
      resolve();
    });
    socket.on('error', () => resolve());
  });
  if (options.readAfterMs) socket.pause();
  for (const chunk of chunks) {
    socket.write(chunk);
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  if (options.halfClose) socket.end();
  if (options.readAfterMs) {
    await new Promise((resolve) => setTimeout(resolve, options.readAfterMs));
    socket.resume();
  }
  await done;
  // A server that ends the connection does so right after its last answer.
  if (!ended) await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
  return { responses: parseResponses(Buffer.concat(received), methods), ended };
}

const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
  `${method} ${url} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;

/** Answered by the warm socket: it writes its own lowercase date; Node writes "Date". */
const bySocket = (response: RawResponse) => response.head.includes('\r\ndate: ');
const byNode = (response: RawResponse) => !bySocket(response);

const comparable = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !['date', 'connection', 'keep-alive', 'x-request-id'].includes(name)));

describe('the warm socket', () => {
  it('answers pipelined warm GETs on one connection, in order, with the app\'s status, headers and bytes, an id and a date', async () => {
    const app = createApp(server.server.context);
    const urls = [repomd, packagePath, '/keys/rpmgate.asc'];
    const before = server.server.fastPath.answered;
    const { responses, ended } = await exchange([urls.map((url, index) => get(url, index === 1 ? { 'X-Request-Id': 'socket-1' } : {})).join('')], urls.map(() => 'GET'));
    expect(ended).toBe(false);
    expect(responses).toHaveLength(3);
    for (const [index, url] of urls.entries()) {
      const ours = responses[index]!;
      const theirs = await app.request(url);
      expect(bySocket(ours), url).toBe(true);
      expect(ours.status).toBe(theirs.status);
      expect(comparable(ours.headers), url).toEqual(comparable(Object.fromEntries(theirs.headers)));
      expect(ours.body.equals(Buffer.from(await theirs.arrayBuffer())), url).toBe(true);
      expect(ours.headers.connection).toBe('keep-alive');
      expect(Math.abs(Date.parse(ours.headers.date!) - Date.now())).toBeLessThan(5_000);
      expect(ours.headers['x-request-id']).toMatch(index === 1 ? /^socket-1$/ : /^[0-9a-f-]{36}$/);
    }
    expect(server.server.fastPath.answered - before).toBe(3);
  });

  it('answers a request head that arrives a few bytes at a time, and HEAD, If-None-Match and Range as the app does', async () => {
    const request = get(repomd);
    const pieces = request.match(/[\s\S]{1,7}/g)!;
    const { responses } = await exchange(pieces, ['GET'], { pauseMs: 5 });
    expect(responses[0]?.status).toBe(200);
    expect(bySocket(responses[0]!)).toBe(true);

    const etag = responses[0]!.headers.etag!;
    const answers = await exchange([get(packagePath, {}, 'HEAD') + get(repomd, { 'If-None-Match': etag }) + get(packagePath, { Range: 'bytes=0-99' })], ['HEAD', 'GET', 'GET']);
    const [head, notModified, range] = answers.responses;
    expect(head!.status).toBe(200);
    expect(head!.body.length).toBe(0);
    expect(Number(head!.headers['content-length'])).toBeGreaterThan(100);
    expect(notModified!.status).toBe(304);
    expect(range!.status).toBe(206);
    expect(range!.body.length).toBe(100);
    expect(range!.headers['content-range']).toBe(`bytes 0-99/${head!.headers['content-length']}`);
    expect(answers.responses.every(bySocket)).toBe(true);
  });

  it('hands the connection to Node\'s server at the first request it does not answer: an API request with a body, then warm GETs answered by Node', async () => {
    const body = JSON.stringify({ name: 'socket-handed', version: '1', packages: [fixtures.byName('rg-lib').nevra], allowUnresolved: true });
    const post = `POST /api/v1/sets HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${server.adminToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const { responses } = await exchange([get(repomd) + post + get(repomd) + get('/keys/rpmgate.asc')], ['GET', 'POST', 'GET', 'GET']);
    expect(responses.map((response) => response.status)).toEqual([200, 201, 200, 200]);
    expect(bySocket(responses[0]!)).toBe(true);
    expect(responses.slice(1).every(byNode)).toBe(true);
    expect(JSON.parse(responses[1]!.body.toString())).toMatchObject({ name: 'socket-handed', version: '1' });
    expect(responses[2]!.body.equals(responses[0]!.body)).toBe(true);
  });

  it('reads what a request needs into memory when it does not hold it yet (a new set), and keeps the connection: the next warm request is its own', async () => {
    const lib = fixtures.byName('rg-lib');
    await server.admin.post('/api/v1/sets', { name: 'socket-cold', version: '1', packages: [lib.nevra], allowUnresolved: true });
    const base = '/repo/set/socket-cold/1';
    const urls = [`${base}/repodata/repomd.xml`, `${base}/Packages/${lib.fileName}`, `${base}.repo`, '/keys/rpmgate.asc', `${base}/Packages/no-such-1.0-1.noarch.rpm`, '/keys/rpmgate.asc'];
    const { responses } = await exchange([urls.map((url) => get(url)).join('')], urls.map(() => 'GET'));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 404, 200]);
    // Cold, warmed, answered off the connection; a URL nothing can make warm goes to Node with the rest.
    expect(responses.slice(0, 4).every(bySocket)).toBe(true);
    expect(responses.slice(4).every(byNode)).toBe(true);
    expect(responses[4]!.headers['content-type']).toBe('application/problem+json');
    const app = createApp(server.server.context);
    for (const [index, url] of urls.slice(0, 2).entries()) {
      const theirs = await app.request(url);
      expect(responses[index]!.body.equals(Buffer.from(await theirs.arrayBuffer())), url).toBe(true);
      expect(comparable(responses[index]!.headers), url).toEqual(comparable(Object.fromEntries(theirs.headers)));
    }
    expect(responses[2]!.body.toString()).toContain(`baseurl=http://127.0.0.1:${port}${base}`);
  });

  it('leaves every request outside its strict subset of HTTP/1.1 to Node, which answers it as it would', async () => {
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const cases: [string, string, number][] = [
      ['HTTP/1.0', `GET ${repomd} HTTP/1.0\r\n${host}\r\n`, 200],
      ['a body length on a GET', `GET ${repomd} HTTP/1.1\r\n${host}Content-Length: 0\r\n\r\n`, 200],
      ['a folded header line', `GET ${repomd} HTTP/1.1\r\n${host}X-Folded: a\r\n b\r\n\r\n`, 400],
      ['two Host headers', `GET ${repomd} HTTP/1.1\r\n${host}${host}\r\n`, 200],
      ['no Host', `GET ${repomd} HTTP/1.1\r\n\r\n`, 400],
      ['a space before the colon', `GET ${repomd} HTTP/1.1\r\n${host}X-Bad : 1\r\n\r\n`, 400],
      ['a bare LF', `GET ${repomd} HTTP/1.1\n${host}\r\n`, 400],
      ['a lowercase method', `get ${repomd} HTTP/1.1\r\n${host}\r\n`, 400],
      ['a head of 12 KiB', `GET ${repomd} HTTP/1.1\r\n${host}X-Long: ${'a'.repeat(12 * 1024)}\r\n\r\n`, 200],
    ];
    for (const [label, request, status] of cases) {
      const { responses } = await exchange([request], ['GET']);
      expect(responses[0]?.status, label).toBe(status);
      expect(byNode(responses[0]!), label).toBe(true);
    }
  });

  it('ends the connection after answering "Connection: close", and answers a client that half-closes', async () => {
    const closing = await exchange([get(repomd, { Connection: 'close' })], ['GET']);
    expect(closing.responses[0]?.status).toBe(200);
    expect(closing.responses[0]?.headers.connection).toBe('close');
    expect(closing.ended).toBe(true);

    const halfClosed = await exchange([get(repomd) + get('/keys/rpmgate.asc')], ['GET', 'GET'], { halfClose: true });
    expect(halfClosed.responses.map((response) => response.status)).toEqual([200, 200]);
    expect(halfClosed.ended).toBe(true);
  });

  it('waits for a client that reads slowly: 2,000 pipelined package requests, all answered in order', async () => {
    const count = 2_000;
    const { responses } = await exchange([get(packagePath).repeat(count)], Array.from({ length: count }, () => 'GET'), { readAfterMs: 300 });
    expect(responses).toHaveLength(count);
    const first = responses[0]!.body;
    expect(responses.every((response) => response.status === 200 && response.body.equals(first))).toBe(true);
  });

  it('counts its answers in the metrics under the warm route templates', async () => {
    const value = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = text.split('\n').find((entry) => entry.startsWith('rpmgate_http_requests_total{') && entry.includes('route="/keys/rpmgate.asc"') && entry.includes('status="200"') && entry.includes('method="GET"'));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = await value();
    const { responses } = await exchange([get('/keys/rpmgate.asc').repeat(5)], ['GET', 'GET', 'GET', 'GET', 'GET']);
    expect(responses.every(bySocket)).toBe(true);
    expect(await value()).toBe(before + 5);
  });

  it('ends the idle connections it holds when the server stops', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(get(repomd));
    await answered;
    const ended = new Promise<string>((resolve) => {
      socket.once('end', () => resolve('end'));
      socket.once('close', () => resolve('close'));
    });
    socket.on('error', () => {});
    await server.stop();
    try {
      expect(await ended).toMatch(/^(end|close)$/);
    } finally {
      socket.destroy();
      await server.start();
    }
    expect((await fetch(`${server.url}${repomd}`)).status).toBe(200);
  });
});
