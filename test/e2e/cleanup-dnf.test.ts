// After a cleanup deleted a redundant set and an orphan package (their files too), Debian's real dnf
// installs every package of every repository that remains — each set, each level, each channel —
// with gpgcheck and repo_gpgcheck on; the deleted set's repository is gone and no level names the
// deleted package.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { levels } from '../../common/roles.ts';
import type { CleanupReport } from '../../server/retention/job.ts';
import { createDnfRoot, dnfAvailable } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** dnf end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

const day = 86_400_000;
let server: TestServer;
let now = new Date(Date.now() + 31 * day);

beforeAll(async () => {
  if (!availability.ok) return;
  const [rpms, started] = await Promise.all([
    buildSmallRpms([
      { name: 'rg-cd-keep', version: '1.0' },
      { name: 'rg-cd-keep', version: '2.0' },
      { name: 'rg-cd-drop', version: '1.0' },
      { name: 'rg-cd-drop', version: '2.0' },
      { name: 'rg-cd-orphan', version: '1.0' },
      { name: 'rg-cd-lib', version: '1.0' },
    ]),
    startTestServer({ clock: () => now }),
  ]);
  server = started;
  for (const file of rpms) expect((await server.admin.request('POST', '/api/v1/packages', { body: await readFile(file) })).status).toBe(201);
  const create = (name: string, version: string, packages: string[]) => server.admin.post('/api/v1/sets', { name, version, packages, allowUnresolved: true });
  await create('keep', '1.0', ['rg-cd-keep-1.0-1.noarch', 'rg-cd-lib-1.0-1.noarch']);
  await create('keep', '2.0', ['rg-cd-keep-2.0-1.noarch', 'rg-cd-lib-1.0-1.noarch']);
  await create('drop', '1.0', ['rg-cd-drop-1.0-1.noarch']);
  await create('drop', '2.0', ['rg-cd-drop-2.0-1.noarch']);
  for (const level of ['qa_ready', 'pre_release', 'release']) await server.admin.post('/api/v1/sets/keep/1.0/promote', { level });
  await server.admin.post('/api/v1/sets/drop/2.0/promote', { level: 'qa_ready' });
}, 300_000);

afterAll(async () => {
  await server?.close();
});

describe.skipIf(!availability.ok)('after a cleanup', () => {
  it('dnf installs every package of every remaining repository', async () => {
    // Warned, then deleted 15 days later.
    expect((await server.admin.post<CleanupReport>('/api/v1/cleanup/run', {})).body.warned).toBe(2);
    now = new Date(now.getTime() + 15 * day);
    const report = (await server.admin.post<CleanupReport>('/api/v1/cleanup/run', {})).body;
    expect(report.deleted.map((d) => `${d.kind} ${d.object}`).sort()).toEqual(['package rg-cd-orphan-1.0-1.noarch', 'set drop/1.0']);
    expect(report.bytesFreed).toBeGreaterThan(0);

    expect((await fetch(`${server.url}/repo/set/drop/1.0/repodata/repomd.xml`)).status).toBe(404);
    const sets = (await server.admin.get<{ name: string; version: string }[] | { sets: { name: string; version: string }[] }>('/api/v1/sets')).body;
    const remaining = (Array.isArray(sets) ? sets : sets.sets).map((set) => `${set.name}/${set.version}`).sort();
    expect(remaining).toEqual(['drop/2.0', 'keep/1.0', 'keep/2.0']);

    const repositories = [
      ...remaining.map((set) => `set/${set}`),
      ...levels.map((level) => `level/${level}`),
      ...['drop', 'keep'].flatMap((name) => ['integ', 'qa_ready'].map((level) => `set/${name}/latest/${level}`)),
    ];
    const signed = ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`];
    for (const repository of repositories) {
      const baseUrl = `${server.url}/repo/${repository}/`;
      const entries = await fetchPrimaryEntries(baseUrl);
      const names = [...new Set(entries.map((entry) => entry.name))].sort();
      expect(names, repository).not.toContain('rg-cd-orphan');
      expect(names.length, repository).toBeGreaterThan(0);
      const root = await createDnfRoot();
      try {
        await root.dnf(['install', ...names], { repoUrl: baseUrl, setopts: signed });
        expect((await root.installed()).map((nevra) => nevra.replace(/-[^-]+-[^-]+$/, '')).sort(), repository).toEqual(names);
      } finally {
        await root.cleanup();
      }
    }
  }, 600_000);
});
