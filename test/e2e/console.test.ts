// The web console in a real browser (Debian's Chromium through playwright-core) against a real server
// with real packages: a release manager logs in, finds a drifting host from the overview, opens its
// set, promotes it and sees the level change on the page and in the level repository's repodata; a
// qa person sees the next step disabled with the reason; the component page; a form without its CSRF
// token refused; an exception granted and removed with the console's forms; a package refused on entry
// on the overview and a cleanup warning on the cleanup page; axe-core finds no serious or critical
// violation on any page, each with content; screenshots of every page at laptop and phone sizes are
// written to test-artifacts/console/.
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { axeViolations, chromiumMissing, launchChromium, screenshotBoth, viewports } from '../support/browser.ts';
import { machineId, report } from '../support/fleet.ts';
import { buildPolicyRpms } from '../support/policy-rpms.ts';
import { toolsRequired } from '../support/requirements.ts';
import { missingRpmTools } from '../support/rpm-tools.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { insertSyntheticPackage } from '../support/synthetic-package.ts';

const missing = [await chromiumMissing(), ...(await missingRpmTools()).filter((tool) => tool === 'rpmbuild').map((tool) => `${tool} is not installed`)].filter(
  (reason): reason is string => reason !== null,
);
if (missing.length > 0) {
  if (toolsRequired) throw new Error(`console browser tests cannot run in CI: ${missing.join('; ')}`);
  console.warn(`\n*** console browser tests SKIPPED: ${missing.join('; ')} ***\n`);
}

let server: TestServer;
let fixtures: FixtureSet;
let browser: Browser;
const contexts: BrowserContext[] = [];
let rmToken: string;
let qaToken: string;
let hello: { old: string; next: string; oldVersion: string; nextVersion: string };

beforeAll(async () => {
  if (missing.length > 0) return;
  let policyRpms: Map<string, string>;
  [server, fixtures, browser, policyRpms] = await Promise.all([startTestServer(), buildFixtures(), launchChromium(), buildPolicyRpms(['rg-setuid'])]);
  const integ = await server.clientFor('integ');
  for (const fixture of fixtures.packages) await integ.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
  const versions = fixtures.allNamed('rg-hello');
  const [old, next] = [versions[0]!, versions[1]!];
  hello = { old: old.nevra, next: next.nevra, oldVersion: `${old.version}-${old.release}`, nextVersion: `${next.version}-${next.release}` };
  const epoch = fixtures.byName('rg-epoch');
  await integ.post('/api/v1/sets', { name: 'demo', version: '1', packages: [old.nevra, epoch.nevra] });
  await integ.post('/api/v1/sets', { name: 'demo', version: '2', packages: [next.nevra, epoch.nevra] });
  await integ.post('/api/v1/sets/demo/2/promote', { level: 'qa_ready' });
  // Two hosts on demo/2: one conforms, one still runs the old rg-hello (drifts: older).
  const epochTuple = { name: epoch.name, epoch: epoch.epoch, version: epoch.version, release: epoch.release, arch: epoch.arch };
  const tupleOf = (p: typeof old) => ({ name: p.name, epoch: p.epoch, version: p.version, release: p.release, arch: p.arch });
  await (await server.clientFor('agent')).post('/api/v1/hosts/report', report('app-ok', [tupleOf(next), epochTuple], { set: 'demo/2' }));
  await (await server.clientFor('agent')).post('/api/v1/hosts/report', report('app-stale', [tupleOf(old), epochTuple], { set: 'demo/2' }));
  rmToken = await server.tokenFor('release_manager', 'rm-alice');
  qaToken = await server.tokenFor('qa', 'qa-bob');
  // A package the entry checks refuse (a setuid file), an exception, and a cleanup warning: an orphan
  // stored long ago (synthetic packages are dated 1970), warned about by a real cleanup run.
  const refused = await integ.request('POST', '/api/v1/packages', { body: await readFile(policyRpms.get('rg-setuid')!), accept: [422] });
  expect(refused.status).toBe(422);
  await integ.post('/api/v1/exceptions', { check: 'rpmlint-skipped', package: 'rg-*', reason: 'rpmlint is off on the test server' });
  await insertSyntheticPackage(server.database.sql, { name: 'rg-forgotten', version: '0.9', arch: 'noarch' });
  await server.admin.post('/api/v1/cleanup/run', {});
}, 300_000);
afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await server?.close();
});

async function loggedIn(token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: viewports.laptop });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(`${server.url}/ui`);
  // Not logged in: the overview sends the browser to the log-in form.
  expect(new URL(page.url()).pathname).toBe('/ui/login');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${server.url}/ui`);
  return page;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\~]/g, '\\$&');
}

async function expectAccessible(page: Page): Promise<void> {
  const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${page.url()}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
}

describe.skipIf(missing.length > 0)('web console in Chromium', () => {
  it('a release manager finds a drifting host from the overview, opens its set and promotes it; the level repository follows', async () => {
    const page = await loggedIn(rmToken);
    expect(await page.getByRole('banner').innerText()).toContain('rm-alice (release_manager)');
    await expectAccessible(page);
    await screenshotBoth(page, 'console', 'overview');

    const drift = page.getByRole('region', { name: 'Most drifting hosts' });
    await drift.getByRole('link', { name: 'app-stale.example.com' }).click();
    await page.waitForURL(`${server.url}/ui/hosts/${machineId('app-stale')}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Host app-stale.example.com');
    expect(await page.getByRole('region', { name: 'Drift', exact: true }).innerText()).toMatch(new RegExp(`older\\s+${escape(hello.nextVersion)}\\s+${escape(hello.oldVersion)}`));
    await expectAccessible(page);
    await screenshotBoth(page, 'console', 'host');

    await page.getByRole('link', { name: 'demo/2' }).first().click();
    await page.waitForURL(`${server.url}/ui/sets/demo/2`);
    expect(await page.locator('#set-level').textContent()).toBe('qa_ready');
    await expectAccessible(page);
    await screenshotBoth(page, 'console', 'set');

    const levelRepo = `${server.url}/repo/level/pre_release/`;
    expect((await fetchPrimaryEntries(levelRepo)).map((e) => `${e.name}-${e.version.ver}-${e.version.rel}`)).not.toContain(`rg-hello-${hello.nextVersion}`);

    await page.getByLabel('Comment (optional)').first().fill('qualified in the console test');
    await page.getByRole('button', { name: 'Promote to pre_release' }).click();
    await page.waitForURL(`${server.url}/ui/sets/demo/2?promoted=pre_release`);
    expect((await page.getByRole('status').innerText()).trim()).toBe('demo/2 is now at pre_release.');
    expect(await page.locator('#set-level').textContent()).toBe('pre_release');
    expect(await page.locator('#history-heading + ol').innerText()).toContain('by rm-alice');

    // A real HTTP fetch of the level repository's repodata, as dnf reads it.
    const entries = await fetchPrimaryEntries(levelRepo);
    expect(entries.map((e) => `${e.name}-${e.version.ver}-${e.version.rel}`)).toContain(`rg-hello-${hello.nextVersion}`);
  });

  it('a qa person sees the next step disabled, with the roles that may take it', async () => {
    const page = await loggedIn(qaToken);
    await page.goto(`${server.url}/ui/sets/demo/2`);
    const button = page.getByRole('button', { name: 'Promote to release' });
    expect(await button.isDisabled()).toBe(true);
    expect((await page.locator('#reason-release').innerText()).trim()).toBe('Only release_manager or admin may move a set to release; you are signed in as qa.');
    expect(await button.getAttribute('aria-describedby')).toBe('reason-release');
  });

  it('the component page lists each version with the level it reached, its sets and the hosts running it', async () => {
    const page = await loggedIn(qaToken);
    await page.goto(`${server.url}/ui/components`);
    await page.getByLabel('Package name starts with').fill('rg-he');
    await page.getByRole('button', { name: 'Find' }).click();
    await expectAccessible(page);
    await screenshotBoth(page, 'console', 'components');
    await page.getByRole('link', { name: 'rg-hello', exact: true }).click();
    await page.waitForURL(`${server.url}/ui/components/rg-hello`);
    const next = page.getByRole('row', { name: new RegExp(`^${escape(hello.nextVersion)}\\s+noarch`) });
    expect(await next.innerText()).toContain('pre_release');
    expect(await next.innerText()).toContain('demo/2');
    expect(await next.innerText()).toContain('app-ok.example.com');
    const old = page.getByRole('row', { name: new RegExp(`^${escape(hello.oldVersion)}\\s+noarch`) });
    expect(await old.innerText()).toContain('integ');
    expect(await old.innerText()).toContain('demo/1');
    expect(await old.innerText()).toContain('app-stale.example.com');
    await expectAccessible(page);
    await screenshotBoth(page, 'console', 'component');
  });

  it('a form posted without its CSRF token is refused and changes nothing', async () => {
    const page = await loggedIn(rmToken);
    await page.goto(`${server.url}/ui/sets/demo/2`);
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Promote to release' }) });
    await form.locator('input[name="csrf"]').evaluate((input) => input.remove());
    await page.getByRole('button', { name: 'Promote to release' }).click();
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Forbidden');
    expect(await page.getByRole('main').innerText()).toContain('security token');
    const [row] = await server.database.sql<{ level: string }[]>`select level from package_sets where name = 'demo' and version = '2'`;
    expect(row!.level).toBe('pre_release');
  });

  it('a release manager grants an exception with the form and removes it; the overview lists the refused package', async () => {
    const page = await loggedIn(rmToken);
    const refused = page.getByRole('region', { name: 'Packages refused on entry', exact: true });
    expect(await refused.innerText()).toMatch(/rg-setuid-1\.0-1\.\w+\s+setuid-file at \/usr\/share\/rg-setuid\/tool/);
    await page.goto(`${server.url}/ui/exceptions`);
    await page.getByLabel('Check (id or glob)').fill('setuid-file');
    await page.getByLabel('Package (name or glob)').fill('rg-setuid');
    await page.getByLabel('File path glob (optional)').fill('/usr/share/rg-setuid/*');
    await page.getByLabel('Reason').fill('vendor tool, reviewed');
    await page.getByLabel('Expires (optional)').fill('2099-12-31');
    await page.getByRole('button', { name: 'Grant exception' }).click();
    await page.waitForURL(/\/ui\/exceptions\?granted=\d+$/);
    const id = new URL(page.url()).searchParams.get('granted')!;
    expect((await page.getByRole('status').innerText()).trim()).toBe(`Exception ${id} is granted.`);
    expect(await page.locator(`#exception-${id}`).innerText()).toMatch(/setuid-file\s+rg-setuid\s+\/usr\/share\/rg-setuid\/\*\s+vendor tool, reviewed\s+active, until 2099-12-31/);
    await expectAccessible(page);
    // The remove form asks for confirmation first (console.js).
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Remove exception ${id}` }).click();
    await page.waitForURL(`${server.url}/ui/exceptions?removed=${id}`);
    expect(await page.locator(`#exception-${id}`).count()).toBe(0);
    const [row] = await server.database.sql<{ removed_by: string }[]>`select removed_by from check_exceptions where id = ${Number(id)}`;
    expect(row!.removed_by).toBe('rm-alice');
  });

  it('a qa person sees the exceptions but no form, and the cleanup warning with its reason and date', async () => {
    const page = await loggedIn(qaToken);
    await page.goto(`${server.url}/ui/exceptions`);
    expect(await page.getByRole('button', { name: 'Grant exception' }).count()).toBe(0);
    expect(await page.locator('#grant-reason').innerText()).toBe('Only admin, integ, release_manager may grant or remove exceptions; you are signed in as qa.');
    expect(await page.getByRole('region', { name: 'Exceptions' }).innerText()).toContain('rpmlint is off on the test server');
    await page.goto(`${server.url}/ui/cleanup`);
    const warning = page.getByRole('row', { name: /rg-forgotten-0\.9-1\.noarch/ });
    expect(await warning.innerText()).toMatch(/orphan: in no set, stored on 1970-01-01 \(more than 30 days ago\)\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await expectAccessible(page);
  });

  it('every other page is accessible and readable at laptop and phone sizes', async () => {
    const page = await loggedIn(rmToken);
    for (const [name, path] of [
      ['sets', '/ui/sets'],
      ['hosts', '/ui/hosts'],
      ['hosts-drifting', '/ui/hosts?drifting=true'],
      ['exceptions', '/ui/exceptions'],
      ['cleanup', '/ui/cleanup'],
    ] as const) {
      await page.goto(server.url + path);
      await expectAccessible(page);
      await screenshotBoth(page, 'console', name);
      // Nothing overflows the phone's width but the tables, which scroll inside their own region.
      await page.setViewportSize(viewports.phone);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${path} is wider than a phone`).toBeLessThanOrEqual(0);
      await page.setViewportSize(viewports.laptop);
    }
    const login = await (await browser.newContext({ viewport: viewports.laptop })).newPage();
    contexts.push(login.context());
    await login.goto(`${server.url}/ui/login`);
    await expectAccessible(login);
    await screenshotBoth(login, 'console', 'login');
  });

  it('the keyboard reaches the skip link first, and it moves focus to the content', async () => {
    const page = await loggedIn(rmToken);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });
});
