// The CLI never reports a success it did not have: answers from something that is not rpmgate (a web
// page, another JSON API, a gateway's error page), a --server URL with a wrong path, a mistyped command
// or file are each one line on stderr and exit 2, and nothing is stored on the way.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpmgate, runCli, type CliResult } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

interface FakeAnswer {
  status: number;
  contentType: string;
  body: string;
}

let server: TestServer;
let rpmFile: string;
let adminToken: string;
const fakes: Server[] = [];

/** A plain HTTP server that answers every request the same way: what a wrong --server reaches. */
async function fakeServer(answer: FakeAnswer): Promise<string> {
  const fake = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body));
  });
  fakes.push(fake);
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
}

function expectOneLine(result: CliResult, code: number, line: string | RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
  expect(result.stdout).toBe('');
}

beforeAll(async () => {
  let files: string[];
  [server, files] = await Promise.all([startTestServer(), buildSmallRpms([{ name: 'rg-cli-probe' }])]);
  rpmFile = files[0]!;
  adminToken = server.adminToken;
});
afterAll(async () => {
  await Promise.all(fakes.map((fake) => new Promise((resolve) => fake.close(resolve))));
  await server?.close();
});

describe('a server that is not rpmgate', () => {
  it('an HTML page answering 200: upload and every reading command exit 2 with one line', async () => {
    const url = await fakeServer({ status: 200, contentType: 'text/html; charset=utf-8', body: '<html><body>Welcome to nginx!</body></html>' });
    expectOneLine(await rpmgate({ url }, 'tok', ['upload', rpmFile]), 2, `rpmgate: ${url}: not an rpmgate server (text/html answer to POST /api/v1/packages)`);
    expectOneLine(await rpmgate({ url }, 'tok', ['set', 'list']), 2, `rpmgate: ${url}: not an rpmgate server (text/html answer to GET /api/v1/sets)`);
    expectOneLine(await rpmgate({ url }, 'tok', ['token', 'create', '--role', 'qa', '--name', 'q']), 2, `rpmgate: ${url}: not an rpmgate server (text/html answer to POST /api/v1/tokens)`);
    expectOneLine(await rpmgate({ url }, 'tok', ['hosts']), 2, `rpmgate: ${url}: not an rpmgate server (text/html answer to GET /api/v1/hosts)`);
  });

  it('another JSON API answering 200: its answers do not have rpmgate shapes', async () => {
    const url = await fakeServer({ status: 200, contentType: 'application/json', body: '{"ok":true,"items":[]}' });
    expectOneLine(await rpmgate({ url }, 'tok', ['upload', rpmFile]), 2, `rpmgate: ${url}: not an rpmgate server (its answer to POST /api/v1/packages is not a stored package)`);
    expectOneLine(await rpmgate({ url }, 'tok', ['set', 'list']), 2, `rpmgate: ${url}: not an rpmgate server (its answer to GET /api/v1/sets is not a list of package sets)`);
    expectOneLine(await rpmgate({ url }, 'tok', ['set', 'show', 'billing/1.0']), 2, `rpmgate: ${url}: not an rpmgate server (its answer to GET /api/v1/sets/billing/1.0 is not a package set)`);
    expectOneLine(await rpmgate({ url }, 'tok', ['key', 'show']), 2, `rpmgate: ${url}: not an rpmgate server (its answer to GET /api/v1/keys is not the signing keys)`);
  });

  it('an error that is not a problem document (a JSON 404, an HTML 401) is not taken for rpmgate', async () => {
    const json404 = await fakeServer({ status: 404, contentType: 'application/json', body: '{"error":"no such thing"}' });
    expectOneLine(await rpmgate({ url: json404 }, 'tok', ['set', 'list']), 2, `rpmgate: ${json404}: not an rpmgate server (application/json, HTTP 404 answer to GET /api/v1/sets)`);
    const html401 = await fakeServer({ status: 401, contentType: 'text/html', body: '<h1>Login</h1>' });
    expectOneLine(await rpmgate({ url: html401 }, 'tok', ['set', 'list']), 2, `rpmgate: ${html401}: not an rpmgate server (text/html, HTTP 401 answer to GET /api/v1/sets)`);
  });

  it("a gateway's HTML 502 in front of rpmgate is one line, exit 2", async () => {
    const url = await fakeServer({ status: 502, contentType: 'text/html', body: '<h1>502 Bad Gateway</h1>' });
    expectOneLine(await rpmgate({ url }, 'tok', ['set', 'list']), 2, `rpmgate: ${url}: HTTP 502 (text/html) from a gateway in front of rpmgate, or not an rpmgate server`);
  });
});

describe('the real rpmgate server', () => {
  it('a --server URL whose path is not rpmgate API: exit 2, one line naming the URL', async () => {
    const url = `${server.url}/wrong/prefix`;
    expectOneLine(await rpmgate({ url }, adminToken, ['set', 'list']), 2, `rpmgate: ${url}: not an rpmgate API URL (nothing at GET /wrong/prefix/api/v1/sets)`);
    expectOneLine(await rpmgate({ url }, adminToken, ['upload', rpmFile]), 2, /^rpmgate: .*\/wrong\/prefix: not an rpmgate API URL \(nothing at POST \/wrong\/prefix\/api\/v1\/packages\)$/);
  });

  it('a missing file stops the upload before anything is sent: exit 2, one line, nothing stored', async () => {
    const result = await rpmgate(server, adminToken, ['upload', rpmFile, '/nonexistent/rg-missing.rpm']);
    expectOneLine(result, 2, 'rpmgate: /nonexistent/rg-missing.rpm: no such file; nothing was uploaded');
    expect((await server.admin.get('/api/v1/packages?name=rg-cli-probe')).body).toEqual([]);
    const dir = await rpmgate(server, adminToken, ['upload', '/tmp']);
    expectOneLine(dir, 2, 'rpmgate: /tmp: a directory, not an RPM file; nothing was uploaded');
  });

  it('the same upload against rpmgate succeeds, so the refusals above are about the server, not the file', async () => {
    const result = await rpmgate(server, adminToken, ['upload', rpmFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/1 file\(s\): 1 stored/);
  });
});

describe('usage mistakes', () => {
  it('an unknown command is one line with the nearest command name', async () => {
    expectOneLine(await runCli('rpmgate', ['sett', 'list']), 2, "rpmgate: unknown command 'sett' (did you mean set?); see rpmgate --help");
    expectOneLine(await runCli('rpmgate', ['set', 'promte']), 2, "rpmgate: unknown command 'promte' (did you mean promote?); see rpmgate --help");
    expectOneLine(await runCli('rpmgate', ['upload']), 2, "rpmgate: missing required argument 'files'; see rpmgate --help");
  });
});
