// `rpmgate set delete NAME/VERSION` and `rpmgate package delete NEVRA` where the rules allow: never a set
// that was released (even once obsolete), never a package a set holds; admin only; audited; the
// repositories stop serving at once and the package's file goes. Real server, real CLI, real rpmbuild.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpmgate } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

let server: TestServer;
/** A named admin, as the audit records it. */
let adminToken: string;
const cli = (...args: string[]) => rpmgate(server, adminToken, args);

beforeAll(async () => {
  let files: string[];
  [server, files] = await Promise.all([
    startTestServer(),
    buildSmallRpms([{ name: 'rg-del-lib' }, { name: 'rg-del-app', requires: ['rg-del-lib'] }, { name: 'rg-del-kept' }, { name: 'rg-del-loose' }]),
  ]);
  adminToken = await server.tokenFor('admin', 'ops-alice');
  for (const file of files) {
    await server.admin.request('POST', '/api/v1/packages', { body: new Uint8Array(await readFile(file)), headers: { 'content-type': 'application/x-rpm' } });
  }
  await server.admin.post('/api/v1/sets', { name: 'trial', version: '1.0', packages: ['rg-del-app-1.0-1.noarch'], resolve: true });
  await server.admin.post('/api/v1/sets', { name: 'shipped', version: '1.0', packages: ['rg-del-kept-1.0-1.noarch'] });
  for (const level of ['qa_ready', 'pre_release', 'release', 'obsolete']) await server.admin.post('/api/v1/sets/shipped/1.0/promote', { level });
});
afterAll(async () => {
  await server?.close();
});

async function audit(action: string, object: string) {
  return server.database.sql<{ actor: string; detail: Record<string, unknown> }[]>`
    select actor, detail from audit_events where action = ${action} and object = ${object}`;
}

describe('set delete', () => {
  it('refuses a set that was ever released, even once obsolete: 409, exit 1, nothing changed', async () => {
    const result = await cli('set', 'delete', 'shipped/1.0');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('rpmgate: package set shipped/1.0 was released: a released set is never deleted\n');
    expect((await cli('set', 'show', 'shipped/1.0')).code).toBe(0);
  });

  it('is for admins only: another role gets 403 as problem+json', async () => {
    const qa = await server.tokenFor('integ');
    const result = await rpmgate(server, qa, ['set', 'delete', 'trial/1.0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('rpmgate: role integ may not do this; allowed: admin\n');
    const response = await fetch(`${server.url}/api/v1/sets/trial/1.0`, { method: 'DELETE', headers: { authorization: `Bearer ${qa}` } });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('deletes a set never released: gone from the API and its repository, audited with who and why; the version is never reused', async () => {
    expect((await fetch(`${server.url}/repo/set/trial/1.0/repodata/repomd.xml`)).status).toBe(200);
    const result = await cli('set', 'delete', 'trial/1.0', '--comment', 'wrong build');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('deleted trial/1.0 (it was at integ); its version is never used again\n');
    expect((await cli('set', 'show', 'trial/1.0')).stderr).toBe('rpmgate: no package set trial/1.0\n');
    expect((await fetch(`${server.url}/repo/set/trial/1.0/repodata/repomd.xml`)).status).toBe(404);
    expect(await audit('set.delete', 'trial/1.0')).toEqual([{ actor: 'ops-alice', detail: { level: 'integ', comment: 'wrong build' } }]);
    const again = await cli('set', 'create', 'trial', '1.0', 'rg-del-app-1.0-1.noarch', '--resolve');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('existed before and was deleted');
  });

  it('an unknown set is not found (exit 1); a malformed reference is a usage error (exit 2)', async () => {
    expect(await cli('set', 'delete', 'nothing/9')).toMatchObject({ code: 1, stderr: 'rpmgate: no package set nothing/9\n' });
    expect((await cli('set', 'delete', 'nothing')).code).toBe(2);
  });
});

describe('package delete', () => {
  it('refuses a package a set holds, naming the set', async () => {
    const result = await cli('package', 'delete', 'rg-del-kept-1.0-1.noarch');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'rpmgate: rg-del-kept-1.0-1.noarch is held by set shipped/1.0: a package a set holds is never deleted (delete the sets first, if the rules allow)\n',
    );
  });

  it('deletes a package no set holds: gone from the API and the store, audited', async () => {
    const [row] = await server.database.sql<{ sha256: string }[]>`select sha256 from packages where nevra = 'rg-del-loose-1.0-1.noarch'`;
    expect(await server.server.context.store.has(row!.sha256)).toBe(true);
    const result = await cli('package', 'delete', 'rg-del-loose-1.0-1.noarch');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^deleted rg-del-loose-1\.0-1\.noarch \([1-9]\d* bytes given back\)\n$/);
    expect((await cli('package', 'show', 'rg-del-loose-1.0-1.noarch')).code).toBe(1);
    expect(await server.server.context.store.has(row!.sha256)).toBe(false);
    expect(await audit('package.delete', 'rg-del-loose-1.0-1.noarch')).toEqual([{ actor: 'ops-alice', detail: {} }]);
  });

  it('after its set is deleted, a package it held may go; an unknown NEVRA is not found', async () => {
    const result = await cli('--json', 'package', 'delete', 'rg-del-lib-1.0-1.noarch');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ deleted: 'rg-del-lib-1.0-1.noarch' });
    expect(await cli('package', 'delete', 'rg-del-lib-1.0-1.noarch')).toMatchObject({ code: 1, stderr: 'rpmgate: no package rg-del-lib-1.0-1.noarch\n' });
  });
});
