// The cleanup through the real server and database, with a real SMTP receiver on loopback and the
// job's clock injected: rules and reasons in the dry run, a warning mailed once (one digest per
// recipient), deletion after the delay and not before, spared objects' warnings withdrawn by mail,
// released sets and a set hosts report left alone, and an SMTP outage.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../common/http-client.ts';
import type { CleanupReport } from '../../server/retention/job.ts';
import type { CleanupPreview } from '../../server/retention/preview.ts';
import { rpmgate } from '../support/cli.ts';
import { agentClient, report } from '../support/fleet.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { startSmtpReceiver, type SmtpReceiver } from '../support/smtp-receiver.ts';

const day = 86_400_000;
let server: TestServer;
let smtp: SmtpReceiver;
let policyDir: string;
let now: Date;
let developer: ApiClient;
let integ: ApiClient;

const names = ['app', 'rel', 'spare', 'hosted', 'fleet'];
const orphanNevras = ['rg-cl-orphan-1.0-1.noarch', 'rg-cl-late-1.0-1.noarch'];

async function preview(at?: Date): Promise<CleanupPreview> {
  return (await server.admin.get<CleanupPreview>(`/api/v1/cleanup${at ? `?now=${at.toISOString()}` : ''}`)).body;
}

async function run(): Promise<CleanupReport> {
  return (await server.admin.post<CleanupReport>('/api/v1/cleanup/run', {})).body;
}

async function repomdStatus(repo: string): Promise<number> {
  return (await fetch(`${server.url}/repo/${repo}/repodata/repomd.xml`)).status;
}

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  policyDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-policy-'));
  const policyFile = path.join(policyDir, 'policy.json');
  // Hosts count for 90 days here, so that the clock can move past the orphan age and the delay.
  await writeFile(policyFile, JSON.stringify({ deniedDependencies: ['telnet'], cleanup: { recipients: ['ops@example.org'], hostReportDays: 90 } }));
  // Packages uploaded now are orphans 30 days later: the clock starts 31 days ahead.
  now = new Date(Date.now() + 31 * day);
  const rpms = await buildSmallRpms([
    ...names.flatMap((name) => [{ name: `rg-cl-${name}`, version: '1.0' }, { name: `rg-cl-${name}`, version: '2.0' }]),
    { name: 'rg-cl-orphan', version: '1.0' },
    { name: 'rg-cl-late', version: '1.0' },
    { name: 'rg-cl-gone', version: '1.0' },
  ]);
  server = await startTestServer({
    env: { RPMGATE_SMTP_URL: smtp.url, RPMGATE_MAIL_FROM: 'rpmgate@example.org', RPMGATE_POLICY_FILE: policyFile },
    clock: () => now,
  });
  developer = await server.clientFor('developer', 'dev@example.org');
  integ = await server.clientFor('integ', 'integ@example.org');
  for (const file of rpms) {
    const { status } = await developer.request('POST', '/api/v1/packages', { body: await readFile(file) });
    expect(status).toBe(201);
  }
  for (const name of names) {
    for (const version of ['1.0', '2.0']) {
      await integ.post('/api/v1/sets', { name, version, packages: [`rg-cl-${name}-${version}-1.noarch`], allowUnresolved: true });
    }
  }
  for (const version of ['1.0', '2.0']) {
    for (const level of ['qa_ready', 'pre_release', 'release']) await server.admin.post(`/api/v1/sets/rel/${version}/promote`, { level });
  }
  await integ.post('/api/v1/sets', { name: 'gone', version: '1.0', packages: ['rg-cl-gone-1.0-1.noarch'], allowUnresolved: true });
  await server.admin.post('/api/v1/sets/gone/1.0/promote', { level: 'obsolete' });
  const agent = await agentClient(server);
  await agent.post('/api/v1/hosts/report', report('web-1', ['rg-cl-hosted-1.0-1.noarch'], { set: 'hosted/1.0' }));
}, 300_000);

afterAll(async () => {
  await server?.close();
  await smtp?.stop();
  if (policyDir) await rm(policyDir, { recursive: true, force: true });
});

describe('the dry run', () => {
  it('names what each rule makes eligible, with its reason and its recipients, and changes nothing', async () => {
    const plan = await preview();
    expect(plan.mail).toBe('on');
    expect(plan.delete).toEqual([]);
    const warned = Object.fromEntries(plan.warn.map((w) => [`${w.kind} ${w.object}`, w]));
    expect(Object.keys(warned).sort()).toEqual(['package rg-cl-late-1.0-1.noarch', 'package rg-cl-orphan-1.0-1.noarch', 'set app/1.0', 'set fleet/1.0', 'set gone/1.0', 'set spare/1.0']);
    expect(warned['set gone/1.0']).toMatchObject({ rule: 'obsolete', reason: expect.stringMatching(/^obsolete since \d{4}-\d\d-\d\d$/) });
    expect(warned['set app/1.0']).toMatchObject({ rule: 'redundant', reason: 'redundant: app/2.0 is newer and at integ', recipients: ['integ@example.org', 'ops@example.org'] });
    expect(warned['package rg-cl-orphan-1.0-1.noarch']).toMatchObject({ rule: 'orphan', recipients: ['dev@example.org', 'ops@example.org'] });
    expect(warned['package rg-cl-orphan-1.0-1.noarch']!.reason).toMatch(/^orphan: in no set, stored on \d{4}-\d\d-\d\d \(more than 30 days ago\)$/);
    expect(warned['package rg-cl-orphan-1.0-1.noarch']!.bytes).toBeGreaterThan(1000);
    expect(warned['set app/1.0']!.dueAt).toBe(new Date(now.getTime() + 14 * day).toISOString().slice(0, 10));
    // Released sets are never candidates; the set a host reports is kept, and says why.
    expect(plan.kept).toEqual([{ kind: 'set', id: expect.any(Number), object: 'hosted/1.0', rule: 'redundant', keptBecause: expect.stringMatching(/^1 host reports it as their set \(last on .*, within 90 days\)$/) }]);

    // A dry run lists at most `limit` items per list; counts and bytes cover all.
    const first = (await server.admin.get<CleanupPreview>('/api/v1/cleanup?limit=1')).body;
    expect(first.warn.length).toBe(1);
    expect(first.counts.warn).toBe(plan.warn.length);
    expect(first.bytes.warn).toBe(plan.bytes.warn);

    // As of today (packages uploaded minutes ago), no package is an orphan yet.
    const today = await preview(new Date());
    expect(today.warn.filter((w) => w.kind === 'package')).toEqual([]);
    // 90 days at integ: the newest versions too are too old then.
    const later = await preview(new Date(Date.now() + 91 * day));
    const tooOld = later.warn.filter((w) => w.rule === 'too_old').map((w) => `${w.object}: ${w.reason}`);
    expect(tooOld.sort()).toEqual(['app/2.0', 'fleet/2.0', 'hosted/2.0', 'spare/2.0'].map((object) => `${object}: too old: at integ since ${new Date().toISOString().slice(0, 10)} (90 days or more)`));
    expect((await server.database.sql`select count(*)::int as n from cleanup_warnings`)[0]!.n).toBe(0);
  });

  it('rpmgate cleanup --dry-run --now prints each item with its reason', async () => {
    const result = await rpmgate(server, server.adminToken, ['cleanup', '--dry-run', '--now', now.toISOString()]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('phase 1, warn now');
    expect(result.stdout).toMatch(/set app\/1\.0\n +redundant: app\/2\.0 is newer and at integ; deleted on or after/);
    expect(result.stdout).toMatch(/set hosted\/1\.0\n +redundant, but kept: 1 host reports it/);
    const bad = await rpmgate(server, server.adminToken, ['cleanup', '--now', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/now: expected an ISO date/);
  });

  it('is read by people, run by admins only', async () => {
    const call = async (method: string, route: string, token: string) =>
      (await fetch(server.url + route, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined })).status;
    const qa = await server.tokenFor('qa');
    expect(await call('GET', '/api/v1/cleanup', qa)).toBe(200);
    expect(await call('POST', '/api/v1/cleanup/run', qa)).toBe(403);
    expect(await call('GET', '/api/v1/cleanup', await server.tokenFor('agent'))).toBe(403);
    expect((await server.database.sql`select count(*)::int as n from cleanup_warnings`)[0]!.n).toBe(0);
  });
});

describe('two phases', () => {
  it('phase 1 mails one digest per recipient, once', async () => {
    const first = await run();
    expect(first.warned).toBe(6);
    expect(first.deleted).toEqual([]);
    expect(first.mail).toEqual({ on: true, sent: 3, failed: [] });
    const mails = smtp.take();
    expect(mails.map((mail) => mail.to.join()).sort()).toEqual(['dev@example.org', 'integ@example.org', 'ops@example.org']);
    const toOps = mails.find((mail) => mail.to[0] === 'ops@example.org')!;
    expect(toOps.subject).toBe('rpmgate cleanup: 6 objects will be deleted');
    expect(toOps.parsed.from?.value[0]?.address).toBe('rpmgate@example.org');
    const due = new Date(now.getTime() + 14 * day).toISOString().slice(0, 10);
    expect(toOps.text).toContain(`set app/1.0\n    redundant: app/2.0 is newer and at integ\n    deleted on or after ${due}`);
    expect(toOps.text).toContain('package rg-cl-orphan-1.0-1.noarch');
    const toIntegText = mails.find((mail) => mail.to[0] === 'integ@example.org')!.text;
    expect(toIntegText).toContain('set spare/1.0');
    expect(toIntegText).not.toContain('rg-cl-orphan');

    now = new Date(now.getTime() + 3_600_000);
    const second = await run();
    expect(second.warned).toBe(0);
    expect(second.mail.sent).toBe(0);
    expect(smtp.take()).toEqual([]);
    const plan = await preview();
    expect(plan.warn).toEqual([]);
    expect(plan.waiting.map((w) => w.object).sort()).toEqual(['app/1.0', 'fleet/1.0', 'gone/1.0', ...orphanNevras, 'spare/1.0'].sort());
  });

  it('deletes nothing before the delay; a promoted set, a package a new set names and a set a host reports are spared, and told so', async () => {
    await integ.post('/api/v1/sets/spare/1.0/promote', { level: 'qa_ready' });
    await (await agentClient(server)).post('/api/v1/hosts/report', report('web-2', ['rg-cl-fleet-1.0-1.noarch'], { set: 'fleet/1.0' }));
    await integ.post('/api/v1/sets', { name: 'late', version: '1.0', packages: ['rg-cl-late-1.0-1.noarch'], allowUnresolved: true });
    now = new Date(now.getTime() + 13 * day);
    const result = await run();
    expect(result.deleted).toEqual([]);
    expect(result.withdrawn.sort((a, b) => a.object.localeCompare(b.object))).toEqual([
      { object: 'package rg-cl-late-1.0-1.noarch', sparedBecause: 'set late/1.0 holds it' },
      { object: 'set fleet/1.0', sparedBecause: `host web-2.example.com reported it as its set on ${new Date().toISOString().slice(0, 10)}` },
      { object: 'set spare/1.0', sparedBecause: 'it is at qa_ready now and no rule makes it eligible any more' },
    ]);
    expect(await repomdStatus('set/app/1.0')).toBe(200);
    const mails = smtp.take();
    expect(mails.map((mail) => mail.to.join()).sort()).toEqual(['dev@example.org', 'integ@example.org', 'ops@example.org']);
    const toOps = mails.find((mail) => mail.to[0] === 'ops@example.org')!;
    expect(toOps.subject).toBe('rpmgate cleanup: 3 warnings withdrawn');
    expect(toOps.text).toContain('set fleet/1.0\n    spared: host web-2.example.com reported it as its set on');
    expect(toOps.text).toContain('set spare/1.0\n    spared: it is at qa_ready now');
    expect(toOps.text).toContain('package rg-cl-late-1.0-1.noarch\n    spared: set late/1.0 holds it');
    // Told once.
    now = new Date(now.getTime() + 3_600_000);
    await run();
    expect(smtp.take()).toEqual([]);
  });

  it('deletes what is due and still eligible, through the deleting transaction, and audits the rule', async () => {
    const blobs = await server.database.sql<{ original_sha256: string; sha256: string }[]>`
      select original_sha256, sha256 from packages where nevra = 'rg-cl-orphan-1.0-1.noarch'`;
    now = new Date(now.getTime() + 1 * day);
    const result = await run();
    expect(result.deleted.map((d) => `${d.kind} ${d.object} ${d.rule}`).sort()).toEqual(['package rg-cl-orphan-1.0-1.noarch orphan', 'set app/1.0 redundant', 'set gone/1.0 obsolete']);
    expect(result.bytesFreed).toBeGreaterThan(1000);
    expect(await repomdStatus('set/app/1.0')).toBe(404);
    expect(await repomdStatus('set/app/2.0')).toBe(200);
    const sql = server.database.sql;
    expect(await sql`select name, version from package_set_tombstones where name = 'app'`).toEqual([{ name: 'app', version: '1.0' }]);
    expect(await sql`select 1 from packages where nevra = 'rg-cl-orphan-1.0-1.noarch'`).toEqual([]);
    for (const digest of [blobs[0]!.original_sha256, blobs[0]!.sha256]) expect(await server.server.context.store.has(digest)).toBe(false);
    const audit = await sql<{ actor: string; action: string; object: string; rule: string }[]>`
      select actor, action, object, detail->>'rule' as rule from audit_events order by id`;
    expect(audit.sort((a, b) => a.object.localeCompare(b.object))).toEqual([
      { actor: 'cleanup', action: 'set.delete', object: 'app/1.0', rule: 'redundant' },
      { actor: 'cleanup', action: 'set.delete', object: 'gone/1.0', rule: 'obsolete' },
      { actor: 'cleanup', action: 'package.delete', object: 'rg-cl-orphan-1.0-1.noarch', rule: 'orphan' },
    ]);
    // Released sets and everything they hold, and the set a host reports, are untouched.
    for (const repo of ['set/rel/1.0', 'set/rel/2.0', 'set/hosted/1.0', 'set/fleet/1.0', 'set/spare/1.0', 'set/late/1.0']) expect(await repomdStatus(repo), repo).toBe(200);
    expect((await sql`select count(*)::int as n from packages where name = 'rg-cl-rel'`)[0]!.n).toBe(2);
    // The level repository no longer serves the deleted package.
    const primary = await (await fetch(`${server.url}/repo/level/integ/repodata/repomd.xml`)).text();
    expect(primary).toContain('<repomd');
  });
});

describe('one run at a time', () => {
  it('a run while another holds the lock (another server) is refused, and changes nothing', async () => {
    const reserved = await server.database.sql.reserve();
    try {
      await reserved`select pg_advisory_lock(${(0x72676c65616e7570n).toString()}::bigint)`;
      const response = await fetch(`${server.url}/api/v1/cleanup/run`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` } });
      expect(response.status).toBe(409);
      expect(((await response.json()) as { detail: string }).detail).toBe('a cleanup is running already (on this server or another one on the same database)');
    } finally {
      await reserved`select pg_advisory_unlock_all()`;
      reserved.release();
    }
  });
});

describe('SMTP down', () => {
  it('records the failure, deletes nothing it could not warn about, and mails on the next run', async () => {
    await smtp.stop();
    // rg-cl-app-1.0 and rg-cl-gone-1.0, held by nothing since their sets went, are orphans now.
    now = new Date(now.getTime() + 1 * day);
    const failed = await run();
    expect(failed.warned).toBe(2);
    expect(failed.mail.sent).toBe(0);
    expect(failed.mail.failed.map((f) => f.recipient).sort()).toEqual(['dev@example.org', 'ops@example.org']);
    let waiting = (await preview()).waiting.find((w) => w.object === 'rg-cl-app-1.0-1.noarch')!;
    expect(waiting).toMatchObject({ notifiedAt: null, dueAt: null, lastMailError: expect.stringContaining('@example.org: ') });

    now = new Date(now.getTime() + 20 * day);
    const still = await run();
    expect(still.deleted).toEqual([]);
    expect((await server.database.sql`select 1 from packages where nevra = 'rg-cl-app-1.0-1.noarch'`).length).toBe(1);

    await smtp.start();
    const retried = await run();
    expect(retried.mail).toEqual({ on: true, sent: 2, failed: [] });
    const mails = smtp.take();
    expect(mails.map((mail) => mail.to.join()).sort()).toEqual(['dev@example.org', 'ops@example.org']);
    expect(mails[0]!.text).toContain(`deleted on or after ${new Date(now.getTime() + 14 * day).toISOString().slice(0, 10)}`);
    waiting = (await preview()).waiting.find((w) => w.object === 'rg-cl-app-1.0-1.noarch')!;
    expect(waiting.dueAt).toBe(new Date(now.getTime() + 14 * day).toISOString());
  });
});
