// Re-signing after a key change, over an in-memory RotationStore backed by the real BlobStore:
// every package moves to the new key's signature from its original blob, rows that changed
// meanwhile are left alone, failures are reported without stopping the run, a second run has
// nothing to do, an abort stops between packages, and replacements are published in groups.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRpm, readRpmFile } from '../../../common/rpm/reader.ts';
import { Keyring } from '../../../server/signing/keyring.ts';
import { signRpmFile, type SignedFile } from '../../../server/signing/package-signer.ts';
import { resignPackages, rotateSigningKey, type ResignCandidate, type RotationStore } from '../../../server/signing/rotation.ts';
import { FsBlobStore as BlobStore } from '../../../server/store/fs.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

if (!corpusAvailable) console.warn('\n*** test/unit/signing/rotation.test.ts SKIPPED (../shared/corpus not found) ***\n');

const packages = [
  'createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm',
  'createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm',
  'rpm/RPMS/hello-2.0-1.x86_64-signed.rpm',
  'rpm-rs/RPMS/v6/rpm-basic-2.3.4-5.el9.noarch.rpm',
  'pulp-fixtures/rpm/assets/bear-4.1-1.noarch.rpm',
];

interface Row {
  id: string;
  nevra: string;
  originalSha256: string;
  sha256: string;
  signedBy: string | null;
  headerRange: { start: number; end: number };
}

/** A RotationStore as the database layer would implement it, over a Map and a real BlobStore. */
class MemoryStore implements RotationStore {
  readonly rows = new Map<string, Row>();
  /** Rows whose next replaceServedFile is lost to a concurrent change. */
  readonly raceOn = new Set<string>();
  /** Replacements not yet published, and how many each publication made visible. */
  unpublished = 0;
  readonly publications: number[] = [];

  constructor(readonly blobs: BlobStore) {}

  async listPackagesToResign(fingerprint: string, after: string | null, limit: number): Promise<ResignCandidate[]> {
    return [...this.rows.values()]
      .filter((row) => row.signedBy !== fingerprint && (after === null || row.id > after))
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit)
      .map(({ id, nevra, originalSha256, sha256 }) => ({ id, nevra, originalSha256, sha256 }));
  }

  blobPath(sha256: string): string {
    return this.blobs.blobPath(sha256);
  }

  localBlob(sha256: string) {
    return this.blobs.localCopy(sha256);
  }

  tempPath(suffix?: string): string {
    return this.blobs.tempPath(suffix);
  }

  adopt(tempFile: string, sha256: string): Promise<void> {
    return this.blobs.adopt(tempFile, sha256);
  }

  async replaceServedFile(candidate: ResignCandidate, served: SignedFile): Promise<boolean> {
    const row = this.rows.get(candidate.id)!;
    if (this.raceOn.delete(candidate.id) || row.sha256 !== candidate.sha256) return false;
    this.rows.set(candidate.id, { ...row, sha256: served.sha256, signedBy: served.signedBy, headerRange: served.headerRange });
    this.unpublished++;
    return true;
  }

  async publishReplacements(): Promise<void> {
    this.publications.push(this.unpublished);
    this.unpublished = 0;
  }
}

let work: string;
let keyring: Keyring;
let store: MemoryStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'rpmgate-rotation-'));
  keyring = await Keyring.open({ dataDir: path.join(work, 'data'), algorithm: 'ed25519', hostname: 'unit.example' });
  const blobs = new BlobStore(path.join(work, 'store'));
  await blobs.open();
  store = new MemoryStore(blobs);
  if (!corpusAvailable) return;
  for (const [i, relative] of packages.entries()) {
    const bytes = await readFile(corpusPath(relative));
    const originalSha256 = createHash('sha256').update(bytes).digest('hex');
    const original = await blobs.writeTempBytes(bytes);
    await blobs.adopt(original, originalSha256);
    const parsed = parseRpm(bytes);
    const signed = await signRpmFile({ path: blobs.blobPath(originalSha256), sha256: originalSha256, size: bytes.length }, parsed, keyring.current(), {
      outputPath: blobs.tempPath('.rpm'),
    });
    if (signed.path !== blobs.blobPath(originalSha256)) await blobs.adopt(signed.path, signed.sha256);
    const id = String(i).padStart(3, '0');
    store.rows.set(id, { id, nevra: relative, originalSha256, sha256: signed.sha256, signedBy: signed.signedBy, headerRange: signed.headerRange });
  }
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!corpusAvailable)('resignPackages', () => {
  it('moves every package to the new current key, from its original blob', async () => {
    const old = keyring.current().info;
    const next = await keyring.generateKey();
    await keyring.makeCurrent(next.fingerprint);
    const seen: string[] = [];
    const report = await resignPackages(store, keyring, { batchSize: 2, onProgress: (progress) => seen.push(`${progress.candidate.id}:${progress.outcome}`) });
    expect(report).toEqual({ fingerprint: next.fingerprint, resigned: packages.length, changedMeanwhile: 0, failed: [], complete: true });
    expect(seen).toEqual(['000', '001', '002', '003', '004'].map((id) => `${id}:resigned`));
    for (const row of store.rows.values()) {
      expect(row.signedBy).toBe(next.fingerprint);
      const served = await readRpmFile(store.blobPath(row.sha256));
      expect(served.package.headerRange).toEqual(row.headerRange);
      const issuers = served.signatures.map((s) => Buffer.from(s.packet).toString('hex'));
      expect(issuers.every((hex) => hex.includes(next.keyId))).toBe(true);
      expect(issuers.some((hex) => hex.includes(old.keyId))).toBe(false);
    }
    expect(await resignPackages(store, keyring)).toMatchObject({ resigned: 0, failed: [], complete: true });
  });

  it('leaves rows that changed meanwhile, and reports failures without stopping', async () => {
    const next = await keyring.generateKey();
    await keyring.makeCurrent(next.fingerprint);
    store.raceOn.add('001');
    const broken = store.rows.get('003')!;
    await rm(store.blobPath(broken.originalSha256));
    const report = await resignPackages(store, keyring);
    expect(report.resigned).toBe(3);
    expect(report.changedMeanwhile).toBe(1);
    expect(report.failed).toEqual([{ id: '003', nevra: broken.nevra, error: expect.stringMatching(/ENOENT/) as unknown as string }]);
    expect(report.complete).toBe(true);
    expect((await resignPackages(store, keyring)).resigned).toBe(1);
  });

  it('stops between packages when aborted', async () => {
    await keyring.makeCurrent((await keyring.generateKey()).fingerprint);
    const controller = new AbortController();
    const report = await resignPackages(store, keyring, {
      signal: controller.signal,
      publishIntervalMs: 60_000,
      onProgress: (progress) => {
        if (progress.candidate.id === '001') controller.abort();
      },
    });
    expect(report).toMatchObject({ resigned: 2, complete: false });
    // What was re-signed before the abort is published before the run resolves.
    expect(store.publications).toEqual([2]);
    expect(store.unpublished).toBe(0);
  });

  it('publishes replacements in groups, and the rest before it resolves', async () => {
    await keyring.makeCurrent((await keyring.generateKey()).fingerprint);
    const report = await resignPackages(store, keyring, { publishEvery: 2, publishIntervalMs: 60_000 });
    expect(report.resigned).toBe(packages.length);
    expect(store.publications).toEqual([2, 2, 1]);
    expect(store.unpublished).toBe(0);
    // Nothing re-signed, nothing published.
    await resignPackages(store, keyring);
    expect(store.publications).toEqual([2, 2, 1]);
  });

  it('publishes after publishIntervalMs even when a group is not full', async () => {
    await keyring.makeCurrent((await keyring.generateKey()).fingerprint);
    await resignPackages(store, keyring, { publishEvery: 1000, publishIntervalMs: 0 });
    expect(store.publications).toEqual([1, 1, 1, 1, 1]);
  });
});

describe.skipIf(!corpusAvailable)('rotateSigningKey', () => {
  it('generates a key, makes it current, re-signs, and keeps the previous key published', async () => {
    const previous = keyring.current().info;
    const { current, report } = await rotateSigningKey(keyring, store, { key: { algorithm: 'ed25519' } });
    expect(keyring.current().info.fingerprint).toBe(current.fingerprint);
    expect(report.resigned).toBe(packages.length);
    expect(keyring.published().map((key) => [key.fingerprint, key.status])).toEqual([
      [current.fingerprint, 'current'],
      [previous.fingerprint, 'published'],
    ]);
  });
});
