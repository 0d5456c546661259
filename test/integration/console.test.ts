// The web console over real HTTP on a real database: sessions (stored hashed, cookie flags, log-out,
// a revoked token or an ended session ending it), CSRF refusals, promotion from a set's page by role,
// and what the pages show of sets, members, source ties, differences, hosts and components, with
// strict query parameters and pagination; packages refused on entry (real uploads the entry checks
// refuse), exceptions granted and removed through the console's forms by the roles that may, findings
// and the exceptions covering them on a set's page, and the warnings of a real cleanup run. The browser
// tests (test/e2e/console.test.ts) drive the same pages in Chromium.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLogin, cookiesOf, postForm, postLogin, type ConsoleLogin } from '../support/console.ts';
import { agentClient, createSetOf, insertPackages, machineId, report } from '../support/fleet.ts';
import { buildPolicyRpms } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const day = 86_400_000;
let server: TestServer;
/** The cleanup's clock: moved ahead to make an upload an orphan. */
let cleanupNow = new Date();
/** rg-setuid (refused on entry by the default policy), rg-bare (accepted with warnings), rg-clean. */
let rpms: Map<string, string>;
const agents = new Map<string, Awaited<ReturnType<typeof agentClient>>>();

const v1 = ['app-1.0-1.x86_64', 'libfoo-1.5-3.x86_64', 'tool-2.0-1.noarch', 'old-1.0-1.noarch'];
const v2 = ['app-1.1-1.x86_64', 'libfoo-1.4-1.x86_64', 'tool-2.0-1.noarch', 'fresh-0.1-1.noarch'];

async function page(path: string, login: ConsoleLogin): Promise<{ status: number; html: string }> {
  const response = await fetch(server.url + path, { headers: { cookie: login.cookie }, redirect: 'manual' });
  return { status: response.status, html: await response.text() };
}

/** The text of an HTML fragment, tags removed, for readable assertions. */
function text(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

async function level(name: string, version: string): Promise<string> {
  const [row] = await server.database.sql<{ level: string }[]>`select level from package_sets where name = ${name} and version = ${version}`;
  return row!.level;
}

async function upload(file: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/api/v1/packages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' },
    body: await readFile(file),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  [server, rpms] = await Promise.all([startTestServer({ clock: () => cleanupNow }), buildPolicyRpms(['rg-setuid', 'rg-bare', 'rg-clean'])]);
  await insertPackages(server, ['app-1.1-1.src']);
  await createSetOf(server, 'shop', '1.0', v1);
  await createSetOf(server, 'shop', '1.1', v2);
  // 120 members: two pages of members.
  await createSetOf(server, 'big', '1', Array.from({ length: 120 }, (_, i) => `pkg${String(i).padStart(3, '0')}-1.0-1.noarch`));
  for (const [label, packages] of [
    ['web-1', v2],
    ['web-2', ['app-1.0-1.x86_64', 'tool-2.0-1.noarch', 'fresh-0.1-1.noarch']],
    ['db-1', [...v2, 'bash-5.1-1.x86_64']],
  ] as const) {
    const agent = await agentClient(server);
    agents.set(label, agent);
    await agent.post('/api/v1/hosts/report', report(label, [...packages], { set: 'shop/1.1' }));
  }
}, 300_000);
afterAll(async () => {
  await server?.close();
});

describe('sessions', () => {
  it('a log-in stores only the digest of a random session secret, in an HttpOnly, SameSite=Strict cookie; the token is never shown', async () => {
    const token = await server.tokenFor('qa', 'qa-person');
    const response = await postLogin(server.url, token);
    expect(response.status).toBe(303);
    const line = response.headers.getSetCookie().find((l) => l.startsWith('rpmgate_session='))!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).toMatch(/Path=\/ui/);
    expect(line).not.toMatch(/Secure/);
    const secret = cookiesOf(response).get('rpmgate_session')!;
    expect(secret).not.toContain(token);
    const rows = await server.database.sql<{ session_sha256: Buffer }[]>`
      select s.session_sha256 from console_sessions s join tokens t on t.id = s.token_id where t.name = 'qa-person'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.session_sha256.toString('hex')).toBe(createHash('sha256').update(secret).digest('hex'));
    const clear = await server.database.sql`select 1 from console_sessions s where position(${secret} in s::text) > 0 or position(${token} in s::text) > 0`;
    expect(clear).toHaveLength(0);

    const login = { cookie: `rpmgate_session=${secret}`, csrf: '' };
    for (const path of ['/ui', '/ui/sets/shop/1.1', '/ui/hosts']) expect((await page(path, login)).html).not.toContain(token);
  });

  it('over TLS (a proxy saying so) the session cookie is Secure', async () => {
    const token = await server.tokenFor('developer');
    const form = await fetch(`${server.url}/ui/login`, { headers: { 'x-forwarded-proto': 'https' } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    expect(form.headers.getSetCookie()[0]).toMatch(/Secure/);
    const response = await fetch(`${server.url}/ui/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https', cookie: `rpmgate_login=${cookiesOf(form).get('rpmgate_login')}` },
      body: new URLSearchParams({ csrf, token }).toString(),
    });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie().find((l) => l.startsWith('rpmgate_session='))).toMatch(/; Secure/);
  });

  it('a wrong token is refused on the form without echoing it; a log-in form without its cookie is refused', async () => {
    const response = await postLogin(server.url, 'rg_wrong-token-value');
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain('not valid');
    expect(html).not.toContain('rg_wrong-token-value');
    const noCookie = await fetch(`${server.url}/ui/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: 'x', token: server.adminToken }).toString(),
    });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.getSetCookie().some((l) => l.startsWith('rpmgate_session='))).toBe(false);
  });

  it('log-out needs the form token and ends the session in the database', async () => {
    const login = await consoleLogin(server.url, await server.tokenFor('cpe'));
    expect((await postForm(server.url, '/ui/logout', login, {})).status).toBe(403);
    expect((await page('/ui', login)).status).toBe(200);
    const out = await postForm(server.url, '/ui/logout', login, { csrf: login.csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/ui/login?ended=true');
    const after = await page('/ui', login);
    expect(after.status).toBe(303);
    const digest = createHash('sha256').update(login.cookie.split('=')[1]!).digest();
    expect(await server.database.sql`select 1 from console_sessions where session_sha256 = ${digest}`).toHaveLength(0);
  });

  it('revoking the token ends its sessions; a session past its idle end is over', async () => {
    const token = await server.tokenFor('integ', 'integ-revoked');
    const login = await consoleLogin(server.url, token);
    expect((await page('/ui', login)).status).toBe(200);
    await server.database.sql`update tokens set revoked_at = now() where name = 'integ-revoked'`;
    expect((await page('/ui', login)).status).toBe(303);

    const other = await consoleLogin(server.url, await server.tokenFor('integ', 'integ-idle'));
    await server.database.sql`
      update console_sessions set idle_expires_at = now() - interval '1 second'
      where token_id = (select id from tokens where name = 'integ-idle')`;
    expect((await page('/ui', other)).status).toBe(303);
  });

  it('the bootstrap admin token opens a session too', async () => {
    const login = await consoleLogin(server.url, server.adminToken);
    expect(text((await page('/ui', login)).html)).toContain('bootstrap-admin (admin)');
  });
});

describe('promotion from a set page', () => {
  it('forms without their CSRF token, with another session\'s, or from another site are refused and change nothing', async () => {
    const integ = await consoleLogin(server.url, await server.tokenFor('integ'));
    const other = await consoleLogin(server.url, await server.tokenFor('integ'));
    const path = '/ui/sets/shop/1.0/promote';
    for (const fields of [{ level: 'qa_ready' }, { level: 'qa_ready', csrf: other.csrf }, { level: 'qa_ready', csrf: '' }] as Record<string, string>[]) {
      const response = await postForm(server.url, path, integ, fields);
      expect(response.status).toBe(403);
      expect(text(await response.text())).toContain('security token');
    }
    const crossSite = await fetch(server.url + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: integ.cookie, origin: 'https://evil.example' },
      body: new URLSearchParams({ level: 'qa_ready', csrf: integ.csrf }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect(await level('shop', '1.0')).toBe('integ');
  });

  it('a role that may not take the next step sees the button disabled with the roles that may; posting anyway is refused', async () => {
    const qa = await consoleLogin(server.url, await server.tokenFor('qa'));
    const { html } = await page('/ui/sets/shop/1.0', qa);
    expect(html).toMatch(/<button type="submit" disabled="" aria-describedby="reason-qa_ready">Promote to qa_ready<\/button>/);
    expect(text(html)).toContain('Only integ or admin may move a set to qa_ready; you are signed in as qa.');
    const refused = await postForm(server.url, '/ui/sets/shop/1.0/promote', qa, { level: 'qa_ready', csrf: qa.csrf });
    expect(refused.status).toBe(403);
    expect(text(await refused.text())).toContain('role qa may not promote to qa_ready');
    expect(await level('shop', '1.0')).toBe('integ');
  });

  it('a role that may promotes: the page says so, the level moved, and a second step past the matrix is refused', async () => {
    const integ = await consoleLogin(server.url, await server.tokenFor('integ', 'integ-promoter'));
    const before = await page('/ui/sets/shop/1.1', integ);
    expect(before.html).toMatch(/<button type="submit">Promote to qa_ready<\/button>/);
    const response = await postForm(server.url, '/ui/sets/shop/1.1/promote', integ, { level: 'qa_ready', comment: 'green', csrf: integ.csrf });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ui/sets/shop/1.1?promoted=qa_ready');
    expect(await level('shop', '1.1')).toBe('qa_ready');
    const after = text((await page('/ui/sets/shop/1.1?promoted=qa_ready', integ)).html);
    expect(after).toContain('shop/1.1 is now at qa_ready.');
    expect(after).toMatch(/integ → qa_ready by integ-promoter, \d{4}-\d\d-\d\d \d\d:\d\d UTC : “green”/);
    // The step after qa_ready belongs to qa and release managers; a stale form for a skipped level is a conflict.
    const skip = await postForm(server.url, '/ui/sets/shop/1.1/promote', integ, { level: 'release', csrf: integ.csrf });
    expect(skip.status).toBe(403);
    const rm = await consoleLogin(server.url, await server.tokenFor('release_manager'));
    const conflict = await postForm(server.url, '/ui/sets/shop/1.1/promote', rm, { level: 'release', csrf: rm.csrf });
    expect(conflict.status).toBe(409);
    expect(text(await conflict.text())).toContain('it can move to pre_release or obsolete');
    // The overview lists it among the latest promotions.
    expect(text((await page('/ui', integ)).html)).toMatch(/shop\/1\.1 qa_ready integ-promoter/);
  });
});

describe('pages', () => {
  let admin: ConsoleLogin;
  beforeAll(async () => {
    admin = await consoleLogin(server.url, server.adminToken);
  });

  it('a set page shows members with levels and source ties, the difference from the previous version, its hosts and .repo lines', async () => {
    const { status, html } = await page('/ui/sets/shop/1.1', admin);
    expect(status).toBe(200);
    const t = text(html);
    // The binary's stored SRPM became a member (sources follow binaries); SRPMs not stored are named.
    expect(t).toContain('app 1.1-1 src qa_ready source of 1 binary');
    expect(t).toContain('app 1.1-1 x86_64 qa_ready app-1.1-1.src');
    expect(t).toContain('fresh 0.1-1 noarch qa_ready fresh-0.1-1.src.rpm (not stored)');
    expect(t).toContain('Against shop/1.0');
    expect(t).toContain('2 added, 1 removed, 1 upgraded, 1 downgraded');
    expect(t).toContain('app.x86_64 1.0-1 → 1.1-1');
    expect(t).toContain('libfoo.x86_64 1.5-3 → 1.4-1');
    expect(t).toContain('fresh-0.1-1.noarch');
    expect(t).toContain('old-1.0-1.noarch');
    expect(t).toMatch(/2 conforming, 1 drifting/);
    expect(html).toContain(`href="/ui/hosts/${machineId('web-2')}"`);
    expect(t).toContain(`baseurl=${server.url}/repo/set/shop/1.1/`);
    expect(t).toContain('gpgcheck=1');
    // Synthetic members were never checked: no finding.
    expect(t).toContain('Entry-check findings');
    expect(t).toContain('tool 2.0-1 noarch qa_ready tool-2.0-1.src.rpm (not stored) none');
    const drifting = await page('/ui/sets/shop/1.1?drifting=true', admin);
    expect(drifting.html).toContain(machineId('web-2'));
    expect(drifting.html).not.toContain(machineId('web-1'));
  });

  it('long lists come a page at a time, and query parameters are checked strictly', async () => {
    const first = text((await page('/ui/sets/big/1', admin)).html);
    expect(first).toContain('Showing 1–100 of 120');
    expect(first).toContain('pkg099');
    expect(first).not.toContain('pkg100');
    const second = text((await page('/ui/sets/big/1?members=2', admin)).html);
    expect(second).toContain('Showing 101–120 of 120');
    expect(second).toContain('pkg119');
    for (const path of ['/ui/sets?page=0', '/ui/sets?unknown=1', '/ui/sets?level=gold', '/ui/hosts?older=x', '/ui/sets?page=1&page=2', `/ui/hosts?q=${'a'.repeat(300)}`]) {
      const response = await page(path, admin);
      expect(response.status, path).toBe(400);
      expect(response.html).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(text((await page('/ui/sets?name=sh', admin)).html)).toContain('Showing 1–2 of 2');
    expect(text((await page('/ui/sets?level=qa_ready', admin)).html)).toContain('shop/1.1');
  });

  it('hosts filter by drift, set, report age and name; a host page shows drift, inventory and history', async () => {
    const drifting = await page('/ui/hosts?drifting=true', admin);
    expect(drifting.html).toContain('web-2.example.com');
    expect(drifting.html).not.toContain('web-1.example.com');
    const byName = text((await page('/ui/hosts?q=DB', admin)).html);
    expect(byName).toContain('Showing 1–1 of 1');
    expect(byName).toContain('db-1.example.com');
    await server.database.sql`update hosts set last_report_at = now() - interval '10 days' where hostname = 'db-1.example.com'`;
    const stale = await page('/ui/hosts?older=7', admin);
    expect(stale.html).toContain('db-1.example.com');
    expect(stale.html).not.toContain('web-1.example.com');
    expect(text((await page('/ui/hosts?set=shop/1.1', admin)).html)).toContain('Showing 1–3 of 3');

    const before = text((await page(`/ui/hosts/${machineId('web-2')}`, admin)).html);
    expect(before).toMatch(/libfoo \.x86_64 missing 1\.4-1/);
    expect(before).toMatch(/app \.x86_64 older 1\.1-1 1\.0-1/);
    expect(before).toContain('No change since the first report.');
    await agents.get('web-2')!.post('/api/v1/hosts/report', report('web-2', ['app-1.1-1.x86_64', 'tool-2.0-1.noarch', 'fresh-0.1-1.noarch'], { set: 'shop/1.1' }));
    const host = text((await page(`/ui/hosts/${machineId('web-2')}`, admin)).html);
    expect(host).toMatch(/libfoo \.x86_64 missing 1\.4-1/);
    expect(host).not.toContain('older 1.1-1');
    expect(host).toMatch(/History When Change Package \d{4}-\d\d-\d\d \d\d:\d\d UTC changed app-1\.0-1\.x86_64 → 1\.1-1/);
    const inventory = text((await page(`/ui/hosts/${machineId('web-2')}?package=fr`, admin)).html);
    expect(inventory).toContain('fresh 0.1-1 noarch');
    expect(inventory).toContain('Showing 1–1 of 1');
  });

  it('a component page lists each version with the level it reached, the sets holding it and the hosts running it', async () => {
    const t = text((await page('/ui/components/app', admin)).html);
    // web-2 moved from 1.0 to 1.1 in the test above.
    expect(t).toContain('1.1-1 x86_64 qa_ready shop/1.1 qa_ready 3 db-1.example.com web-1.example.com web-2.example.com');
    expect(t).toContain('1.0-1 x86_64 integ shop/1.0 integ none');
    expect(t).toContain('1.1-1 src qa_ready shop/1.1 qa_ready none');
    expect((await page('/ui/components/nothing-here', admin)).status).toBe(404);
    expect(text((await page('/ui/components?name=lib', admin)).html)).toContain('libfoo');
  });
});

describe('entry checks and exceptions', () => {
  let rm: ConsoleLogin;
  let bareNevra: string;
  beforeAll(async () => {
    rm = await consoleLogin(server.url, await server.tokenFor('release_manager', 'rm-rita'));
    const developer = await server.tokenFor('developer', 'dev-dora');
    const bare = await upload(rpms.get('rg-bare')!, developer);
    expect(bare.status, JSON.stringify(bare.body)).toBe(201);
    bareNevra = String(bare.body.nevra);
    await server.admin.post('/api/v1/sets', { name: 'checked', version: '1', packages: [bareNevra], allowUnresolved: true, noSources: true });
  });

  async function exceptionCount(): Promise<number> {
    const [row] = await server.database.sql<{ n: number }[]>`select count(*)::int as n from check_exceptions`;
    return row!.n;
  }

  it('a package the entry checks refuse is listed on the overview with the finding that refused it, its uploader and when', async () => {
    const developer = await server.tokenFor('developer', 'dev-dan');
    const refused = await upload(rpms.get('rg-setuid')!, developer);
    expect(refused.status).toBe(422);
    const t = text((await page('/ui', rm)).html);
    expect(t).toMatch(/Packages refused on entry lately Package Refused by Uploaded by When rg-setuid-1\.0-1\.\w+ setuid-file at \/usr\/share\/rg-setuid\/tool ?: a setuid file \(mode 4755\) dev-dan \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  });

  it('a release manager grants an exception with the form: listed on the page and by the API, it covers the finding on the set page; removing it works', async () => {
    const before = await page('/ui/exceptions', rm);
    expect(before.html).toContain('action="/ui/exceptions"');
    const granted = await postForm(server.url, '/ui/exceptions', rm, {
      csrf: rm.csrf,
      check: 'required-url',
      package: 'rg-bare',
      reason: 'upstream has no home page',
      expires: '2099-12-31',
      path: '',
      untilVersion: '',
    });
    expect(granted.status).toBe(303);
    const id = /^\/ui\/exceptions\?granted=(\d+)$/.exec(granted.headers.get('location') ?? '')?.[1];
    expect(id, granted.headers.get('location') ?? '').toBeDefined();
    const listed = text((await page(`/ui/exceptions?granted=${id}`, rm)).html);
    expect(listed).toContain(`Exception ${id} is granted.`);
    expect(listed).toMatch(new RegExp(`${id} required-url rg-bare — upstream has no home page active, until 2099-12-31 00:00 UTC by rm-rita, \\d{4}-`));
    const api = (await server.admin.get<{ id: number; check: string; package: string; grantedBy: string; expires: string; state: string }[]>('/api/v1/exceptions')).body;
    expect(api.find((e) => e.id === Number(id))).toMatchObject({ check: 'required-url', package: 'rg-bare', grantedBy: 'rm-rita', expires: '2099-12-31T00:00:00.000Z', state: 'active' });

    // rg-bare was accepted with warnings before the exception: the set page shows them, and the exception covering one now.
    const set = text((await page('/ui/sets/checked/1', rm)).html);
    expect(set).toMatch(new RegExp(`required-url \\(warning\\): [^]*? covered now by exception ${id} \\(granted by rm-rita: upstream has no home page\\)`));
    expect(set).not.toMatch(/required-packager \(warning\): [^:]*covered now/);

    const removed = await postForm(server.url, `/ui/exceptions/${id}/remove`, rm, { csrf: rm.csrf });
    expect(removed.status).toBe(303);
    expect(removed.headers.get('location')).toBe(`/ui/exceptions?removed=${id}`);
    const after = await page(`/ui/exceptions?removed=${id}`, rm);
    expect(text(after.html)).toContain(`Exception ${id} is removed.`);
    expect(after.html).not.toContain(`id="exception-${id}"`);
    expect((await server.admin.get<{ id: number }[]>('/api/v1/exceptions')).body.map((e) => e.id)).not.toContain(Number(id));
    const audit = await server.database.sql<{ action: string; actor: string }[]>`select action, actor from check_exception_audit where exception_id = ${Number(id)} order by id`;
    expect(audit).toEqual([{ action: 'grant', actor: 'rm-rita' }, { action: 'remove', actor: 'rm-rita' }]);
    expect(text((await page('/ui/sets/checked/1', rm)).html)).not.toContain('covered now');
    // Removed once: a second removal finds nothing.
    expect((await postForm(server.url, `/ui/exceptions/${id}/remove`, rm, { csrf: rm.csrf })).status).toBe(404);
  });

  it('a wrong field shows the form again with the reason and grants nothing', async () => {
    const count = await exceptionCount();
    for (const [fields, message] of [
      [{ check: 'setuid-file', package: 'rg-setuid', reason: '' }, 'reason is required'],
      [{ check: 'setuid-file', package: 'rg-setuid', reason: 'old', expires: '2001-01-01' }, 'expires is in the past'],
      [{ check: 'setuid-file', package: 'rg-setuid', reason: 'x', path: 'relative/*' }, 'path: expected an absolute path or path glob'],
      [{ check: 'setuid-file', package: 'rg-setuid', reason: 'x', extra: '1' }, 'unknown form field extra'],
    ] as [Record<string, string>, string][]) {
      const response = await postForm(server.url, '/ui/exceptions', rm, { csrf: rm.csrf, ...fields });
      expect(response.status, message).toBe(400);
      const html = await response.text();
      expect(text(html)).toContain(message);
      expect(html).not.toMatch(/at .*\.ts:\d+/);
    }
    // The form comes back as typed.
    const again = await (await postForm(server.url, '/ui/exceptions', rm, { csrf: rm.csrf, check: 'setuid-file', package: 'rg-<b>', reason: '' })).text();
    expect(again).toContain('value="rg-&lt;b&gt;"');
    expect(await exceptionCount()).toBe(count);
  });

  it('qa and developer see no form and no remove button, and posting is refused with 403; a form without its CSRF token is refused', async () => {
    const { id } = (await server.admin.post<{ id: number }>('/api/v1/exceptions', { check: 'setuid-file', package: 'rg-setuid', reason: 'reviewed' })).body;
    for (const role of ['qa', 'developer'] as const) {
      const login = await consoleLogin(server.url, await server.tokenFor(role));
      const { html } = await page('/ui/exceptions', login);
      expect(html).not.toContain('action="/ui/exceptions"');
      expect(html).not.toContain('/remove"');
      expect(text(html)).toContain(`Only admin, integ, release_manager may grant or remove exceptions; you are signed in as ${role}.`);
      expect(text(html)).toContain('reviewed');
      const count = await exceptionCount();
      const grant = await postForm(server.url, '/ui/exceptions', login, { csrf: login.csrf, check: 'setuid-file', package: 'rg-setuid', reason: 'sneaky' });
      expect(grant.status, role).toBe(403);
      expect(text(await grant.text())).toContain(`role ${role} may not do this`);
      const remove = await postForm(server.url, `/ui/exceptions/${id}/remove`, login, { csrf: login.csrf });
      expect(remove.status, role).toBe(403);
      expect(await exceptionCount()).toBe(count);
    }
    const count = await exceptionCount();
    for (const fields of [{}, { csrf: 'forged' }] as Record<string, string>[]) {
      const response = await postForm(server.url, '/ui/exceptions', rm, { ...fields, check: 'setuid-file', package: 'rg-setuid', reason: 'no token' });
      expect(response.status).toBe(403);
      expect(text(await response.text())).toContain('security token');
      expect((await postForm(server.url, `/ui/exceptions/${id}/remove`, rm, fields)).status).toBe(403);
    }
    expect(await exceptionCount()).toBe(count);
    expect((await server.admin.get<{ id: number }[]>('/api/v1/exceptions')).body.map((e) => e.id)).toContain(id);
  });
});

describe('cleanup warnings', () => {
  it('a warning the cleanup recorded shows on the cleanup page and the overview with its reason and date, as the API preview shows it', async () => {
    const admin = await consoleLogin(server.url, server.adminToken);
    expect(text((await page('/ui/cleanup', admin)).html)).toContain('Nothing is due for cleanup.');
    // rg-clean goes in no set: 31 days on, it is an orphan.
    const stored = await upload(rpms.get('rg-clean')!, await server.tokenFor('developer', 'dev-otto'));
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    const nevra = String(stored.body.nevra);
    cleanupNow = new Date(Date.now() + 31 * day);
    await server.admin.post('/api/v1/cleanup/run', {});
    const preview = (await server.admin.get<{ waiting: { object: string; reason: string; dueAt: string | null }[] }>('/api/v1/cleanup')).body;
    const warning = preview.waiting.find((w) => w.object === nevra)!;
    expect(warning.reason).toMatch(/^orphan: in no set, stored on \d{4}-\d\d-\d\d \(more than 30 days ago\)$/);
    const due = new Date(warning.dueAt!).toISOString();
    const shown = `${due.slice(0, 10)} ${due.slice(11, 16)} UTC`;
    const [pending] = await server.database.sql<{ n: number }[]>`select count(*)::int as n from cleanup_warnings where state = 'pending'`;

    const t = text((await page('/ui/cleanup', admin)).html);
    expect(t).toContain(`${nevra} (package) ${warning.reason}`);
    expect(t).toMatch(new RegExp(`${nevra.replace(/[.]/g, '\\.')} \\(package\\) [^]*? \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC ${shown}`));
    expect(t).toContain(`Showing 1–${pending!.n} of ${pending!.n}`);
    const overview = text((await page('/ui', admin)).html);
    expect(overview).toContain(`${pending!.n} pending warning${pending!.n === 1 ? '' : 's'}`);
    expect(overview).toContain(nevra);

    // Once the delay has passed it is due: the page says the next run deletes it.
    cleanupNow = new Date(new Date(warning.dueAt!).getTime() + day);
    expect(text((await page('/ui/cleanup', admin)).html)).toContain(`${shown} (due: the next run deletes it)`);
  });
});
