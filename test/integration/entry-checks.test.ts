// Entry checks on every upload, through the real HTTP server with the real rpmlint: each fixture that
// breaks a policy is refused with that check's id (422, every finding, nothing stored, not even the
// blob), a clean one is accepted with no finding, warnings are kept with the package, and exceptions
// by package and by file, limited by date and by version, waive what they cover and stop by themselves.
import { readdir, readFile, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { buildPolicyRpms } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface FindingView {
  check: string;
  severity: 'error' | 'warning';
  message: string;
  path?: string;
  waivedBy?: string;
}

let server: TestServer;
let rpms: Map<string, string>;
let controlChar: string;
let integToken: string;
let developerToken: string;
let policyFile: string;

const testPolicy = `# The test installation's policy: the defaults, plus a vendor and a deny list.
vendor: rpmgate fixtures
deniedDependencies: [telnet, "rsh*"]
`;

async function upload(file: string, token = developerToken): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${server.url}/api/v1/packages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' },
    body: await readFile(file),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

async function blobCount(): Promise<number> {
  const shards = await readdir(path.join(server.dataDir, 'blobs')).catch(() => [] as string[]);
  let count = 0;
  for (const shard of shards) count += (await readdir(path.join(server.dataDir, 'blobs', shard))).length;
  return count;
}

async function grant(body: Record<string, unknown>, token = integToken): Promise<Response> {
  return fetch(`${server.url}/api/v1/exceptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-policy-'));
  policyFile = path.join(dir, 'policy.yaml');
  await writeFile(policyFile, testPolicy);
  let fixtures;
  [server, rpms, fixtures] = await Promise.all([
    startTestServer({ env: { RPMGATE_POLICY_FILE: path.join(dir, 'policy.yaml'), RPMGATE_RPMLINT: 'on' } }),
    buildPolicyRpms(['rg-clean', 'rg-local', 'rg-setuid', 'rg-writable', 'rg-denied', 'rg-interp', 'rg-bare', 'rg-liblint', 'rg-legacy', 'rg-vendor'], { 'rg-legacy': ['2.0'] }),
    buildFixtures(),
  ]);
  controlChar = fixtures.byName('rg-control-char').path;
  [integToken, developerToken] = await Promise.all([server.tokenFor('integ', 'integ-ingrid'), server.tokenFor('developer', 'dev-dan')]);
}, 300_000);
afterAll(async () => {
  await server?.close();
});

describe('the verdict', () => {
  it('a clean package is accepted with no finding at all (rpmlint included)', async () => {
    const { status, body } = await upload(rpms.get('rg-clean')!);
    expect(status, JSON.stringify(body)).toBe(201);
    const { body: shown } = await server.admin.get<{ findings: FindingView[] }>(`/api/v1/packages/${String(body.nevra)}`);
    expect(shown.findings).toEqual([]);
  });

  it.each([
    ['rg-local', 'forbidden-path', '/usr/local/share/rg-local/data.txt'],
    ['rg-setuid', 'setuid-file', '/usr/share/rg-setuid/tool'],
    ['rg-writable', 'world-writable', '/usr/share/rg-writable/state'],
    ['rg-denied', 'denied-dependency', undefined],
    ['rg-interp', 'scriptlet-interpreter', undefined],
    ['rg-liblint', 'rpmlint:script-without-shebang', '/usr/share/rg-liblint/tool'],
    ['rg-vendor', 'vendor-mismatch', undefined],
  ])('%s is refused by %s: 422 with every finding, nothing stored, not even the blob', async (name, check, filePath) => {
    const blobsBefore = await blobCount();
    const { status, body } = await upload(rpms.get(name)!);
    expect(status).toBe(422);
    expect(body).toMatchObject({ type: 'https://rpmgate.dev/problems/unprocessable', title: 'Unprocessable', status: 422, code: 'unprocessable' });
    expect(String(body.detail)).toMatch(new RegExp(`^${name}-1\\.0-1\\.noarch refused by entry checks: \\d+ error\\(s\\); `));
    const findings = body.findings as FindingView[];
    const ofCheck = findings.filter((f) => f.check === check);
    expect(ofCheck.length, JSON.stringify(findings)).toBeGreaterThan(0);
    for (const finding of ofCheck) {
      expect(finding.severity).toBe('error');
      expect(finding.message.length).toBeGreaterThan(10);
    }
    if (filePath) expect(ofCheck.map((f) => f.path)).toContain(filePath);
    for (const f of findings) expect(Object.keys(f).every((key) => ['check', 'severity', 'path', 'message', 'waivedBy'].includes(key))).toBe(true);
    expect((await server.admin.get(`/api/v1/packages?name=${name}`)).body).toEqual([]);
    expect(await blobCount()).toBe(blobsBefore);
  });

  it('a header text XML cannot hold (a BEL in the description) is refused: xml-unsafe-text', async () => {
    const { status, body } = await upload(controlChar);
    expect(status).toBe(422);
    expect(body.findings).toContainEqual(expect.objectContaining({ check: 'xml-unsafe-text', severity: 'error', message: expect.stringContaining('Description holds U+0007') }));
  });

  it('warnings are recorded with the accepted package and shown with it', async () => {
    const { status, body } = await upload(rpms.get('rg-bare')!);
    expect(status, JSON.stringify(body)).toBe(201);
    const { body: shown } = await server.admin.get<{ findings: FindingView[] }>(`/api/v1/packages/${String(body.nevra)}`);
    const checks = shown.findings.map((f) => `${f.check}/${f.severity}`);
    expect(checks).toEqual(expect.arrayContaining(['required-url/warning', 'required-packager/warning']));
    expect(checks).toContain('rpmlint:no-changelogname-tag/warning');
  });
});

describe('exceptions', () => {
  it('only admin, integ and release_manager grant; every reader lists', async () => {
    expect((await grant({ check: 'setuid-file', package: 'x', reason: 'no' }, developerToken)).status).toBe(403);
    const qa = await server.tokenFor('qa');
    expect((await grant({ check: 'setuid-file', package: 'x', reason: 'no' }, qa)).status).toBe(403);
    expect((await grant({ check: 'setuid-file', package: 'x', reason: 'no', expires: '2001-01-01' })).status).toBe(400);
    expect((await fetch(`${server.url}/api/v1/exceptions`, { headers: { authorization: `Bearer ${developerToken}` } })).status).toBe(200);
  });

  it('by package (until a version) and by file: rg-legacy 1.0 goes in with its findings waived, 2.0 is refused again', async () => {
    const byPackage = await grant({ check: '*usr-local*', package: 'rg-legacy', reason: 'legacy layout, fixed in 2.0', untilVersion: '2.0' });
    expect(byPackage.status).toBe(201);
    const byPackagePolicy = await grant({ check: 'forbidden-path', package: 'rg-leg*', reason: 'legacy layout, fixed in 2.0', untilVersion: '2.0' });
    expect(byPackagePolicy.status).toBe(201);
    const byFile = await grant({ check: '*world-writable', package: 'rg-legacy', path: '/usr/share/rg-legacy/st*', reason: 'shared state file, ticket 42' });
    expect(byFile.status).toBe(201);
    const fileId = ((await byFile.json()) as { id: number }).id;

    const first = await upload(rpms.get('rg-legacy')!);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const { body: shown } = await server.admin.get<{ findings: FindingView[] }>(`/api/v1/packages/${String(first.body.nevra)}`);
    const errors = shown.findings.filter((f) => f.severity === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(4);
    for (const error of errors) expect(error.waivedBy, JSON.stringify(error)).toMatch(/^exception \d+ \(granted by integ-ingrid: /);
    expect(errors.find((f) => f.check === 'world-writable')!.waivedBy).toBe(`exception ${fileId} (granted by integ-ingrid: shared state file, ticket 42)`);

    const second = await upload(rpms.get('rg-legacy-2.0')!);
    expect(second.status).toBe(422);
    const unwaived = (second.body.findings as FindingView[]).filter((f) => f.severity === 'error' && !f.waivedBy).map((f) => f.check);
    expect(unwaived).toContain('forbidden-path');
    expect(unwaived).not.toContain('world-writable');
  });

  it('by date: an expired exception stops applying by itself and is listed as expired; a removal is audited', async () => {
    const granted = await grant({ check: '*world-writable', package: 'rg-writable', reason: 'until the fix ships', expires: '2099-01-01T00:00:00Z' });
    const { id } = (await granted.json()) as { id: number };
    // Time passes: the exception's date is behind us.
    await server.database.sql`update check_exceptions set expires_at = now() - interval '1 minute' where id = ${id}`;
    const refused = await upload(rpms.get('rg-writable')!);
    expect(refused.status).toBe(422);
    const { body: listed } = await server.admin.get<{ id: number; state: string }[]>('/api/v1/exceptions');
    expect(listed.find((row) => row.id === id)!.state).toBe('expired');

    const removal = await fetch(`${server.url}/api/v1/exceptions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${integToken}` } });
    expect(removal.status).toBe(200);
    expect((await server.admin.get<{ id: number }[]>('/api/v1/exceptions')).body.map((row) => row.id)).not.toContain(id);
    const audit = await server.database.sql`select action, actor from check_exception_audit where exception_id = ${id} order by id`;
    expect(audit.map((row) => `${row.action}:${row.actor}`)).toEqual(['grant:integ-ingrid', 'remove:integ-ingrid']);

    const renewed = await grant({ check: '*world-writable', package: 'rg-writable', reason: 'renewed until the fix ships', expires: '2099-01-01' });
    expect(renewed.status).toBe(201);
    expect((await upload(rpms.get('rg-writable')!)).status).toBe(201);
  });
});

describe('the CLI', () => {
  it('exception add, list and remove; package show prints the findings; a refused upload is one line per file and exit 1', async () => {
    const added = await rpmgate(server, integToken, ['exception', 'add', '--check', 'setuid-file', '--package', 'rg-setuid', '--path', '/usr/share/rg-setuid/*', '--reason', 'vendor tool, reviewed', '--expires', '2099-12-31']);
    expect(added.code, added.stderr).toBe(0);
    const id = /^exception (\d+): setuid-file waived for rg-setuid files \/usr\/share\/rg-setuid\/\* \(until 2099-12-31\): vendor tool, reviewed$/.exec(added.stdout.trim())?.[1];
    expect(id, added.stdout).toBeDefined();
    const listed = await rpmgate(server, developerToken, ['exception', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+active\\s+setuid-file\\s+rg-setuid\\s+/usr/share/rg-setuid/\\*`, 'm'));
    const refusedByDeveloper = await rpmgate(server, developerToken, ['exception', 'remove', id!]);
    expect(refusedByDeveloper.code).toBe(1);
    const removed = await rpmgate(server, integToken, ['exception', 'remove', id!]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`removed exception ${id}: setuid-file waived for rg-setuid`);

    const refused = await rpmgate(server, developerToken, ['upload', rpms.get('rg-denied')!]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: rg-denied-1\.0-1\.noarch refused by entry checks: \d+ error\(s\); denied-dependency: requires telnet, which the policy denies/);

    const shown = await rpmgate(server, developerToken, ['package', 'show', 'rg-bare-1.0-1.noarch']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('  entry checks:\n    warning required-url: the URL tag is empty or missing');
  });
});

describe('after a policy change', () => {
  it('check --all --dry-run lists what would now be refused and records nothing; check --all records; requireClean refuses those members', async () => {
    // URL becomes mandatory: rg-bare, stored with a warning, would be refused today.
    await writeFile(policyFile, `${testPolicy}severities: { required-url: error }\n`);
    await server.restart();
    const before = (await server.admin.get<{ findings: FindingView[] }>('/api/v1/packages/rg-bare-1.0-1.noarch')).body.findings;

    const dry = await rpmgate(server, server.adminToken, ['check', '--all', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stdout.trimEnd()).toMatch(/^checked \d+ package\(s\): 1 would be refused today; \d+ with other findings than recorded \(dry run: nothing recorded\)\n  rg-bare-1\.0-1\.noarch: required-url$/);
    expect(dry.stderr.trim()).toBe("rpmgate: 1 stored package(s) would be refused by today's checks");
    expect((await server.admin.get<{ findings: FindingView[] }>('/api/v1/packages/rg-bare-1.0-1.noarch')).body.findings).toEqual(before);
    expect((await rpmgate(server, developerToken, ['check', '--all'])).code).toBe(1);

    const recorded = await rpmgate(server, server.adminToken, ['check', '--all']);
    expect(recorded.stdout).toContain('(recorded)');
    const after = (await server.admin.get<{ findings: FindingView[] }>('/api/v1/packages/rg-bare-1.0-1.noarch')).body.findings;
    expect(after).toContainEqual(expect.objectContaining({ check: 'required-url', severity: 'error' }));
    expect((await server.admin.get('/api/v1/packages/rg-bare-1.0-1.noarch')).status).toBe(200);

    const strict = await rpmgate(server, integToken, ['set', 'create', 'checked', '1.0', 'rg-bare-1.0-1.noarch', 'rg-clean-1.0-1.noarch', '--require-clean', '--allow-unresolved']);
    expect(strict.code).toBe(1);
    expect(strict.stderr.trim()).toBe('rpmgate: requireClean: 1 member(s) have unwaived entry-check errors: rg-bare-1.0-1.noarch (required-url)');
    const clean = await rpmgate(server, integToken, ['set', 'create', 'checked', '1.0', 'rg-clean-1.0-1.noarch', '--require-clean', '--allow-unresolved']);
    expect(clean.code, clean.stderr).toBe(0);
    const lax = await rpmgate(server, integToken, ['set', 'create', 'checked', '1.1', 'rg-bare-1.0-1.noarch', '--allow-unresolved']);
    expect(lax.code, lax.stderr).toBe(0);
  });
});

describe('without rpmlint', () => {
  it('a server whose PATH lacks rpmlint marks every result as skipped, never as passed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    let bare: TestServer;
    try {
      bare = await startTestServer({ env: { RPMGATE_RPMLINT: 'on' } });
    } finally {
      process.env.PATH = path;
    }
    try {
      const token = await bare.tokenFor('developer');
      const answer = await fetch(`${bare.url}/api/v1/packages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' }, body: await readFile(rpms.get('rg-clean')!) });
      expect(answer.status).toBe(201);
      const { nevra } = (await answer.json()) as { nevra: string };
      const { body } = await bare.admin.get<{ findings: FindingView[] }>(`/api/v1/packages/${nevra}`);
      expect(body.findings).toEqual([{ check: 'rpmlint-skipped', severity: 'warning', message: 'not checked by rpmlint: rpmlint is not installed on the server' }]);
    } finally {
      await bare.close();
    }
  });
});
