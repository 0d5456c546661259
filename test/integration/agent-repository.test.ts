// The server serves its agent, through the real HTTP server and database: /repo/agent/ holds every
// stored rpmgate-agent package (the RPM of npm run build:agent-rpm, built with the real rpmbuild) and
// nothing else, stays readable without a token under RPMGATE_REPO_AUTH=1, and only an admin may put
// the agent in the store; `rpmgate agent publish` checks the file first; GET /bootstrap.sh renders the
// script for an existing set, with its query checked strictly.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentRpm, type AgentRpm } from '../../agent/packaging/build-rpm.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { missingRpmTools } from '../support/rpm-tools.ts';
import { toolsRequired } from '../support/requirements.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const missing = (await missingRpmTools()).filter((tool) => tool === 'rpmbuild');
if (missing.length > 0 && toolsRequired) throw new Error('the agent repository tests need rpmbuild');

let server: TestServer;
let fixtures: FixtureSet;
let agentRpm: AgentRpm;
let scratch: string;

async function upload(file: string, token: string): Promise<Response> {
  return fetch(`${server.url}/api/v1/packages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' },
    body: await readFile(file),
  });
}

describe.skipIf(missing.length > 0)(`the agent's repository and bootstrap script${missing.length > 0 ? ' (SKIPPED: rpmbuild is not installed)' : ''}`, () => {
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-repo-'));
    [server, fixtures, agentRpm] = await Promise.all([startTestServer(), buildFixtures(), buildAgentRpm({ outDir: scratch })]);
    const hello = await upload(fixtures.byName('rg-hello-2.0-1.noarch').path, server.adminToken);
    expect(hello.status).toBe(201);
    await server.admin.post('/api/v1/sets', { name: 'demo', version: '1.0', packages: ['rg-hello-2.0-1.noarch'], allowUnresolved: true });
  });

  afterAll(async () => {
    await server?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('bootstrap.sh is refused (409) while no agent is published', async () => {
    const response = await fetch(`${server.url}/bootstrap.sh?set=demo/1.0`);
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).toContain('rpmgate agent publish');
  });

  it('only an admin may store an rpmgate-agent package: a developer token is refused with 403 and nothing is stored', async () => {
    const response = await upload(agentRpm.file, await server.tokenFor('developer'));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { detail: string }).detail).toContain('only an admin may upload rpmgate-agent');
    expect((await server.admin.get<unknown[]>('/api/v1/packages?name=rpmgate-agent')).body).toEqual([]);
  });

  it('rpmgate agent publish refuses a file that is not an rpmgate-agent package, before uploading it', async () => {
    const other = await rpmgate(server, server.adminToken, ['agent', 'publish', fixtures.byName('rg-text').path]);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe(`rpmgate: ${fixtures.byName('rg-text').path} is rg-text-1.0-1.noarch, not a binary rpmgate-agent package\n`);
    expect((await server.admin.get<unknown[]>('/api/v1/packages?name=rg-text')).body).toEqual([]);
    const absent = await rpmgate(server, server.adminToken, ['agent', 'publish', path.join(scratch, 'nope.rpm')]);
    expect(absent.code).toBe(2);
    expect(absent.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rpmgate agent publish stores the agent, signed, and /repo/agent/ serves it and nothing else', async () => {
    const nevra = `rpmgate-agent-${agentRpm.version}-1.noarch`;
    const published = await rpmgate(server, server.adminToken, ['agent', 'publish', agentRpm.file]);
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout.trim()).toBe(`published ${nevra}: hosts install it from ${server.url}/repo/agent/`);
    const again = await rpmgate(server, server.adminToken, ['--json', 'agent', 'publish', agentRpm.file]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ nevra, status: 'exists', repository: `${server.url}/repo/agent/` });

    const entries = await fetchPrimaryEntries(`${server.url}/repo/agent/`);
    expect(entries.map((entry) => `${entry.name}-${entry.version.ver}-${entry.version.rel}.${entry.arch}`)).toEqual([nevra]);
    const href = entries[0]!.location.href!;
    const served = await fetch(`${server.url}/repo/agent/${href}`);
    expect(served.status).toBe(200);
    const bytes = Buffer.from(await served.arrayBuffer());
    expect(bytes.length).toBe(Number(entries[0]!.size.package));
    // The served file is the signed one: rpmgate's key signed its header.
    const signed = path.join(scratch, 'served.rpm');
    await writeFile(signed, bytes);
    const { stdout } = await run('rpm', ['-qp', '--dbpath', path.join(scratch, 'db'), '--qf', '%{RSAHEADER:pgpsig}', signed]);
    expect(stdout).toMatch(/^RSA\/SHA256, .*, Key ID [0-9a-f]{16}$/);

    for (const address of ['/repo/agent/source/repodata/repomd.xml', '/repo/agent.repo']) {
      expect((await fetch(server.url + address)).status, address).toBe(404);
    }
  });

  it('GET /bootstrap.sh?set=NAME/VERSION renders the script with the server, the set and the published key fingerprints', async () => {
    const response = await fetch(`${server.url}/bootstrap.sh?set=demo/1.0`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/x-shellscript; charset=utf-8');
    const script = await response.text();
    const { body: keys } = await server.admin.get<{ keys: { fingerprint: string; status: string }[] }>('/api/v1/keys');
    const fingerprints = keys.keys.filter((key) => key.status !== 'retired').map((key) => key.fingerprint.toUpperCase());
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
    expect(script).toContain(`\n  server='${server.url}'\n`);
    expect(script).toContain(`\n  set_ref='demo/1.0'\n`);
    expect(script).toContain(`\n  served_fingerprints='${fingerprints.join(',')}'\n`);
    expect(script).not.toMatch(/@@[A-Z_]+@@/);
    // POSIX sh (dash on Debian) parses it.
    const dir = await mkdtemp(path.join(scratch, 'sh-'));
    await writeFile(path.join(dir, 'bootstrap.sh'), script);
    await run('sh', ['-n', path.join(dir, 'bootstrap.sh')]);
  });

  it.each([
    ['', 400],
    ['?set=demo', 400],
    ['?set=demo/1.0/x', 400],
    ['?set=demo/1.0&set=demo/1.0', 400],
    ['?set=demo/1.0&extra=1', 400],
    [`?set=${encodeURIComponent("de'mo/1.0")}`, 400],
    [`?set=${encodeURIComponent('demo/1.0;reboot')}`, 400],
    ['?set=nope/1.0', 404],
  ])('GET /bootstrap.sh%s is %i problem+json', async (query, status) => {
    const response = await fetch(`${server.url}/bootstrap.sh${query}`);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('under RPMGATE_REPO_AUTH=1 the agent repository needs no token while set and level repositories do', async () => {
    const guarded = await startTestServer({ env: { RPMGATE_REPO_AUTH: '1' } });
    try {
      const stored = await fetch(`${guarded.url}/api/v1/packages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${guarded.adminToken}`, 'content-type': 'application/x-rpm' },
        body: await readFile(agentRpm.file),
      });
      expect(stored.status).toBe(201);
      expect((await fetch(`${guarded.url}/repo/agent/repodata/repomd.xml`)).status).toBe(200);
      expect((await fetch(`${guarded.url}/repo/level/integ/repodata/repomd.xml`)).status).toBe(401);
    } finally {
      await guarded.close();
    }
  });
});
