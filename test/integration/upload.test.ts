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
import { checksOffPolicy } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

let server: TestServer;
let fixtures: FixtureSet;
let developerToken: string;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer({ env: { RPMGATE_MAX_UPLOAD_BYTES: String(8 * 1024 * 1024), RPMGATE_POLICY_FILE: checksOffPolicy } }), buildFixtures()]);
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

/** The store's blobs, by name (their sha256). */
async function listBlobs(): Promise<string[]> {
  const root = path.join(server.dataDir, 'blobs');
  const blobs: string[] = [];
  for (const dir of await readdir(root)) blobs.push(...(await readdir(path.join(root, dir))));
  return blobs;
}

async function countBlobs(): Promise<number> {
  return (await listBlobs()).length;
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

  it('answers 200 for the file rpmgate serves (signed), downloaded and uploaded again', async () => {
    const fixture = fixtures.byName('rg-unsatisfiable');
    expect((await upload(await readFile(fixture.path))).status).toBe(201);
    const [row] = await server.database.sql<{ sha256: string; original_sha256: string; filename: string }[]>`
      select sha256, original_sha256, filename from packages where nevra = ${fixture.nevra}`;
    expect(row!.sha256).not.toBe(row!.original_sha256);
    await server.admin.post('/api/v1/sets', { name: 'served', version: '1', packages: [fixture.nevra], allowUnresolved: true, noSources: true });
    const served = Buffer.from(await (await fetch(`${server.url}/repo/set/served/1/Packages/${row!.filename}`)).arrayBuffer());
    expect(createHash('sha256').update(served).digest('hex')).toBe(row!.sha256);
    const again = await upload(served);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { nevra: string }).nevra).toBe(fixture.nevra);
    expect(await server.database.sql`select 1 from packages where name = 'rg-unsatisfiable'`).toHaveLength(1);
  });

  it('refuses a stored package with one payload byte changed (its digests no longer match) and keeps the first', async () => {
    const fixture = fixtures.byName('rg-weak');
    const bytes = await readFile(fixture.path);
    expect((await upload(bytes)).status).toBe(201);
    // Same package, one byte of the payload changed: still a valid header, other content.
    const other = Buffer.from(bytes);
    const tail = other.length - 1;
    other[tail] = other[tail]! ^ 0xff;
    const response = await upload(other);
    expect(response.status).toBe(400);
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

  it('answers one 201 and 19 × 409 naming the file name to 20 concurrent uploads of one name-version-release.arch in 20 epochs, keeping no refused blob', async () => {
    const files = await buildSmallRpms(Array.from({ length: 20 }, (_, i) => ({ name: 'rg-same-file', epoch: i + 1 })));
    const before = new Set(await listBlobs());
    const answers = await Promise.all(
      files.map(async (file) => {
        const response = await upload(await readFile(file));
        return { status: response.status, body: (await response.json()) as { detail?: string; filename?: string } };
      }),
    );
    expect(answers.map((answer) => answer.status).sort((a, b) => a - b)).toEqual([201, ...Array<number>(19).fill(409)]);
    for (const refused of answers.filter((answer) => answer.status === 409)) {
      expect(refused.body.detail).toMatch(/^rg-same-file-\d+:1\.0-1\.noarch already uses the file name rg-same-file-1\.0-1\.noarch\.rpm$/);
      expect(refused.body.filename).toBe('rg-same-file-1.0-1.noarch.rpm');
    }
    expect(await server.database.sql`select 1 from packages where name = 'rg-same-file'`).toHaveLength(1);
    const added = (await listBlobs()).filter((blob) => !before.has(blob));
    expect(added.sort()).toEqual([...new Set(await servedAndOriginal('rg-same-file'))].sort());
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
    const empty = path.join(dir, 'empty.rpm');
    await writeFile(damaged, (await readFile(good)).subarray(0, 500));
    await writeFile(empty, '');
    const result = await rpmgate(server, developerToken, ['upload', good, damaged, empty]);
    expect(result.code).toBe(1);
    const refusals = result.stderr.split('\n').filter((line) => /^\[\d+\/3\] .*: refused: /.test(line));
    expect(refusals).toHaveLength(2);
    expect(result.stderr).toContain(`${damaged}: refused: `);
    expect(result.stderr).toContain(`${empty}: refused: `);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toMatch(/3 file\(s\): 1 stored, 0 already present, 2 refused/);
  });

  it('exits 2 with one line when the server cannot be reached', async () => {
    const result = await rpmgate({ url: 'http://127.0.0.1:1' }, developerToken, ['upload', fixtures.byName('rg-app').path]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot reach/);
  });

  // With the house policies off: this is the reader's and the signer's test (what the shipped entry
  // checks refuse of the corpus is corpus-entry-checks.test.ts).
  it.skipIf(!corpusAvailable)('accepts every valid corpus RPM and refuses the damaged ones (and the unsignable v3 one)', async () => {
    // Many corpus files share a NEVRA (one package signed many ways): on one server all but the
    // first would stop at the conflict check, before signing. So the files go in rounds, each round
    // holding one file of each NEVRA, each round on a server of its own.
    const rpms = corpusRpms().filter((rpm) => rpm.kind !== 'drpm');
    const rounds: typeof rpms[] = [];
    const seen = new Map<string, number>();
    for (const rpm of rpms) {
      const nevra = rpm.damaged || rpm.unsignable ? `refused:${rpm.path}` : nevraFromQf(rpm.rpmQf, rpm.kind);
      const round = seen.get(nevra) ?? 0;
      seen.set(nevra, round + 1);
      (rounds[round] ??= []).push(rpm);
    }
    expect(rounds.length).toBeGreaterThan(1);
    for (const [index, round] of rounds.entries()) {
      // ed25519 after the first round: a key made in milliseconds, and the other algorithm signed too.
      const target = index === 0 ? server : await startTestServer({ env: { RPMGATE_SIGNING_ALGORITHM: 'ed25519', RPMGATE_POLICY_FILE: checksOffPolicy } });
      try {
        const token = index === 0 ? developerToken : await target.tokenFor('developer');
        const result = await rpmgate(target, token, ['--json', 'upload', ...round.map((rpm) => rpm.path)]);
        const summary = JSON.parse(result.stdout) as { files: { file: string; outcome: string; nevra?: string; error?: string }[] };
        const byFile = new Map(summary.files.map((entry) => [entry.file, entry]));
        for (const rpm of round) {
          const outcome = byFile.get(rpm.path)!;
          if (rpm.damaged) {
            expect(outcome.outcome, `${rpm.path} should be refused`).toBe('refused');
            expect(outcome.error).not.toMatch(/already stored/);
          } else if (rpm.unsignable) {
            expect(outcome.outcome, rpm.path).toBe('refused');
            expect(outcome.error).toMatch(/cannot sign an RPM v3 package/);
          } else {
            expect(outcome, `${rpm.path} (round ${index})`).toMatchObject({ outcome: 'created', nevra: nevraFromQf(rpm.rpmQf, rpm.kind) });
          }
        }
        expect(result.code).toBe(round.some((rpm) => rpm.damaged || rpm.unsignable) ? 1 : 0);
      } finally {
        if (target !== server) await target.close();
      }
    }
  });

  it.skipIf(!corpusAvailable)('refuses another build of a stored NEVRA with 409, naming the stored one, and keeps the first', async () => {
    const valid = corpusRpms().filter((rpm) => rpm.kind === 'rpm' && rpm.rpmReads && !rpm.damaged && !rpm.unsignable);
    const byNevra = new Map<string, typeof valid>();
    for (const rpm of valid) byNevra.set(nevraFromQf(rpm.rpmQf, rpm.kind), [...(byNevra.get(nevraFromQf(rpm.rpmQf, rpm.kind)) ?? []), rpm]);
    const [nevra, builds] = [...byNevra].find(([, files]) => new Set(files.map((f) => f.sha256)).size > 1)!;
    const [first, second] = [builds[0]!, builds.find((b) => b.sha256 !== builds[0]!.sha256)!];
    const target = await startTestServer({ env: { RPMGATE_SIGNING_ALGORITHM: 'ed25519', RPMGATE_POLICY_FILE: checksOffPolicy } });
    try {
      const post = (bytes: Buffer) =>
        fetch(`${target.url}/api/v1/packages`, { method: 'POST', headers: { authorization: `Bearer ${target.adminToken}` }, body: bytes as Uint8Array<ArrayBuffer> });
      expect((await post(await readFile(first.path))).status).toBe(201);
      const conflict = await post(await readFile(second.path));
      expect(conflict.status).toBe(409);
      const problem = (await conflict.json()) as { detail: string; storedSha256: string };
      expect(problem.detail).toContain(`${nevra} is already stored with other content`);
      expect(problem.storedSha256).toBe(first.sha256);
      const rows = await target.database.sql`select original_sha256 from packages where nevra = ${nevra}`;
      expect(rows).toEqual([{ original_sha256: first.sha256 }]);
    } finally {
      await target.close();
    }
  });
});
