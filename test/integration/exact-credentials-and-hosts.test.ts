// Authentication is exact and the server answers only the hosts it is meant for, through the real
// HTTP server: the API takes "Bearer TOKEN" and nothing else, repositories take basic user:token
// (dnf) or "Bearer TOKEN" (the agent); a Host header outside RPMGATE_ALLOWED_HOSTS (by default the
// listen address, localhost and the machine's host names) is a 400, so it never reaches a .repo file.
import { request } from 'node:http';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let guarded: TestServer;

beforeAll(async () => {
  [server, guarded] = await Promise.all([startTestServer(), startTestServer({ env: { RPMGATE_REPO_AUTH: '1' } })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), guarded?.close()]);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with exactly these headers (fetch would not send another Host, nor none at all). */
function get(base: string, path: string, headers: Record<string, string> = {}, options: { host?: string | null } = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, headers, setHost: options.host === undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (options.host) req.setHeader('host', options.host);
    req.end();
  });
}

const basic = (credentials: string | Buffer) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('the API takes exactly Authorization: Bearer TOKEN', () => {
  it('accepts the token alone after the scheme (the scheme in any case)', async () => {
    const token = await server.tokenFor('developer');
    expect((await get(server.url, '/api/v1/sets', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(server.url, '/api/v1/sets', { authorization: `bearer ${token}` })).status).toBe(200);
  });

  it('refuses trailing junk, other schemes, basic auth and malformed tokens with 401', async () => {
    const token = await server.tokenFor('developer');
    for (const authorization of [
      `Bearer ${token} trailing-junk`,
      `Bearer ${token},junk`,
      `Bearer ${token} `.padEnd(token.length + 12, 'x'),
      `Bearer "${token}"`,
      `Bearer`,
      `Bearer `,
      token,
      `Token ${token}`,
      basic(`anyone:${token}`),
      basic(`${token}`),
    ]) {
      const answer = await get(server.url, '/api/v1/sets', { authorization });
      expect(answer.status, authorization).toBe(401);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(JSON.parse((await get(server.url, '/api/v1/sets', { authorization: basic(`anyone:${token}`) })).body).detail).toContain('Bearer TOKEN');
  });
});

describe('repositories take basic user:token (dnf) or Bearer TOKEN (the agent)', () => {
  const repomd = '/repo/level/integ/repodata/repomd.xml';

  it('accepts any user name with the token as password, and the bearer token', async () => {
    const token = await guarded.tokenFor('agent');
    expect((await get(guarded.url, repomd, { authorization: basic(`anyone:${token}`) })).status).toBe(200);
    expect((await get(guarded.url, repomd, { authorization: basic(`dnf:${token}`) })).status).toBe(200);
    expect((await get(guarded.url, repomd, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('refuses a password without a user part, an empty password, junk around the credentials and bad base64 with 401', async () => {
    const token = await guarded.tokenFor('agent');
    for (const authorization of [
      basic(token),
      basic(`:${token}`),
      basic('anyone:'),
      basic(`any\u0001one:${token}`),
      basic(Buffer.concat([Buffer.from('caf\u00e9', 'latin1'), Buffer.from(`:${token}`)])),
      `${basic(`anyone:${token}`)} junk`,
      `${basic(`anyone:${token}`)}!`,
      `Basic ${Buffer.from(`anyone:${token}`).toString('base64url')}`.replace(/=+$/, '') + '*',
      'Basic',
      `Bearer ${token} trailing-junk`,
      `Digest username="anyone"`,
    ]) {
      const answer = await get(guarded.url, repomd, { authorization });
      expect(answer.status, authorization).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^Basic/);
    }
  });
});

describe('Host headers outside RPMGATE_ALLOWED_HOSTS are refused', () => {
  const port = () => new URL(server.url).port;

  it('by default answers the listen address, localhost and the machine host name at its port, and writes that host into .repo files', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `LOCALHOST:${port()}`, `${os.hostname()}:${port()}`]) {
      const answer = await get(server.url, '/repo/level/release.repo', {}, { host });
      expect(answer.status, host).toBe(200);
      expect(answer.body).toContain(`gpgkey=http://${host.toLowerCase()}/keys/rpmgate.asc`);
      expect(answer.headers.vary).toBe('Host');
    }
  });

  it('refuses any other host with 400 before anything is written with it: .repo files, the API, health, the warm repomd.xml path', async () => {
    const token = await server.tokenFor('developer');
    // Warm the repository, so that the fast path would hold an answer.
    await get(server.url, '/repo/level/release/repodata/repomd.xml');
    const fastBefore = server.server.fastPath.answered;
    for (const host of ['evil.example', `evil.example:${port()}`, `127.0.0.1:${Number(port()) + 1}`, `127.0.0.1.evil.example:${port()}`, `[::2]:${port()}`]) {
      for (const path of ['/repo/level/release.repo', '/repo/level/release/repodata/repomd.xml', '/api/v1/sets', '/healthz', '/keys/rpmgate.asc']) {
        const answer = await get(server.url, path, { authorization: `Bearer ${token}` }, { host });
        expect(answer.status, `${host} ${path}`).toBe(400);
        expect(answer.headers['content-type'], `${host} ${path}: ${answer.body}`).toBe('application/problem+json');
        expect(answer.body).not.toContain('gpgkey');
        expect(JSON.parse(answer.body).detail).toContain('RPMGATE_ALLOWED_HOSTS');
      }
    }
    expect(server.server.fastPath.answered).toBe(fastBefore);
    // Not a host at all: the Node listener refuses it before the app (400 without a body).
    for (const path of ['/repo/level/release.repo', '/repo/level/release/repodata/repomd.xml']) {
      const answer = await get(server.url, path, {}, { host: `localhost:${port()}@evil.example` });
      expect(answer.status).toBe(400);
      expect(answer.body).not.toContain('evil');
    }
    expect(server.server.fastPath.answered).toBe(fastBefore);
  });

  it('refuses a request without a Host header (the Node listener does, before the app)', async () => {
    expect((await get(server.url, '/repo/level/release.repo', {}, { host: null })).status).toBe(400);
  });

  it('RPMGATE_ALLOWED_HOSTS replaces the defaults: a name alone allows it bare and at the listening port', async () => {
    const named = await startTestServer({ env: { RPMGATE_ALLOWED_HOSTS: 'repo.example.com, [::1]:9 mirror.example.com:8443' } });
    try {
      const listening = new URL(named.url).port;
      for (const host of ['repo.example.com', `repo.example.com:${listening}`, 'mirror.example.com:8443']) {
        const answer = await get(named.url, '/repo/level/release.repo', {}, { host });
        expect(answer.status, host).toBe(200);
        expect(answer.body).toContain(`baseurl=http://${host}/repo/level/release/`);
      }
      for (const host of [`127.0.0.1:${listening}`, 'repo.example.com:9999', 'mirror.example.com', 'evil.example']) {
        expect((await get(named.url, '/repo/level/release.repo', {}, { host })).status, host).toBe(400);
      }
    } finally {
      await named.close();
    }
  });
});
