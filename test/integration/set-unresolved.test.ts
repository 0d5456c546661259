// `set create --allow-unresolved` lists what it left unresolved, and the set records it: `set show` (and
// GET /api/v1/sets/{name}/{version}) name the same requirements later, and the record never changes.
// Real server, real CLI, real rpmbuild.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpmgate } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

let server: TestServer;
const cli = (...args: string[]) => rpmgate(server, server.adminToken, args);

beforeAll(async () => {
  let files: string[];
  [server, files] = await Promise.all([
    startTestServer(),
    buildSmallRpms([
      { name: 'rg-unres-lib' },
      { name: 'rg-unres-app', requires: ['rg-unres-lib', 'rg-unres-from-the-os >= 2', 'rg-unres-also-missing'] },
    ]),
  ]);
  for (const file of files) {
    await server.admin.request('POST', '/api/v1/packages', { body: new Uint8Array(await readFile(file)), headers: { 'content-type': 'application/x-rpm' } });
  }
});
afterAll(async () => {
  await server?.close();
});

describe('set create --allow-unresolved', () => {
  it('without it the set is refused (422, exit 1)', async () => {
    const refused = await cli('set', 'create', 'layered', '0.9', 'rg-unres-app-1.0-1.noarch', '--resolve', '--no-sources');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^rpmgate: unresolved dependencies: /);
  });

  it('lists what it left unresolved after what it added', async () => {
    const result = await cli('set', 'create', 'layered', '1.0', 'rg-unres-app-1.0-1.noarch', '--resolve', '--no-sources', '--allow-unresolved');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'created layered/1.0 at integ with 2 package(s)',
        '  added rg-unres-lib-1.0-1.noarch (level integ; required by rg-unres-app-1.0-1.noarch: rg-unres-lib)',
        'left unresolved (--allow-unresolved; recorded with the set) (2):',
        '  rg-unres-app-1.0-1.noarch requires rg-unres-also-missing',
        '  rg-unres-app-1.0-1.noarch requires rg-unres-from-the-os >= 2',
        '',
      ].join('\n'),
    );
  });

  it('set show records it, as the API does; a set with nothing unresolved shows no such section', async () => {
    const show = await cli('set', 'show', 'layered/1.0');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(
      ['unresolved when created (--allow-unresolved) (2):', '  rg-unres-app-1.0-1.noarch requires rg-unres-also-missing', '  rg-unres-app-1.0-1.noarch requires rg-unres-from-the-os >= 2'].join('\n'),
    );
    const { body } = await server.admin.get<{ unresolved: unknown[] }>('/api/v1/sets/layered/1.0');
    expect(body.unresolved).toEqual([
      { nevra: 'rg-unres-app-1.0-1.noarch', requirement: 'rg-unres-also-missing' },
      { nevra: 'rg-unres-app-1.0-1.noarch', requirement: 'rg-unres-from-the-os >= 2' },
    ]);
    await cli('set', 'create', 'plain', '1.0', 'rg-unres-lib-1.0-1.noarch', '--allow-unresolved');
    const plain = await cli('set', 'show', 'plain/1.0');
    expect(plain.stdout).not.toContain('unresolved');
    expect((await server.admin.get<{ unresolved: unknown[] }>('/api/v1/sets/plain/1.0')).body.unresolved).toEqual([]);
  });

  it('the record is part of the immutable set: the database refuses to change it', async () => {
    await expect(server.database.sql`update package_sets set unresolved = '[]' where name = 'layered'`).rejects.toThrow(/immutable/);
  });
});
