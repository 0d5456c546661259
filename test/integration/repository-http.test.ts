// The repository side of the HTTP server: package downloads with conditional and range requests,
// .repo files, caching and single-flight generation, percent-decoded paths, refusals, repository auth.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepomd, readRepodata } from '../../common/repodata/parse.ts';
import { readConfig } from '../../server/config.ts';
import { createApp } from '../../server/http/app.ts';
import { createLogger } from '../../server/log.ts';
import { startServer } from '../../server/runtime.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let packageUrl: string;
let packageBytes: Buffer;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  const integ = await server.clientFor('integ');
  for (const fixture of fixtures.packages) await integ.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
  const hello = fixtures.allNamed('rg-hello');
  await integ.post('/api/v1/sets', { name: 'web', version: '2.0^git1', packages: [hello[2]!.nevra, fixtures.byName('rg-lib').nevra] });
  packageUrl = `${server.url}/repo/set/web/2.0%5egit1/Packages/rg-lib-2.1-1.x86_64.rpm`;
  packageBytes = Buffer.from(await (await fetch(packageUrl)).arrayBuffer());
});
afterAll(async () => {
  await server?.close();
});

describe('package downloads', () => {
  it('GET serves the signed file with its ETag, Last-Modified and length; HEAD the same headers without a body', async () => {
    const get = await fetch(packageUrl);
    expect(get.status).toBe(200);
    const { body } = await server.admin.get<{ sha256: string; size: number }>('/api/v1/packages/rg-lib-2.1-1.x86_64');
    expect(get.headers.get('etag')).toBe(`"${body.sha256}"`);
    expect(get.headers.get('content-length')).toBe(String(body.size));
    expect(get.headers.get('accept-ranges')).toBe('bytes');
    expect(Date.parse(get.headers.get('last-modified')!)).not.toBeNaN();
    expect(packageBytes.length).toBe(body.size);

    const head = await fetch(packageUrl, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(head.headers.get('content-length')).toBe(String(body.size));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 304 to If-None-Match and If-Modified-Since', async () => {
    const first = await fetch(packageUrl);
    const etag = first.headers.get('etag')!;
    expect((await fetch(packageUrl, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(packageUrl, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    expect((await fetch(packageUrl, { headers: { 'if-modified-since': first.headers.get('last-modified')! } })).status).toBe(304);
  });

  it('serves byte ranges: first bytes, a middle slice, a suffix; 416 past the end', async () => {
    const size = packageBytes.length;
    const cases: [string, number, number][] = [
      ['bytes=0-95', 0, 95],
      ['bytes=100-199', 100, 199],
      ['bytes=-50', size - 50, size - 1],
      [`bytes=${size - 10}-`, size - 10, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await fetch(packageUrl, { headers: { range } });
      expect(response.status, range).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(Buffer.from(await response.arrayBuffer()).equals(packageBytes.subarray(start, end + 1)), range).toBe(true);
    }
    const beyond = await fetch(packageUrl, { headers: { range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
    const stale = await fetch(packageUrl, { headers: { range: 'bytes=0-9', 'if-range': '"not-this-one"' } });
    expect(stale.status).toBe(200);
  });

  it('serves a package only from a repository that holds it', async () => {
    expect((await fetch(`${server.url}/repo/set/web/2.0%5egit1/Packages/rg-epoch-1.5-2.noarch.rpm`)).status).toBe(404);
    expect((await fetch(`${server.url}/repo/level/qa_ready/Packages/rg-lib-2.1-1.x86_64.rpm`)).status).toBe(404);
    expect((await fetch(`${server.url}/repo/level/integ/Packages/rg-lib-2.1-1.x86_64.rpm`)).status).toBe(200);
    expect((await fetch(`${server.url}/repo/set/web/2.0%5egit1/source/Packages/rg-lib-2.1-1.src.rpm`)).status).toBe(200);
    expect((await fetch(`${server.url}/repo/set/web/2.0%5egit1/Packages/rg-lib-2.1-1.src.rpm`)).status).toBe(404);
  });

  it.each([
    '/repo/set/web/2.0%5egit1/Packages/..%2f..%2fetc%2fpasswd.rpm',
    '/repo/level/integ/repodata/..%2F..%2Fpg%2Fpostmaster.pid',
    '/repo/level/integ/repodata/%zz',
    '/repo/level/../../etc/passwd',
    '/repo/level/integ/repodata/0000000000000000000000000000000000000000000000000000000000000000-primary.xml.gz',
  ])('refuses %s without reaching the file system', async (path) => {
    const response = await fetch(server.url + path);
    expect([400, 404]).toContain(response.status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('repodata', () => {
  it('names metadata files by checksum and serves them immutable; repomd.xml must be revalidated', async () => {
    const repomdResponse = await fetch(`${server.url}/repo/set/web/2.0%5egit1/repodata/repomd.xml`);
    expect(repomdResponse.headers.get('cache-control')).toBe('no-cache');
    const repomd = await parseRepomd(Buffer.from(await repomdResponse.arrayBuffer()));
    for (const record of repomd.records) {
      const response = await fetch(`${server.url}/repo/set/web/2.0%5egit1/${record.href}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect(response.headers.get('etag')).toBe(`"${record.checksum}"`);
    }
    const primary = repomd.records.find((r) => r.type === 'primary')!;
    const { entries } = await readRepodata('primary', Buffer.from(await (await fetch(`${server.url}/repo/set/web/2.0%5egit1/${primary.href}`)).arrayBuffer()));
    expect([...entries.values()].map((e) => `${e.name}-${e.version.ver}`).sort()).toEqual(['rg-hello-2.0^git1', 'rg-lib-2.1']);
  });

  it('builds a repository generation once, however many requests arrive together', async () => {
    await server.admin.post('/api/v1/sets', { name: 'flight', version: '1', packages: [fixtures.byName('rg-epoch').nevra] });
    const before = server.server.context.repodata.builds;
    const bodies = await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${server.url}/repo/level/integ/repodata/repomd.xml`).then(async (r) => Buffer.from(await r.arrayBuffer()))),
    );
    expect(server.server.context.repodata.builds - before).toBe(1);
    for (const body of bodies) expect(body.equals(bodies[0]!)).toBe(true);
    await fetch(`${server.url}/repo/level/integ/repodata/repomd.xml`);
    expect(server.server.context.repodata.builds - before).toBe(1);
  });

  it('404 for unknown levels, sets and files', async () => {
    for (const path of ['/repo/level/gold/repodata/repomd.xml', '/repo/level/obsolete/repodata/repomd.xml', '/repo/set/none/1/repodata/repomd.xml', '/repo/set/web/2.0%5egit1/repodata/other.txt', '/repo/elsewhere/x']) {
      expect((await fetch(server.url + path)).status, path).toBe(404);
    }
  });

  it('serves a metadata file only under a URL that names a repository', async () => {
    const repomd = await parseRepomd(Buffer.from(await (await fetch(`${server.url}/repo/set/web/2.0%5egit1/repodata/repomd.xml`)).arrayBuffer()));
    const href = repomd.records.find((r) => r.type === 'primary')!.href;
    expect((await fetch(`${server.url}/repo/set/web/2.0%5egit1/${href}`)).status).toBe(200);
    for (const base of ['/repo/set/nonexistent/9/', '/repo/set/web/9.9/', '/repo/set/nonexistent/9/source/', '/repo/level/gold/', '/repo/level/obsolete/', '/repo/set/web/latest/release/']) {
      const response = await fetch(`${server.url}${base}${href}`);
      expect(response.status, base).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('revalidates repomd.xml and repomd.xml.asc by ETag only: If-Modified-Since alone never gets a 304', async () => {
    for (const file of ['repomd.xml', 'repomd.xml.asc']) {
      const url = `${server.url}/repo/level/integ/repodata/${file}`;
      const first = await fetch(url);
      expect(first.status, file).toBe(200);
      const etag = first.headers.get('etag')!;
      const lastModified = first.headers.get('last-modified')!;
      expect(Date.parse(lastModified), file).not.toBeNaN();
      // Last-Modified has whole seconds: a change within the same second would carry the same date.
      const byDate = await fetch(url, { headers: { 'if-modified-since': lastModified } });
      expect(byDate.status, file).toBe(200);
      expect(Buffer.from(await byDate.arrayBuffer()).equals(Buffer.from(await first.arrayBuffer())), file).toBe(true);
      expect((await fetch(url, { headers: { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() } })).status, file).toBe(200);
      expect((await fetch(url, { headers: { 'if-none-match': etag } })).status, file).toBe(304);
      expect((await fetch(url, { headers: { 'if-none-match': etag, 'if-modified-since': lastModified } })).status, file).toBe(304);
      expect((await fetch(url, { headers: { 'if-none-match': '"an-older-generation"', 'if-modified-since': lastModified } })).status, file).toBe(200);
    }
  });

  it('after two changes within one second, a client holding the first repomd.xml gets the second, not a 304', async () => {
    const url = `${server.url}/repo/level/qa_ready/repodata/repomd.xml`;
    const qualify = async (version: string, nevra: string) => {
      await server.admin.post('/api/v1/sets', { name: 'second', version, packages: [nevra], allowUnresolved: true });
      await server.admin.post(`/api/v1/sets/second/${version}/promote`, { level: 'qa_ready' });
    };
    await qualify('1', fixtures.byName('rg-epoch').nevra);
    const first = await fetch(url);
    const firstBody = Buffer.from(await first.arrayBuffer());
    await qualify('2', fixtures.byName('rg-lib').nevra);
    const again = await fetch(url, { headers: { 'if-modified-since': first.headers.get('last-modified')! } });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect(Buffer.from(await again.arrayBuffer()).equals(firstBody)).toBe(false);
  });
});

describe('.repo files', () => {
  it('for a set, a level and a channel: gpgcheck, repo_gpgcheck, the key, a disabled source section', async () => {
    const cases: [string, string][] = [
      ['/repo/set/web/2.0%5egit1.repo', `${server.url}/repo/set/web/2.0%5Egit1/`],
      ['/repo/level/integ.repo', `${server.url}/repo/level/integ/`],
    ];
    for (const [path, baseurl] of cases) {
      const response = await fetch(server.url + path);
      expect(response.status, path).toBe(200);
      const text = await response.text();
      expect(text).toContain(`baseurl=${baseurl}\n`);
      expect(text).toContain('gpgcheck=1\n');
      expect(text).toContain('repo_gpgcheck=1\n');
      expect(text).toContain(`gpgkey=${server.url}/keys/rpmgate.asc\n`);
      expect(text).toMatch(/\[rpmgate-[^\]]+-source\]\nname=[^\n]+\nbaseurl=[^\n]+source\/\nenabled=0/);
      expect(text).toMatch(/^\[rpmgate-[A-Za-z0-9_.:-]+\]$/m);
    }
    expect((await fetch(`${server.url}/repo/set/none/1.repo`)).status).toBe(404);
  });

  it('uses RPMGATE_BASE_URL when set', async () => {
    const other = await startTestServer({ env: { RPMGATE_BASE_URL: 'https://packages.example.com/' } });
    try {
      const text = await (await fetch(`${other.url}/repo/level/release.repo`)).text();
      expect(text).toContain('baseurl=https://packages.example.com/repo/level/release/');
      expect(text).toContain('gpgkey=https://packages.example.com/keys/rpmgate.asc');
    } finally {
      await other.close();
    }
  });
});

describe('RPMGATE_REPO_AUTH=1', () => {
  it('asks for basic auth (any user, a token as password) and accepts it; the key stays public', async () => {
    const guarded = await startTestServer({ env: { RPMGATE_REPO_AUTH: '1' } });
    try {
      const anonymous = await fetch(`${guarded.url}/repo/level/integ/repodata/repomd.xml`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
      const token = await guarded.tokenFor('agent');
      const basic = `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`;
      expect((await fetch(`${guarded.url}/repo/level/integ/repodata/repomd.xml`, { headers: { authorization: basic } })).status).toBe(200);
      const wrong = `Basic ${Buffer.from('anyone:rg_wrong').toString('base64')}`;
      expect((await fetch(`${guarded.url}/repo/level/integ/repodata/repomd.xml`, { headers: { authorization: wrong } })).status).toBe(401);
      expect((await fetch(`${guarded.url}/keys/rpmgate.asc`)).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('two servers on one database', () => {
  it('a change committed through one is seen by the other without a restart (by notification)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-test-second-'));
    // Every server of one database signs with the same key (key-of-record.ts): the second one is given it.
    const key = server.server.context.keyring.current().info.fingerprint;
    const keyFile = path.join(server.dataDir, 'keys', `${key}.key.asc`);
    const config = readConfig({ PORT: '0', RPMGATE_DATA_DIR: dataDir, RPMGATE_ADMIN_TOKEN: server.adminToken, RPMGATE_SIGNING_KEY_FILE: keyFile });
    const second = await startServer(config, { log: createLogger(false), database: server.database });
    try {
      const repomdAt = async (base: string) => (await fetch(`${base}/repo/level/qa_ready/repodata/repomd.xml`)).text();
      const before = await repomdAt(second.url);
      expect(before).toBe(await repomdAt(server.url));
      await server.admin.post('/api/v1/sets', { name: 'notified', version: '1', packages: [fixtures.byName('rg-epoch').nevra] });
      const { status } = await server.admin.post('/api/v1/sets/notified/1/promote', { level: 'qa_ready' });
      expect(status).toBe(200);
      const now = await repomdAt(server.url);
      expect(now).not.toBe(before);
      // The notification arrives a moment after the commit: poll, for at most five seconds.
      let seen = before;
      for (const deadline = Date.now() + 5000; seen !== now && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen = await repomdAt(second.url);
      }
      expect(seen).toBe(now);
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the warm repomd.xml and metadata path (server/http/repomd-fast-path.ts)', () => {
  it('answers exactly as the app does: body, status and headers, for GET, HEAD, If-None-Match and the signature', async () => {
    const app = createApp(server.server.context);
    const base = '/repo/set/web/2.0^git1/repodata/';
    // Warm it: the first request builds through the app.
    await fetch(`${server.url}/repo/set/web/2.0^git1/repodata/repomd.xml`);
    const repomd = await fetch(`${server.url}${base}repomd.xml`);
    const etag = repomd.headers.get('etag')!;
    // The metadata files repomd.xml names, held in the repodata memory, take the same path.
    const primary = /href="repodata\/([^"]*primary\.xml\.gz)"/.exec(await repomd.text())![1]!;
    const primaryEtag = (await fetch(`${server.url}${base}${primary}`)).headers.get('etag')!;
    const cases: { file: string; init?: RequestInit }[] = [
      { file: primary },
      { file: primary, init: { method: 'HEAD' } },
      { file: primary, init: { headers: { 'if-none-match': primaryEtag } } },
      { file: 'repomd.xml' },
      { file: 'repomd.xml.asc' },
      { file: 'repomd.xml', init: { method: 'HEAD' } },
      { file: 'repomd.xml', init: { headers: { 'if-none-match': etag } } },
      { file: 'repomd.xml', init: { headers: { 'if-none-match': '"other"' } } },
      { file: 'repomd.xml', init: { headers: { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() } } },
    ];
    const fastBefore = server.server.fastPath.answered;
    const comparable = (response: Response) => {
      // The request id is the listener's (every answer gets its own), not the app's.
      const headers = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'connection', 'keep-alive', 'x-request-id'].includes(name)));
      return { status: response.status, headers };
    };
    for (const { file, init } of cases) {
      const served = await fetch(`${server.url}${base}${file}`, init);
      const fromApp = await app.request(`${base}${file}`, init);
      const label = `${init?.method ?? 'GET'} ${file} ${JSON.stringify(init?.headers ?? {})}`;
      expect(comparable(served), label).toEqual(comparable(fromApp));
      expect(served.headers.get('x-request-id'), label).toMatch(/^[\w.:-]{1,128}$/);
      expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(await fromApp.arrayBuffer())), label).toBe(true);
    }
    // Every one of those went the fast way (the app's answers above were asked of it directly).
    expect(server.server.fastPath.answered - fastBefore).toBe(cases.length);
  });

  it('answers a change on the very next request, and leaves unknown repositories to the app (404 problem)', async () => {
    const url = `${server.url}/repo/level/pre_release/repodata/repomd.xml`;
    const before = await (await fetch(url)).text();
    expect(await (await fetch(url)).text()).toBe(before);
    await server.admin.post('/api/v1/sets', { name: 'fast', version: '1', packages: [fixtures.byName('rg-text').nevra], allowUnresolved: true });
    for (const level of ['qa_ready', 'pre_release']) await server.admin.post('/api/v1/sets/fast/1/promote', { level });
    expect(await (await fetch(url)).text()).not.toBe(before);
    const missing = await fetch(`${server.url}/repo/set/none/9/repodata/repomd.xml`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('the warm package file and key path (server/http/warm-path.ts)', () => {
  const comparable = (response: Response) => {
    const headers = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'connection', 'keep-alive', 'x-request-id'].includes(name)));
    return { status: response.status, headers };
  };

  it('answers a package file the app has answered exactly as the app does: GET, HEAD, ranges, conditionals', async () => {
    const app = createApp(server.server.context);
    const file = '/repo/set/web/2.0^git1/Packages/rg-lib-2.1-1.x86_64.rpm';
    const first = await fetch(`${server.url}${file}`);
    const etag = first.headers.get('etag')!;
    const cases: RequestInit[] = [
      {},
      { method: 'HEAD' },
      { headers: { range: 'bytes=0-99' } },
      { headers: { range: 'bytes=-50' } },
      { headers: { 'if-none-match': etag } },
      { headers: { 'if-modified-since': first.headers.get('last-modified')! } },
    ];
    const fastBefore = server.server.fastPath.answered;
    for (const init of cases) {
      const served = await fetch(`${server.url}${file}`, init);
      const fromApp = await app.request(file, init);
      const label = `${init.method ?? 'GET'} ${JSON.stringify(init.headers ?? {})}`;
      expect(comparable(served), label).toEqual(comparable(fromApp));
      expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(await fromApp.arrayBuffer())), label).toBe(true);
    }
    expect(server.server.fastPath.answered - fastBefore).toBe(cases.length);
    // A range outside the file is the app's 416 problem.
    const outside = await fetch(`${server.url}${file}`, { headers: { range: `bytes=${packageBytes.length + 10}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-type')).toBe('application/problem+json');
    expect(server.server.fastPath.answered - fastBefore).toBe(cases.length);
  });

  it('a blob damaged before the warm path read it goes to the app: a 500 problem, never a cut body; once read whole and verified, memory answers it', async () => {
    await server.admin.post('/api/v1/sets', { name: 'warmth', version: '1', packages: [fixtures.byName('rg-text').nevra], allowUnresolved: true });
    const url = `${server.url}/repo/set/warmth/1/Packages/${path.basename(fixtures.byName('rg-text').path)}`;
    // The app answers first, and the warm path remembers what the URL names.
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const { body } = await server.admin.get<{ sha256: string }>(`/api/v1/packages/${fixtures.byName('rg-text').nevra}`);
    const blob = server.server.context.store.localFile(body.sha256)!;
    const fastBefore = server.server.fastPath.answered;
    await writeFile(blob, whole.subarray(0, whole.length >> 1));
    try {
      const damaged = await fetch(url);
      expect(damaged.status).toBe(500);
      expect(damaged.headers.get('content-type')).toBe('application/problem+json');
      expect(server.server.fastPath.answered).toBe(fastBefore);
    } finally {
      await writeFile(blob, whole);
    }
    const again = await fetch(url);
    expect(Buffer.from(await again.arrayBuffer()).equals(whole)).toBe(true);
    expect(server.server.fastPath.answered).toBe(fastBefore + 1);
    // Read whole and matching its sha256, the file is now answered from memory: damage on disk
    // afterwards changes nothing the hosts get (the store's fsck finds it).
    await writeFile(blob, whole.subarray(0, whole.length >> 1));
    try {
      const fromMemory = await fetch(url);
      expect(fromMemory.status).toBe(200);
      expect(Buffer.from(await fromMemory.arrayBuffer()).equals(whole)).toBe(true);
      expect(server.server.fastPath.answered).toBe(fastBefore + 2);
    } finally {
      await writeFile(blob, whole);
    }
  });

  it('a change is seen on the very next request: a deleted set\'s package URL answers 404 at once', async () => {
    await server.admin.post('/api/v1/sets', { name: 'fleeting', version: '1', packages: [fixtures.byName('rg-text').nevra], allowUnresolved: true });
    const url = `${server.url}/repo/set/fleeting/1/Packages/${path.basename(fixtures.byName('rg-text').path)}`;
    expect((await fetch(url)).status).toBe(200);
    const fastBefore = server.server.fastPath.answered;
    expect((await fetch(url)).status).toBe(200);
    expect(server.server.fastPath.answered).toBe(fastBefore + 1);
    const deleted = await server.admin.request('DELETE', '/api/v1/sets/fleeting/1', { json: { comment: 'test' } });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers .repo files of levels, sets and channels warm, exactly as the app does; an unknown set is the app\'s 404', async () => {
    const files = ['/repo/level/release.repo', '/repo/set/web/2.0^git1.repo', '/repo/set/web/latest/integ.repo'];
    for (const file of files) await fetch(`${server.url}${file}`);
    const fastBefore = server.server.fastPath.answered;
    for (const file of files) {
      for (const method of ['GET', 'HEAD']) {
        const served = await fetch(`${server.url}${file}`, { method });
        // A query sends the same request to the app (the warm path takes no URL with one).
        const fromApp = await fetch(`${server.url}${file}?via=app`, { method });
        expect(comparable(served), `${method} ${file}`).toEqual(comparable(fromApp));
        expect(await served.text(), `${method} ${file}`).toBe(await fromApp.text());
      }
    }
    expect(server.server.fastPath.answered - fastBefore).toBe(files.length * 2);
    for (const file of ['/repo/set/nothing/1.repo', '/repo/level/nowhere.repo']) {
      const missing = await fetch(`${server.url}${file}`);
      expect(missing.status, file).toBe(404);
      expect(missing.headers.get('content-type'), file).toBe('application/problem+json');
    }
    expect(server.server.fastPath.answered - fastBefore).toBe(files.length * 2);
  });

  it('answers the key warm, with an ETag and 304 on If-None-Match, and a newly published key at once', async () => {
    const app = createApp(server.server.context);
    const fastBefore = server.server.fastPath.answered;
    const key = await fetch(`${server.url}/keys/rpmgate.asc`);
    expect(comparable(key)).toEqual(comparable(await app.request('/keys/rpmgate.asc')));
    const etag = key.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await fetch(`${server.url}/keys/rpmgate.asc`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect(server.server.fastPath.answered).toBe(fastBefore + 2);
    const before = await key.text();
    const added = await server.admin.post('/api/v1/keys', { algorithm: 'ed25519' });
    expect(added.status).toBe(201);
    const after = await fetch(`${server.url}/keys/rpmgate.asc`, { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect((await after.text()).length).toBeGreaterThan(before.length);
  });
});
