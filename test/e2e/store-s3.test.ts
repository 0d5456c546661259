// The package store on S3, against a real OpenStack Swift with its S3 API (Debian's packages, started
// here and stopped after): uploads staged under tmp/ and visible at their content address only when
// verified, multipart for large files and aborted on failure, ranges, damaged objects refused before
// the answer starts, a 302 to a presigned URL with RPMGATE_S3_REDIRECT=1, `rpmgate store migrate` from
// a file system store with every blob's sha256 checked, dnf installing from a server on S3 with
// gpgcheck and repo_gpgcheck, and 503 (not 500) while Swift is down, recovering by itself.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/log.ts';
import { S3BlobStore } from '../../server/store/s3.ts';
import { parseStoreUrl } from '../../server/store/store-config.ts';
import { runCli } from '../support/cli.ts';
import { createDnfRoot, dnfAvailable } from '../support/dnf-root.ts';
import { fetchPrimaryEntries } from '../support/served-repodata.ts';
import { toolsRequired } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';
import { startSwiftS3, swiftAvailable, type SwiftS3 } from '../support/swift-s3.ts';

if (!swiftAvailable && toolsRequired) throw new Error('the S3 tests need Debian swift, swift-proxy, swift-object, swift-container, swift-account and ../shared/s3');
if (!swiftAvailable) console.warn('SKIPPED: store-s3 tests need OpenStack Swift (apt-get install swift swift-proxy swift-object swift-container swift-account)');
const dnf = await dnfAvailable();

const bucket = 'rpmgate';
let swift: SwiftS3;
let server: TestServer;
let rpms: string[];
const base = () => `${server.url}/repo/level/integ/`;

async function keysUnder(prefix: string): Promise<string[]> {
  const s3 = swift.client();
  try {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((object) => object.Key!);
  } finally {
    s3.destroy();
  }
}

beforeAll(async () => {
  if (!swiftAvailable) return;
  [swift, rpms] = await Promise.all([startSwiftS3(), buildSmallRpms([{ name: 'rg-s3-a' }, { name: 'rg-s3-b', requires: ['rg-s3-a'] }, { name: 'rg-s3-c' }])]);
  await swift.createBucket(bucket);
  server = await startTestServer({ env: swift.env(bucket, 'prod') });
}, 180_000);
afterAll(async () => {
  await server?.close();
  await swift?.close();
});

describe.skipIf(!swiftAvailable)('the S3 backend', () => {
  const store = () => new S3BlobStore(parseStoreUrl(`s3://${bucket}/unit`, swift.env(bucket, 'unit')), path.join(os.tmpdir(), `rpmgate-s3-tmp-${process.pid}`), silentLogger, { multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024 });

  it('stages a large file as a multipart upload, verifies it, and names it by content only then; ranges and local copies match', async () => {
    const blobs = store();
    await blobs.open();
    try {
      const bytes = randomBytes(12 * 1024 * 1024 + 123);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const temp = await blobs.writeTempBytes(bytes);
      await blobs.adopt(temp, sha256);
      expect(await blobs.stat(sha256)).toMatchObject({ size: bytes.length });
      expect(await keysUnder('unit/tmp/')).toEqual([]);
      expect(await keysUnder('unit/blobs/')).toEqual([`unit/blobs/${sha256.slice(0, 2)}/${sha256}`]);
      const chunks: Buffer[] = [];
      for await (const chunk of await blobs.read(sha256, { size: bytes.length, start: 5 * 1024 * 1024 - 10, end: 5 * 1024 * 1024 + 9 })) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(bytes.subarray(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10))).toBe(true);
      const local = await blobs.localCopy(sha256);
      expect(createHash('sha256').update(await readFile(local.path)).digest('hex')).toBe(sha256);
      await local.release();
      // A read that expects another size is refused before any byte.
      await expect(blobs.read(sha256, { size: bytes.length + 1 })).rejects.toMatchObject({ code: 'internal', extra: { reason: 'blob_size_mismatch' } });
    } finally {
      await blobs.close();
    }
  });

  it('aborts a multipart upload that fails: no object, no temporary key, no upload left', async () => {
    // Parts below S3's 5 MiB minimum: the store refuses to complete the upload.
    const blobs = new S3BlobStore(parseStoreUrl(`s3://${bucket}/abort`, swift.env(bucket, 'abort')), path.join(os.tmpdir(), `rpmgate-s3-abort-${process.pid}`), silentLogger, { multipartThreshold: 1024 * 1024, partSize: 1024 * 1024 });
    await blobs.open();
    try {
      const bytes = randomBytes(3 * 1024 * 1024);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await expect(blobs.adopt(await blobs.writeTempBytes(bytes), sha256)).rejects.toMatchObject({ code: 'unavailable' });
      expect(await blobs.stat(sha256)).toBeNull();
      expect(await keysUnder('abort/')).toEqual([]);
      const s3 = swift.client();
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'abort/' }));
      s3.destroy();
      expect(uploads.Uploads ?? []).toEqual([]);
    } finally {
      await blobs.close();
    }
  });
});

describe.skipIf(!swiftAvailable)('a server on S3', () => {
  it('stores uploads in the bucket and serves them with ranges', async () => {
    const developer = await server.clientFor('developer');
    for (const file of rpms) expect((await developer.request('POST', '/api/v1/packages', { body: await readFile(file) })).status).toBe(201);
    const blobs = await keysUnder('prod/blobs/');
    // Each package's upload and its signed served file.
    expect(blobs).toHaveLength(6);
    expect(await keysUnder('prod/tmp/')).toEqual([]);
    const [entry] = await fetchPrimaryEntries(base());
    const whole = Buffer.from(await (await fetch(base() + entry!.location.href!)).arrayBuffer());
    expect(createHash('sha256').update(whole).digest('hex')).toBe(entry!.pkgid);
    const ranged = await fetch(base() + entry!.location.href!, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(whole.subarray(100, 200))).toBe(true);
  });

  it.skipIf(!dnf.ok)('dnf installs from it with gpgcheck and repo_gpgcheck', async () => {
    const root = await createDnfRoot();
    try {
      await root.dnf(['install', 'rg-s3-b'], { repoUrl: base(), setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`] });
      expect((await root.installed()).filter((line) => line.startsWith('rg-s3-'))).toEqual(['rg-s3-a-1.0-1.noarch', 'rg-s3-b-1.0-1.noarch']);
    } finally {
      await root.stopGpgAgents();
      await root.cleanup();
    }
  }, 180_000);

  it('refuses an object deleted behind its back with a 500 problem before any byte', async () => {
    const entry = (await fetchPrimaryEntries(base())).find((found) => found.name === 'rg-s3-c')!;
    const served = Buffer.from(await (await fetch(base() + entry.location.href!)).arrayBuffer());
    const s3 = swift.client();
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `prod/blobs/${entry.pkgid.slice(0, 2)}/${entry.pkgid}` }));
    s3.destroy();
    const response = await fetch(base() + entry.location.href!);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/stored file is missing or damaged.*rpmgate store fsck/);
    const developer = await server.clientFor('developer');
    // The same bytes uploaded again restore it.
    expect((await developer.request('POST', '/api/v1/packages', { body: new Uint8Array(served) })).status).toBe(200);
    expect((await fetch(base() + entry.location.href!)).status).toBe(200);
  });

  it('answers package downloads with a 302 to a presigned URL when RPMGATE_S3_REDIRECT=1', async () => {
    const redirecting = await startTestServer({ env: { ...swift.env(bucket, 'redirect'), RPMGATE_S3_REDIRECT: '1' } });
    try {
      const developer = await redirecting.clientFor('developer');
      await developer.request('POST', '/api/v1/packages', { body: await readFile(rpms[0]!) });
      const repo = `${redirecting.url}/repo/level/integ/`;
      const [entry] = await fetchPrimaryEntries(repo);
      const answer = await fetch(repo + entry!.location.href!, { redirect: 'manual' });
      expect(answer.status).toBe(302);
      const location = answer.headers.get('location')!;
      expect(location.startsWith(`${swift.endpoint}/${bucket}/redirect/blobs/`)).toBe(true);
      expect(location).toMatch(/X-Amz-Signature=/);
      const followed = await fetch(location);
      expect(followed.status).toBe(200);
      expect(createHash('sha256').update(Buffer.from(await followed.arrayBuffer())).digest('hex')).toBe(entry!.pkgid);
    } finally {
      await redirecting.close();
    }
  });
});

describe.skipIf(!swiftAvailable)('rpmgate store migrate', () => {
  it('copies a file system store to S3 while its server runs, verifying each sha256; a second run copies nothing', async () => {
    const local = await startTestServer();
    try {
      const developer = await local.clientFor('developer');
      for (const file of rpms) await developer.request('POST', '/api/v1/packages', { body: await readFile(file) });
      const env = { ...swift.env(bucket, 'ignored'), RPMGATE_STORE_URL: '', RPMGATE_DATA_DIR: local.dataDir };
      const first = await runCli('rpmgate', ['--json', 'store', 'migrate', '--to', `s3://${bucket}/moved`], env);
      expect(first.stderr).toBe('');
      expect(JSON.parse(first.stdout)).toMatchObject({ source: path.join(local.dataDir, 'blobs'), target: `s3://${bucket}/moved`, copied: 6, present: 0 });
      const moved = new S3BlobStore(parseStoreUrl(`s3://${bucket}/moved`, swift.env(bucket, 'moved')), path.join(os.tmpdir(), `rpmgate-s3-moved-${process.pid}`), silentLogger);
      await moved.open();
      try {
        for (const key of await keysUnder('moved/blobs/')) {
          const sha256 = path.basename(key);
          const copy = await moved.localCopy(sha256); // checks the sha256 of the copy
          await copy.release();
        }
      } finally {
        await moved.close();
      }
      const again = await runCli('rpmgate', ['--json', 'store', 'migrate', '--to', `s3://${bucket}/moved`], env);
      expect(JSON.parse(again.stdout)).toMatchObject({ copied: 0, present: 6 });
      // The running server still serves from its own store.
      const [entry] = await fetchPrimaryEntries(`${local.url}/repo/level/integ/`);
      expect((await fetch(`${local.url}/repo/level/integ/${entry!.location.href!}`)).status).toBe(200);
    } finally {
      await local.close();
    }
  }, 120_000);
});

describe.skipIf(!swiftAvailable)('Swift stopped', () => {
  it('uploads and downloads answer 503 with a clear problem, and the service recovers by itself', async () => {
    const developer = await server.clientFor('developer');
    // Uploaded already when the whole file runs (200), or now (201).
    await developer.request('POST', '/api/v1/packages', { body: await readFile(rpms[0]!) });
    const [entry] = await fetchPrimaryEntries(base());
    const [extra] = await buildSmallRpms([{ name: 'rg-s3-during-outage' }]);
    await swift.stop();
    try {
      const started = Date.now();
      const download = await fetch(base() + entry!.location.href!);
      expect(download.status).toBe(503);
      expect(((await download.json()) as { detail: string }).detail).toMatch(new RegExp(`the package store s3://${bucket}/prod is unavailable`));
      // The client turns the 503 problem into its error: code unavailable, the problem's detail.
      const refused = await developer.request('POST', '/api/v1/packages', { body: await readFile(extra!) }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'unavailable', message: expect.stringMatching(new RegExp(`the package store s3://${bucket}/prod is unavailable`)) as unknown });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await server.database.sql`select 1 from packages where name = 'rg-s3-during-outage'`).length).toBe(0);
    } finally {
      await swift.start();
    }
    // Nothing to restart on rpmgate's side: the next requests succeed once Swift answers again.
    const recovered = Date.now();
    let status = 0;
    while (Date.now() - recovered < 30_000) {
      status = (await fetch(base() + entry!.location.href!)).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(status).toBe(200);
    expect((await developer.request('POST', '/api/v1/packages', { body: await readFile(extra!) })).status).toBe(201);
  }, 180_000);
});
