// A package that lost its digests (MD5 gone from the signature header, PAYLOADDIGEST and its ALT
// renamed in the main header, as a damaged or hand-edited build can leave it): the real dnf refuses
// to install it on a host ("does not verify: no digest"), so rpmgate refuses it at upload with a
// 400, keeps nothing of it, and hosts go on installing the intact package from the set repository.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../../common/rpm/tags.ts';
import { buildFixtures, type FixturePackage } from '../fixtures/build-fixtures.ts';
import { runCreaterepo, type CreaterepoResult } from '../support/createrepo.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { withoutDigests } from '../support/rpm-mutants.ts';
import { runTool } from '../support/rpm-tools.ts';
import { toolsRequired } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`dnf end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** dnf end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

let server: TestServer;
let hello: FixturePackage;
let damaged: Buffer;
const roots: DnfRoot[] = [];
const repos: CreaterepoResult[] = [];

beforeAll(async () => {
  if (!availability.ok) return;
  let fixtures;
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  hello = fixtures.byName('rg-hello-1.0-1.noarch.rpm');
  damaged = withoutDigests(await readFile(hello.path), { signature: [T.RPMSIGTAG_MD5], main: [T.RPMTAG_PAYLOADDIGEST, T.RPMTAG_PAYLOADDIGESTALT] });
});
afterEach(async () => {
  for (const root of roots.splice(0)) await root.cleanup();
  for (const repo of repos.splice(0)) await repo.cleanup();
});
afterAll(async () => {
  await server?.close();
});

async function newRoot(): Promise<DnfRoot> {
  const root = await createDnfRoot();
  roots.push(root);
  return root;
}

describe.skipIf(!availability.ok)('a package that lost its digests', () => {
  it('is one rpm reads but dnf will not install: "does not verify: no digest"', async () => {
    const root = await newRoot();
    const file = path.join(root.dir, hello.fileName);
    await writeFile(file, damaged);
    // rpm -qp still reads it (queries check no payload digest); rpm -K does not pass it.
    expect((await runTool('rpm', ['-qp', '--nosignature', file], root.env)).code).toBe(0);
    const verify = await runTool('rpm', ['-Kv', '--nosignature', file], root.env);
    expect(verify.code).not.toBe(0);
    expect(verify.stdout).toMatch(/MD5 digest: NOTFOUND/);

    // Offered to a host as is (a plain repository, as rpmgate served it before it checked this).
    const repo = await runCreaterepo([{ source: file, name: hello.fileName }]);
    repos.push(repo);
    await expect(root.dnf(['install', 'rg-hello'], { repoUrl: `file://${repo.dir}`, setopts: ['*.gpgcheck=0'] })).rejects.toThrow(
      /does not verify: no digest/,
    );
    expect(await root.installed()).toEqual([]);
  });

  it('is refused at upload with rpm\'s reason, leaves nothing behind, and hosts install the intact package', async () => {
    const developer = await server.tokenFor('developer', 'lost-digests');
    const upload = (body: Buffer) =>
      fetch(`${server.url}/api/v1/packages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${developer}`, 'content-type': 'application/x-rpm' },
        body: body as Uint8Array<ArrayBuffer>,
      });
    const refused = await upload(damaged);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('invalid_rpm');
    expect(problem.detail).toMatch(/no digest of the payload .*MD5 digest: NOTFOUND/);
    const { body: listed } = await server.admin.get<unknown[]>('/api/v1/packages?name=rg-hello');
    expect(listed).toEqual([]);
    expect(await readdir(path.join(server.dataDir, 'blobs')).catch(() => [])).toEqual([]);

    // The intact package is taken, and installs from a set repository with signatures checked.
    expect((await upload(await readFile(hello.path))).status).toBe(201);
    await server.admin.post('/api/v1/sets', { name: 'digests', version: '1', packages: [hello.nevra], allowUnresolved: true, noSources: true });
    const root = await newRoot();
    await root.dnf(['install', 'rg-hello'], {
      repoUrl: `${server.url}/repo/set/digests/1/`,
      setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`],
    });
    expect(await root.installed()).toEqual(['rg-hello-1.0-1.noarch']);
  });
});
