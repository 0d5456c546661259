// Messages that say what to do, through the real server and the real CLI: each answer a new user met
// in the first hour and could not act on, now naming the way forward.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConformance, type Conformance } from '../../agent/commands/check.ts';
import { ApiClient } from '../../common/http-client.ts';
import { isRpmgateError } from '../../common/errors.ts';
import { rpmgate, runCli } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

let server: TestServer;
let authServer: TestServer;

async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isRpmgateError(error)) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  let files: string[];
  [server, authServer, files] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { RPMGATE_REPO_AUTH: '1' } }),
    buildSmallRpms([{ name: 'rg-first-hour' }]),
  ]);
  await server.admin.request('POST', '/api/v1/packages', { body: new Uint8Array(await import('node:fs/promises').then((fs) => fs.readFile(files[0]!))), headers: { 'content-type': 'application/x-rpm' } });
  await server.admin.post('/api/v1/sets', { name: 'fh', version: '1.0', packages: ['rg-first-hour-1.0-1.noarch'] });
  for (const level of ['qa_ready', 'pre_release', 'release']) await server.admin.post('/api/v1/sets/fh/1.0/promote', { level });
});
afterAll(async () => {
  await Promise.all([server?.close(), authServer?.close()]);
});

describe('promotion', () => {
  it('promoting a released set to qa_ready says it is already past it, whatever the role', async () => {
    for (const role of ['release_manager', 'integ', 'qa'] as const) {
      const client = await server.clientFor(role);
      const refused = await failure(client.post('/api/v1/sets/fh/1.0/promote', { level: 'qa_ready' }));
      expect(refused).toEqual({ status: 409, message: 'fh/1.0 is already at release, past qa_ready: promotion only moves a set forward' });
    }
    const again = await failure(server.admin.post('/api/v1/sets/fh/1.0/promote', { level: 'release' }));
    expect(again.message).toBe('fh/1.0 is already at release: promotion only moves a set forward');
  });
});

describe('enrollment', () => {
  it('enrolling a host that holds a live token names the CLI flag that replaces it', async () => {
    const enrollment = await server.clientFor('enrollment');
    await enrollment.post('/api/v1/hosts/enroll', { machineId: 'f1'.repeat(16), hostname: 'fh-host' });
    const refused = await failure(enrollment.post('/api/v1/hosts/enroll', { machineId: 'f1'.repeat(16), hostname: 'fh-host' }));
    expect(refused.status).toBe(409);
    expect(refused.message).toContain('rpmgate-agent enroll --replace');
    expect(refused.message).not.toMatch(/with replace: true/);
  });
});

describe('repository authentication', () => {
  it('a 401 on a repository explains basic auth for dnf, not a bearer header', async () => {
    const response = await fetch(`${authServer.url}/repo/level/integ/repodata/repomd.xml`);
    expect(response.status).toBe(401);
    const problem = (await response.json()) as { detail: string };
    expect(problem.detail).toContain('HTTP basic auth, with username=<any name> and password=<token> in the .repo file');
    expect(problem.detail).not.toContain('Bearer');
  });
});

describe('keys', () => {
  it('key show works without a token: the published fingerprint, as the admin sees it', async () => {
    const { body } = await server.admin.get<{ current: { fingerprint: string } }>('/api/v1/keys');
    const grouped = body.current.fingerprint.toUpperCase().replace(/(.{4})(?=.)/g, '$1 ');
    const result = await runCli('rpmgate', ['key', 'show'], { RPMGATE_URL: server.url, RPMGATE_TOKEN: '' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`published signing key (${server.url}/keys/rpmgate.asc):\n  ${grouped}\n`);
  });
});

describe('tokens', () => {
  it('token list shows live tokens without secrets; token revoke by name refuses the token from its next request', async () => {
    const secret = await server.tokenFor('qa', 'fh-revoked');
    const qa = new ApiClient({ server: server.url, token: secret });
    await qa.get('/api/v1/sets');
    const list = await rpmgate(server, server.adminToken, ['token', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID +NAME +ROLE +CREATED +BY +HOST$/m);
    expect(list.stdout).toMatch(/^\d+ +fh-revoked +qa +\S+ \S+ +bootstrap-admin +-$/m);
    expect(list.stdout).not.toContain(secret);
    const revoked = await rpmgate(server, server.adminToken, ['token', 'revoke', 'fh-revoked']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked token \d+ \(fh-revoked, qa\): it is refused from its next request on\n$/);
    expect(await failure(qa.get('/api/v1/sets'))).toEqual({ status: 401, message: 'the token is not valid (unknown or revoked)' });
    const again = await rpmgate(server, server.adminToken, ['token', 'revoke', 'fh-revoked']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('rpmgate: no live token named fh-revoked (rpmgate token list shows them)\n');
    const all = await rpmgate(server, server.adminToken, ['token', 'list', '--all']);
    expect(all.stdout).toMatch(/^\d+ +fh-revoked +qa .* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d +-$/m);
    const developer = await rpmgate(server, await server.tokenFor('developer'), ['token', 'list']);
    expect(developer.code).toBe(1);
    expect(developer.stderr).toMatch(/^rpmgate: role developer may not do this; allowed: admin\n$/);
  });
});

describe('hosts', () => {
  it('hosts --set of a set that does not exist is an error, not "no hosts"', async () => {
    const missing = await rpmgate(server, server.adminToken, ['hosts', '--set', 'nosuch/9.9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('rpmgate: no package set nosuch/9.9\n');
    const known = await rpmgate(server, server.adminToken, ['hosts', '--set', 'fh/1.0']);
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toBe('no hosts\n');
  });
});

describe('agent check', () => {
  const result: Conformance = {
    set: 'fh/1.0',
    arch: 'x86_64',
    conforming: true,
    strict: false,
    counts: { expected: 1, matched: 1, missing: 0, older: 0, newer: 0, different: 0, foreign: 1 },
    missing: [],
    older: [],
    newer: [],
    different: [],
    foreign: [{ name: 'bash', epoch: null, version: '5.2', release: '1', arch: 'x86_64' }],
  } as unknown as Conformance;

  it('check without --set takes the set of the .repo file configure wrote, as report does', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const reposDir = await mkdtemp(`${tmpdir()}/rpmgate-fh-repos-`);
    try {
      const token = await server.tokenFor('agent');
      const none = await runCli('rpmgate-agent', ['--server', server.url, '--token', token, '--repos-dir', reposDir, 'check']);
      expect(none.code).toBe(2);
      expect(none.stderr).toBe(`rpmgate-agent: this host follows no set (no .repo file of rpmgate-agent configure in ${reposDir}): pass --set NAME/VERSION, or configure the host first\n`);
      // The set named in the agent's .repo header is the one checked (here one the server does not have).
      await writeFile(`${reposDir}/rpmgate-nosuch.repo`, '# rpmgate-agent: set nosuch/9.9\n[rpmgate-set-nosuch-9.9]\nbaseurl=http://x/\n');
      const followed = await runCli('rpmgate-agent', ['--server', server.url, '--token', token, '--repos-dir', reposDir, 'check']);
      expect(followed.stderr).toBe('rpmgate-agent: no package set nosuch/9.9\n');
      expect(followed.code).toBe(2);
    } finally {
      await rm(reposDir, { recursive: true, force: true });
    }
  });

  it('check --extra lists the extra packages and does not tell the user to pass --extra', () => {
    const text = describeConformance(result, { listExtra: true });
    expect(text).toContain('  extra      bash-5.2-1.x86_64');
    expect(text).not.toContain('--extra lists them');
    expect(describeConformance(result)).toContain('--extra lists them');
  });
});

describe('shell completion', () => {
  it('rpmgate completion bash completes commands, subcommands and options in a real bash', async () => {
    const script = await runCli('rpmgate', ['completion', 'bash']);
    expect(script.code, script.stderr).toBe(0);
    const { execFile } = await import('node:child_process');
    const complete = (words: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'bash',
          ['-c', `eval "$SCRIPT"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _rpmgate; echo "\${COMPREPLY[@]}"`],
          { env: { ...process.env, SCRIPT: script.stdout } },
          (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
        ),
      );
    expect(await complete(['rpmgate', 'se'])).toBe('serve set');
    expect(await complete(['rpmgate', 'set', 'pr'])).toBe('promote');
    expect(await complete(['rpmgate', 'token', ''])).toBe('create list revoke');
    expect((await complete(['rpmgate', 'set', 'create', 'billing', '--pre'])).split(' ')).toEqual(['--prefer']);
    const zsh = await runCli('rpmgate', ['completion', 'zsh']);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = await runCli('rpmgate', ['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toBe('rpmgate: completion is written for bash or zsh, not "fish"\n');
  });
});

describe('connection errors', () => {
  let tls: Server;

  beforeAll(async () => {
    tls = createServer((_request, response) => response.end('plain'));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => tls.close(resolve));
  });

  it('an https URL to a plain HTTP server says so in words, with no OpenSSL code', async () => {
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    const result = await runCli('rpmgate', ['set', 'list'], { RPMGATE_URL: url, RPMGATE_TOKEN: 't' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`rpmgate: cannot reach ${url}: TLS expected but the server speaks plain HTTP (use an http:// URL)\n`);
  });

  it('a refused connection names the address and what to do; a remote one fails at once', async () => {
    const client = new ApiClient({ server: 'http://127.0.0.1:9', waitForStartMs: 0 });
    const refused = await failure(client.get('/api/v1/sets'));
    expect(refused.message).toBe('cannot reach http://127.0.0.1:9: connection refused (nothing listens on 127.0.0.1:9; is the server running?)');
    const unknown = await failure(new ApiClient({ server: 'http://no-such-host.invalid', waitForStartMs: 30_000 }).get('/api/v1/sets'));
    expect(unknown.message).toBe('cannot reach http://no-such-host.invalid: the host name no-such-host.invalid is unknown (DNS)');
  });
});
