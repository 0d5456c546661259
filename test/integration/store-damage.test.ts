// A row whose blob is missing or short (disk damage, a bad restore) is refused before the answer
// starts: a 500 problem naming the stored file, one JSON log line, never a 200 with a cut body.
// `rpmgate store fsck` lists such rows and the blobs no row names (removed with --repair when old),
// and uploading the same bytes again restores a damaged blob.
import { createHash } from 'node:crypto';
import { readFile, truncate, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpmgate } from '../support/cli.ts';
import { recordingLog, type RecordingLog } from '../support/recording-log.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let log: RecordingLog;
const base = () => `${server.url}/repo/level/integ/`;
const blobFile = (sha256: string) => path.join(server.dataDir, 'blobs', sha256.slice(0, 2), sha256);

interface Served {
  href: string;
  sha256: string;
  bytes: Buffer;
}
const served = new Map<string, Served>();

beforeAll(async () => {
  log = recordingLog();
  const [started, files] = await Promise.all([startTestServer({ log }), buildSmallRpms([{ name: 'rg-cut' }, { name: 'rg-gone' }, { name: 'rg-whole' }])]);
  server = started;
  const developer = await server.clientFor('developer');
  for (const file of files) expect((await developer.request('POST', '/api/v1/packages', { body: await readFile(file) })).status).toBe(201);
  for (const entry of await fetchPrimaryEntries(base())) {
    const response = await fetch(base() + entry.location.href!);
    const bytes = Buffer.from(await response.arrayBuffer());
    served.set(entry.name, { href: entry.location.href!, sha256: entry.pkgid, bytes });
  }
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { status: number; detail: string; sha256: string; reason: string };
}

describe('a row whose blob is damaged', () => {
  it('answers a 500 problem naming the short file before any byte, and logs one JSON line', async () => {
    const cut = served.get('rg-cut')!;
    await truncate(blobFile(cut.sha256), 100);
    const before = log.lines.length;
    const response = await fetch(base() + cut.href);
    expect(response.status).toBe(500);
    const problem = await problemOf(response);
    expect(problem.detail).toMatch(new RegExp(`stored file ${cut.sha256} holds 100 bytes instead of ${cut.bytes.length}`));
    expect(problem.reason).toBe('blob_size_mismatch');
    const logged = log.records().slice(before).filter((record) => record.message === 'package blob damaged');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', sha256: cut.sha256, expectedSize: cut.bytes.length, foundSize: 100 });
    // The alias and HEAD too; a range inside the short file as well.
    expect((await fetch(`${base()}Packages/${path.basename(cut.href)}`)).status).toBe(500);
    expect((await fetch(base() + cut.href, { method: 'HEAD' })).status).toBe(500);
    expect((await fetch(base() + cut.href, { headers: { range: 'bytes=0-9' } })).status).toBe(500);
  });

  it('answers a 500 problem for a missing file', async () => {
    const gone = served.get('rg-gone')!;
    await rm(blobFile(gone.sha256));
    const response = await fetch(base() + gone.href);
    expect(response.status).toBe(500);
    const problem = await problemOf(response);
    expect(problem.detail).toMatch(new RegExp(`stored file ${gone.sha256} is missing`));
    expect(problem.detail).toMatch(/rpmgate store fsck/);
  });

  it('still serves intact packages', async () => {
    const whole = served.get('rg-whole')!;
    const response = await fetch(base() + whole.href);
    expect(response.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await response.arrayBuffer())).digest('hex')).toBe(whole.sha256);
  });
});

describe('rpmgate store fsck', () => {
  it('lists the damaged rows and the unnamed blobs, exiting 1; --repair removes old unnamed blobs only', async () => {
    const orphanOld = 'a'.repeat(64);
    const orphanNew = 'b'.repeat(64);
    for (const sha256 of [orphanOld, orphanNew]) {
      await mkdir(path.dirname(blobFile(sha256)), { recursive: true });
      await writeFile(blobFile(sha256), 'orphan');
    }
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(blobFile(orphanOld), twoHoursAgo, twoHoursAgo);
    const token = await server.tokenFor('admin');
    const checked = await rpmgate(server, token, ['store', 'fsck']);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(new RegExp(`damaged: rg-cut-\\S+ \\(served file ${served.get('rg-cut')!.sha256}\\): 100 bytes instead of`));
    expect(checked.stdout).toMatch(new RegExp(`damaged: rg-gone-\\S+ \\(served file ${served.get('rg-gone')!.sha256}\\): missing`));
    expect(checked.stdout).not.toMatch(/rg-whole/);
    expect(checked.stdout).toMatch(new RegExp(`unnamed: blob ${orphanOld}`));
    expect(checked.stderr.trim().split('\n')).toEqual(['rpmgate: 2 stored file(s) are missing or damaged']);

    const repaired = await rpmgate(server, token, ['--json', 'store', 'fsck', '--repair']);
    const report = JSON.parse(repaired.stdout) as { damaged: unknown[]; orphans: { sha256: string; removed: boolean }[] };
    expect(report.damaged).toHaveLength(2);
    expect(report.orphans.sort((a, b) => a.sha256.localeCompare(b.sha256))).toEqual([
      expect.objectContaining({ sha256: orphanOld, removed: true }),
      expect.objectContaining({ sha256: orphanNew, removed: false }),
    ]);
    await expect(readFile(blobFile(orphanOld))).rejects.toThrow(/ENOENT/);
    expect(await readFile(blobFile(orphanNew), 'utf8')).toBe('orphan');
    await rm(blobFile(orphanNew));
  });

  it('uploading the same bytes again restores the blob, and fsck is clean after', async () => {
    const developer = await server.clientFor('developer');
    for (const name of ['rg-cut', 'rg-gone']) {
      const file = served.get(name)!;
      expect((await developer.request('POST', '/api/v1/packages', { body: new Uint8Array(file.bytes) })).status).toBe(200);
      const response = await fetch(base() + file.href);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(file.bytes)).toBe(true);
    }
    const clean = await rpmgate(server, await server.tokenFor('admin'), ['store', 'fsck']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/the store is consistent/);
  });
});
