// Proven components first: `set create --resolve` adds the provider that reached the highest level
// (then the newest), not the newest integ build in no set; `--prefer newest` keeps the old choice,
// `--min-level` refuses anything below; each added package's level is in the explanation. And
// `rpmgate package show NAME` answers "which builds of libfoo are proven?". Real server, real CLI.
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
      { name: 'rg-prov-lib', version: '1.0' },
      { name: 'rg-prov-lib', version: '2.0' },
      { name: 'rg-prov-app', requires: ['rg-prov-lib'] },
      { name: 'rg-prov-only' },
      { name: 'rg-prov-app2', requires: ['rg-prov-only'] },
    ]),
  ]);
  for (const file of files) {
    await server.admin.request('POST', '/api/v1/packages', { body: new Uint8Array(await readFile(file)), headers: { 'content-type': 'application/x-rpm' } });
  }
  await server.admin.post('/api/v1/sets', { name: 'libset', version: '1.0', packages: ['rg-prov-lib-1.0-1.noarch'] });
  for (const level of ['qa_ready', 'pre_release', 'release']) await server.admin.post('/api/v1/sets/libset/1.0/promote', { level });
});
afterAll(async () => {
  await server?.close();
});

describe('set create --resolve', () => {
  it('prefers the released provider over a newer integ build in no set, and says its level', async () => {
    const result = await cli('set', 'create', 'app', '1.0', 'rg-prov-app-1.0-1.noarch', '--resolve', '--no-sources');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'created app/1.0 at integ with 2 package(s)\n  added rg-prov-lib-1.0-1.noarch (level release; required by rg-prov-app-1.0-1.noarch: rg-prov-lib)\n',
    );
  });

  it('--prefer newest takes the highest version whatever its level', async () => {
    const result = await cli('set', 'create', 'app', '1.1', 'rg-prov-app-1.0-1.noarch', '--resolve', '--no-sources', '--prefer', 'newest');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('  added rg-prov-lib-2.0-1.noarch (level integ; required by rg-prov-app-1.0-1.noarch: rg-prov-lib)');
  });

  it('--min-level refuses providers below it: unresolved, 422, exit 1', async () => {
    const ok = await cli('set', 'create', 'app', '1.2', 'rg-prov-app-1.0-1.noarch', '--resolve', '--no-sources', '--min-level', 'release');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('added rg-prov-lib-1.0-1.noarch (level release;');
    const refused = await cli('set', 'create', 'app2', '1.0', 'rg-prov-app2-1.0-1.noarch', '--resolve', '--no-sources', '--min-level', 'qa_ready');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('rpmgate: unresolved dependencies: rg-prov-app2-1.0-1.noarch requires rg-prov-only\n');
    const wrong = await cli('set', 'create', 'app2', '1.0', 'rg-prov-app2-1.0-1.noarch', '--resolve', '--prefer', 'oldest');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/prefer/);
  });
});

describe('package show', () => {
  it('lists every version, newest first, with the highest level reached and the sets holding it', async () => {
    const result = await cli('package', 'show', 'rg-prov-lib');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
    expect(lines).toEqual([
      ['PACKAGE', 'LEVEL', 'SETS'],
      ['rg-prov-lib-2.0-1.noarch', 'integ', 'app/1.1'],
      ['rg-prov-lib-1.0-1.noarch', 'release', 'app/1.0, app/1.2, libset/1.0'],
    ]);
    const none = await cli('package', 'show', 'rg-no-such');
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('rpmgate: no stored package is named rg-no-such (nor has that NEVRA)\n');
  });
});
