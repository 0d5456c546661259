// Signing through the real server, checked with real tools only: rpmkeys verifies every served RPM
// with the served key; gpg verifies repomd.xml.asc; dnf with gpgcheck and repo_gpgcheck installs, and
// refuses a wrong key or a tampered repomd.xml; installed packages pass rpm -V; a key rotation keeps
// hosts working through the overlap, including a host whose dnf cached the metadata before it.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepomd, readRepodata } from '../../common/repodata/parse.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { corpusRpms } from '../support/corpus-rpms.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { createGpgHome, createRpmRoot, signatureLines } from '../support/rpm-tools.ts';
// Corpus packages go in as the reader and the signer take them: the house policies are off here.
import { checksOffPolicy } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { toolsRequired } from '../support/requirements.ts';

const availability = await dnfAvailable();
if (!availability.ok) {
  if (toolsRequired) throw new Error(`signing end-to-end tests cannot run in CI: ${availability.reason}`);
  console.warn(`\n*** signing end-to-end tests SKIPPED: ${availability.reason} ***\n`);
}

let server: TestServer;
let fixtures: FixtureSet;
let work: string;

async function bytesOf(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Mirrors a served repository into dir (repomd, its signature, metadata, packages); returns the package files. */
async function mirror(baseUrl: string, dir: string): Promise<string[]> {
  await mkdir(path.join(dir, 'repodata'), { recursive: true });
  const repomd = await bytesOf(`${baseUrl}repodata/repomd.xml`);
  await writeFile(path.join(dir, 'repodata/repomd.xml'), repomd);
  await writeFile(path.join(dir, 'repodata/repomd.xml.asc'), await bytesOf(`${baseUrl}repodata/repomd.xml.asc`));
  const records = (await parseRepomd(repomd)).records;
  for (const record of records) await writeFile(path.join(dir, record.href), await bytesOf(baseUrl + record.href));
  const primary = records.find((r) => r.type === 'primary')!;
  const { entries } = await readRepodata('primary', path.join(dir, primary.href));
  const files: string[] = [];
  for (const entry of entries.values()) {
    const href = entry.location.href!;
    const bytes = await bytesOf(baseUrl + href.split('/').map(encodeURIComponent).join('/'));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.pkgid);
    // Packages/<digest>/<NVRA>.rpm: a directory per file.
    await mkdir(path.dirname(path.join(dir, href)), { recursive: true });
    await writeFile(path.join(dir, href), bytes);
    files.push(path.join(dir, href));
  }
  return files;
}

beforeAll(async () => {
  if (!availability.ok) return;
  [server, fixtures] = await Promise.all([startTestServer({ env: { RPMGATE_POLICY_FILE: checksOffPolicy } }), buildFixtures()]);
  work = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-signed-'));
  const integ = await server.clientFor('integ');
  const files = [...fixtures.packages.map((p) => p.path), ...corpusRpms().filter((r) => !r.damaged && !r.unsignable && r.kind !== 'drpm').map((r) => r.path)];
  for (const file of files) await integ.request('POST', '/api/v1/packages', { body: await readFile(file), accept: [409] });
  const { body } = await server.admin.get<{ nevra: string; source: boolean }[]>('/api/v1/packages?limit=10000');
  await integ.post('/api/v1/sets', { name: 'signed', version: '1', packages: body.filter((p) => !p.source).map((p) => p.nevra), allowUnresolved: true });
  await integ.post('/api/v1/sets', { name: 'small', version: '1', packages: [fixtures.byName('rg-app').nevra], resolve: true });
});
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!availability.ok)('signed by the server', () => {
  it('rpmkeys says every served RPM (binaries and sources) is signed by the served key, and refuses a tampered one', async () => {
    const keyFile = path.join(work, 'rpmgate.asc');
    await writeFile(keyFile, await bytesOf(`${server.url}/keys/rpmgate.asc`));
    const rpmRoot = await createRpmRoot();
    try {
      expect((await rpmRoot.importKey(keyFile)).code).toBe(0);
      const { body: keys } = await server.admin.get<{ current: { shortKeyId: string } }>('/api/v1/keys');
      const files = [
        ...(await mirror(`${server.url}/repo/set/signed/1/`, path.join(work, 'binary'))),
        ...(await mirror(`${server.url}/repo/set/signed/1/source/`, path.join(work, 'source'))),
      ];
      expect(files.length).toBeGreaterThan(20);
      for (const file of files) {
        const result = await rpmRoot.checkSignature(file);
        expect(result.code, `${file}: ${result.stdout}${result.stderr}`).toBe(0);
        expect(signatureLines(result.stdout), file).toContain(`Header V4 RSA/SHA256 Signature, key ID ${keys.current.shortKeyId}: OK`);
      }
      const tampered = path.join(work, 'tampered.rpm');
      const bytes = await readFile(files[0]!);
      const flipped = bytes.length - 100;
      bytes[flipped] = bytes[flipped]! ^ 0xff;
      await writeFile(tampered, bytes);
      expect((await rpmRoot.checkSignature(tampered)).code).not.toBe(0);
    } finally {
      await rpmRoot.cleanup();
    }
  });

  it('gpg verifies repomd.xml.asc against repomd.xml, and not against a changed one', async () => {
    const gpg = await createGpgHome();
    try {
      await gpg.importKeys((await bytesOf(`${server.url}/keys/rpmgate.asc`)).toString());
      const dir = path.join(work, 'gpg');
      await mkdir(dir, { recursive: true });
      for (const repo of ['set/signed/1/', 'level/integ/', 'set/signed/1/source/']) {
        const repomd = path.join(dir, 'repomd.xml');
        const signature = path.join(dir, 'repomd.xml.asc');
        await writeFile(repomd, await bytesOf(`${server.url}/repo/${repo}repodata/repomd.xml`));
        await writeFile(signature, await bytesOf(`${server.url}/repo/${repo}repodata/repomd.xml.asc`));
        const good = await gpg.verifyDetached(signature, repomd);
        expect(good.code, good.stderr).toBe(0);
        expect(good.stdout).toMatch(/VALIDSIG/);
        await writeFile(repomd, `${await readFile(repomd, 'utf8')} `);
        expect((await gpg.verifyDetached(signature, repomd)).code).not.toBe(0);
      }
    } finally {
      await gpg.cleanup();
    }
  });

  it('dnf with gpgcheck and repo_gpgcheck installs, and the installed files pass rpm -V', async () => {
    const root = await createDnfRoot();
    try {
      const setopts = ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`];
      await root.dnf(['install', 'rg-app'], { repoUrl: `${server.url}/repo/set/small/1/`, setopts });
      expect(await root.installed()).toContain(fixtures.byName('rg-app').nevra);
      const { execFile } = await import('node:child_process');
      const verify = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile('rpm', ['--root', root.root, '--dbpath', '/var/lib/rpm', '-Va', '--nodeps'], { env: { ...process.env, ...root.env } }, (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, out: stdout + stderr }),
        ),
      );
      expect(verify.out.trim(), verify.out).toBe('');
      expect(verify.code).toBe(0);
    } finally {
      await root.cleanup();
    }
  });

  it('dnf refuses the repository with a wrong key, and a tampered repomd.xml', async () => {
    const gpg = await createGpgHome();
    const root = await createDnfRoot();
    try {
      await gpg.gpg(['--quick-gen-key', '--passphrase', '', 'Wrong Key <wrong@example.com>', 'rsa3072', 'sign', 'never']);
      const wrongKey = path.join(work, 'wrong.asc');
      await writeFile(wrongKey, (await gpg.gpg(['--armor', '--export', 'wrong@example.com'])).stdout);
      const refusal = await root
        .dnf(['install', 'rg-app'], { repoUrl: `${server.url}/repo/set/small/1/`, setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=file://${wrongKey}`] })
        .then(
          (output) => `dnf succeeded: ${output}`,
          (error: Error) => error.message,
        );
      // dnf imported the wrong key, then refused the repository's metadata with it (DNF-ON-DEBIAN.md).
      expect(refusal).toMatch(/^ Userid {5}: "Wrong Key <wrong@example\.com>"$/m);
      expect(refusal).toMatch(/^Error: Failed to download metadata for repo 'gate': repomd\.xml GPG signature verification error: Bad GPG signature$/m);
      expect(await root.installed()).toEqual([]);

      const copy = path.join(work, 'tampered-repo');
      await mirror(`${server.url}/repo/set/small/1/`, copy);
      const repomd = path.join(copy, 'repodata/repomd.xml');
      await writeFile(repomd, (await readFile(repomd, 'utf8')).replace('<revision>', '<revision>1'));
      await expect(
        root.dnf(['install', 'rg-app'], { repoUrl: `file://${copy}/`, setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`] }),
      ).rejects.toThrow(/repomd.xml GPG signature verification error|Bad GPG signature/);
      expect(await root.installed()).toEqual([]);
    } finally {
      await root.cleanup();
      await gpg.cleanup();
    }
  });

  it('a key rotation re-signs packages, publishes both keys during the overlap, then only the new one', async () => {
    const before = await server.admin.get<{ current: { fingerprint: string; keyId: string } }>('/api/v1/keys');
    const repoUrl = `${server.url}/repo/set/small/1/`;
    const setopts = ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`];
    // A host whose dnf cached the metadata before the rotation, and keeps it a day as a set's .repo file says.
    const cached = await createDnfRoot();
    const cachedSetopts = [...setopts, '*.metadata_expire=86400'];
    try {
      await cached.dnf(['makecache'], { repoUrl, setopts: cachedSetopts });

      const added = await server.admin.post<{ fingerprint: string; keyId: string; shortKeyId: string; status: string }>('/api/v1/keys', {});
      expect(added.body.status).toBe('published');
      const activated = await server.admin.post<{ rotation: { state: string; total: number } }>(`/api/v1/keys/${added.body.fingerprint}/activate`, {});
      expect(activated.status).toBe(202);
      await expect
        .poll(async () => (await server.admin.get<{ rotation: { state: string } }>('/api/v1/keys')).body.rotation.state, { timeout: 120_000, interval: 500 })
        .toBe('done');

      // Without a refresh, dnf installs from the primary.xml it cached before the rotation: its hrefs
      // name the files signed by the previous key, still served, and verified with the key it imported.
      await cached.dnf(['install', 'rg-app'], { repoUrl, setopts: cachedSetopts });
      expect(await cached.installed()).toContain(fixtures.byName('rg-app').nevra);
      expect(await installedSigner(cached, 'rg-app')).toBe(before.body.current.keyId);
      // After a refresh: the new metadata and the file signed by the new key, which dnf imports from
      // the gpgkey URL (both keys are published during the overlap) and verifies.
      await cached.dnf(['--refresh', 'reinstall', 'rg-app'], { repoUrl, setopts: cachedSetopts });
      expect(await cached.installed()).toContain(fixtures.byName('rg-app').nevra);
      expect(await installedSigner(cached, 'rg-app')).toBe(added.body.keyId);

      // Both keys published: a host that trusts only the old key still finds it; new packages verify with the new one.
      const published = (await bytesOf(`${server.url}/keys/rpmgate.asc`)).toString();
      const gpg = await createGpgHome();
      try {
        await gpg.importKeys(published);
        const listed = (await gpg.gpg(['--list-keys', '--with-colons'])).stdout;
        expect(listed).toContain(before.body.current.fingerprint.toUpperCase());
        expect(listed).toContain(added.body.fingerprint.toUpperCase());
      } finally {
        await gpg.cleanup();
      }
      const rpmRoot = await createRpmRoot();
      const root = await createDnfRoot();
      try {
        const keyFile = path.join(work, 'both.asc');
        await writeFile(keyFile, published);
        await rpmRoot.importKey(keyFile);
        const files = await mirror(repoUrl, path.join(work, 'rotated'));
        for (const file of files) {
          expect(signatureLines((await rpmRoot.checkSignature(file)).stdout)).toContain(`Header V4 RSA/SHA256 Signature, key ID ${added.body.shortKeyId}: OK`);
        }
        await root.dnf(['install', 'rg-app'], { repoUrl, setopts });
        expect(await root.installed()).toContain(fixtures.byName('rg-app').nevra);
      } finally {
        await rpmRoot.cleanup();
        await root.cleanup();
      }

      await server.admin.post(`/api/v1/keys/${before.body.current.fingerprint}/retire`, {});
      const gpgAfter = await createGpgHome();
      try {
        await gpgAfter.importKeys((await bytesOf(`${server.url}/keys/rpmgate.asc`)).toString());
        const listed = (await gpgAfter.gpg(['--list-keys', '--with-colons'])).stdout;
        expect(listed).not.toContain(before.body.current.fingerprint.toUpperCase());
        expect(listed).toContain(added.body.fingerprint.toUpperCase());
      } finally {
        await gpgAfter.cleanup();
      }
    } finally {
      await cached.cleanup();
    }
  });
});

/** The long key ID (16 hex) of an installed package's header signature, as rpm prints it. */
async function installedSigner(root: DnfRoot, name: string): Promise<string> {
  const line = await root.rpm(['-q', '--qf', '%{RSAHEADER:pgpsig}\\n', name]);
  const match = /Key ID ([0-9a-f]{16})/.exec(line);
  expect(match, line).not.toBeNull();
  return match![1]!;
}
