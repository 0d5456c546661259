// Package upload through the real HTTP server into a real PostgreSQL: created, identical, conflicting,
// damaged and oversized uploads; concurrency; a restart; the CLI over every corpus RPM.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { corpusAvailable } from '../support/corpus.ts';
import { corpusRpms, nevraFromQf } from '../support/corpus-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let developerToken: string;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer({ env: { RPMGATE_MAX_UPLOAD_BYTES: String(8 * 1024 * 1024) } }), buildFixtures()]);
  developerToken = await server.tokenFor('developer', 'dev-alice');
});
afterAll(async () => {
  await server?.close();
});

async function upload(bytes: Buffer, token = developerToken): Promise<Response> {
  return fetch(`${server.url}/api/v1/packages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
}

async function countBlobs(): Promise<number> {
  const root = path.join(server.dataDir, 'blobs');
  let count = 0;
  for (const dir of await readdir(root)) count += (await readdir(path.join(root, dir))).length;
  return count;
}

describe('POST /api/v1/packages', () => {
  it('stores a new package (201), then answers 200 for the same bytes', async () => {
    const fixture = fixtures.byName('rg-epoch');
    const bytes = await readFile(fixture.path);
    const first = await upload(bytes);
    expect(first.status).toBe(201);
    const stored = (await first.json()) as Record<string, unknown>;
    expect(stored).toMatchObject({ nevra: 'rg-epoch-3:1.5-2.noarch', name: 'rg-epoch', epoch: 3, arch: 'noarch', uploadedBy: 'dev-alice' });
    expect(stored.originalSha256).toBe(createHash('sha256').update(bytes).digest('hex'));

    const again = await upload(bytes);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { nevra: string }).nevra).toBe('rg-epoch-3:1.5-2.noarch');

    const { body } = await server.admin.get<{ nevra: string }[]>('/api/v1/packages?name=rg-epoch');
    expect(body.map((p) => p.nevra)).toEqual(['rg-epoch-3:1.5-2.noarch']);
    const single = await server.admin.get<{ nevra: string }>(`/api/v1/packages/${encodeURIComponent('rg-epoch-3:1.5-2.noarch')}`);
    expect(single.body.nevra).toBe('rg-epoch-3:1.5-2.noarch');
  });

  it('refuses the same NEVRA with other bytes (409) and keeps the first', async () => {
    const fixture = fixtures.byName('rg-weak');
    const bytes = await readFile(fixture.path);
    expect((await upload(bytes)).status).toBe(201);
    // Same package, one byte of the payload changed: still a valid header, other content.
    const other = Buffer.from(bytes);
    const tail = other.length - 1;
    other[tail] = other[tail]! ^ 0xff;
    const response = await upload(other);
    expect([400, 409]).toContain(response.status);
    const rows = await server.database.sql`select original_sha256 from packages where name = 'rg-weak'`;
    expect(rows).toEqual([{ original_sha256: createHash('sha256').update(bytes).digest('hex') }]);
  });

  it('refuses a damaged RPM with 400 and the reader message, storing nothing', async () => {
    const bytes = await readFile(fixtures.byName('rg-text').path);
    const before = await countBlobs();
    const truncated = bytes.subarray(0, 300);
    const response = await upload(truncated);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { detail: string };
    expect(problem.detail.length).toBeGreaterThan(10);
    expect(problem.detail).not.toMatch(/\n\s+at /);
    expect(await countBlobs()).toBe(before);
    expect(await server.database.sql`select 1 from packages where name = 'rg-text'`).toHaveLength(0);
    expect(await readdir(path.join(server.dataDir, 'tmp'))).toEqual([]);
  });

  it('refuses something that is not an RPM at all with 400', async () => {
    const response = await upload(Buffer.from('<html>hello</html>'));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/RPM|lead|magic/i);
  });

  it('answers 413 beyond the size limit', async () => {
    const response = await upload(Buffer.alloc(9 * 1024 * 1024, 1));
    expect(response.status).toBe(413);
    expect(await readdir(path.join(server.dataDir, 'tmp'))).toEqual([]);
  });

  it('makes exactly one row and one blob from 20 concurrent uploads of one file', async () => {
    const bytes = await readFile(fixtures.byName('rg-lib').path);
    const before = await countBlobs();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => upload(bytes).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(await server.database.sql`select 1 from packages where name = 'rg-lib'`).toHaveLength(1);
    expect(await countBlobs()).toBe(before + new Set(await servedAndOriginal('rg-lib')).size);
  });

  it('keeps packages across a server restart', async () => {
    await server.restart();
    const { body } = await server.admin.get<{ nevra: string }[]>('/api/v1/packages?name=rg-epoch');
    expect(body).toHaveLength(1);
    const bytes = await readFile(fixtures.byName('rg-epoch').path);
    expect((await upload(bytes)).status).toBe(200);
  });
});

async function servedAndOriginal(name: string): Promise<string[]> {
  const [row] = await server.database.sql<{ sha256: string; original_sha256: string }[]>`
    select sha256, original_sha256 from packages where name = ${name}`;
  return [row!.sha256, row!.original_sha256];
}

describe('rpmgate upload', () => {
  it('uploads fixture RPMs with progress and a summary, exit 0', async () => {
    const files = fixtures.packages.filter((p) => p.name === 'rg-hello').map((p) => p.path);
    const result = await rpmgate(server, developerToken, ['upload', ...files]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`[${files.length}/${files.length}]`);
    expect(result.stdout).toMatch(new RegExp(`${files.length} file\\(s\\): ${files.length} stored`));
  });

  it('refuses damaged files with one clear line each and exits 1', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-damaged-'));
    const good = fixtures.byName('rg-app').path;
    const damaged = path.join(dir, 'damaged.rpm');
    await writeFile(damaged, (await readFile(good)).subarray(0, 500));
    const result = await rpmgate(server, developerToken, ['upload', good, damaged, path.join(dir, 'missing.rpm'), dir]);
    expect(result.code).toBe(1);
    const refusals = result.stderr.split('\n').filter((line) => /^\[\d+\/4\] .*: refused: /.test(line));
    expect(refusals).toHaveLength(3);
    expect(result.stderr).toContain(`${path.join(dir, 'missing.rpm')}: refused: no such file`);
    expect(result.stderr).toContain(`${dir}: refused: a directory, not an RPM file`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toMatch(/4 file\(s\): 1 stored, 0 already present, 3 refused/);
  });

  it('exits 2 with one line when the server cannot be reached', async () => {
    const result = await rpmgate({ url: 'http://127.0.0.1:1' }, developerToken, ['upload', fixtures.byName('rg-app').path]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot reach/);
  });

  it.skipIf(!corpusAvailable)('accepts every valid corpus RPM and refuses the damaged ones (and the unsignable v3 one)', async () => {
    const rpms = corpusRpms().filter((rpm) => rpm.kind !== 'drpm');
    const result = await rpmgate(server, developerToken, ['--json', 'upload', ...rpms.map((rpm) => rpm.path)]);
    const summary = JSON.parse(result.stdout) as { files: { file: string; outcome: string; nevra?: string; error?: string }[] };
    const byFile = new Map(summary.files.map((entry) => [entry.file, entry]));
    const firstBytesOfNevra = new Map<string, string>();
    for (const rpm of rpms) {
      const outcome = byFile.get(rpm.path)!;
      if (rpm.damaged) {
        expect(outcome.outcome, `${rpm.path} should be refused`).toBe('refused');
        expect(outcome.error).not.toMatch(/already stored/);
        continue;
      }
      if (rpm.unsignable) {
        expect(outcome.outcome, rpm.path).toBe('refused');
        expect(outcome.error).toMatch(/cannot sign an RPM v3 package/);
        continue;
      }
      const nevra = nevraFromQf(rpm.rpmQf, rpm.kind);
      const first = firstBytesOfNevra.get(nevra);
      if (outcome.outcome === 'refused') {
        // The contract's conflict: this NEVRA is stored already with other bytes.
        expect(outcome.error, rpm.path).toMatch(/already stored with other content/);
        expect(first === undefined || first !== rpm.sha256, rpm.path).toBe(true);
      } else {
        expect(outcome.nevra, rpm.path).toBe(nevra);
        firstBytesOfNevra.set(nevra, firstBytesOfNevra.get(nevra) ?? rpm.sha256);
      }
    }
    expect(result.code).toBe(1);
  });
});
