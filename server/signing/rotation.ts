// Key rotation: after another key became current, every stored package is signed again from its
// original upload, so that the served files carry the new key's signature. The work runs over a
// small storage interface (RotationStore) that the database layer implements; this module knows
// nothing of SQL. Safe to stop and run again: packages already signed by the key are not listed.
import fs from 'node:fs/promises';
import { readRpmFile } from '../../common/rpm/reader.ts';
import type { GenerateKeyOptions, KeyInfo, Keyring, SigningKeySource } from './keyring.ts';
import { signRpmFile, type SignedFile } from './package-signer.ts';

/** A stored package whose served file may need a new signature. */
export interface ResignCandidate {
  /** The store's identity for the package (its row id), also the listing cursor. */
  id: string;
  /** For reports. */
  nevra: string;
  /** The original upload's blob, which is what gets signed again. */
  originalSha256: string;
  /** The served blob recorded now; the row is only updated if it still is. */
  sha256: string;
}

export interface RotationStore {
  /**
   * Up to `limit` packages whose served file is not signed by `fingerprint` (signed_by differs or is
   * null), ordered by id, with an id greater than `after` (every package when `after` is null).
   */
  listPackagesToResign(fingerprint: string, after: string | null, limit: number): Promise<ResignCandidate[]>;
  /** A stored blob as a local file (the blob itself on a file system store, a copy from S3). */
  localBlob(sha256: string): Promise<{ path: string; release(): Promise<void> }>;
  /** A fresh temporary path inside the store (so that adopt can rename it). */
  tempPath(suffix?: string): string;
  /** Makes a durable temporary file the blob `sha256` (BlobStore.adopt). */
  adopt(tempFile: string, sha256: string): Promise<void>;
  /**
   * In one transaction: if the package's served sha256 is still `candidate.sha256`, record the new
   * served file (sha256, size, header-range, signed_by) and the replaced one as a previous file,
   * re-render the package's repodata (its checksum, href, size and header-range changed), and return
   * true; otherwise change nothing and return false. The replaced blob is kept and stays served at its
   * own href: a host's cached primary.xml names it. Repositories need not see the change before
   * publishReplacements.
   */
  replaceServedFile(candidate: ResignCandidate, served: SignedFile): Promise<boolean>;
  /**
   * Makes every replacement committed since the last call visible to repositories at once (one
   * repodata generation): each generation is a new repomd.xml for every repository, which must not
   * come once per package.
   */
  publishReplacements(): Promise<void>;
}

export interface RotationProgress {
  candidate: ResignCandidate;
  outcome: 'resigned' | 'changed-meanwhile' | 'failed';
  error?: string;
}

export interface RotationOptions {
  /** Packages listed per query (default 100). */
  batchSize?: number;
  /** Replacements published together (default 100)... */
  publishEvery?: number;
  /** ...or after this long since the last publication, whichever comes first (default 1000 ms). */
  publishIntervalMs?: number;
  /** Stops between packages when aborted; the report says how far it got. */
  signal?: AbortSignal;
  onProgress?: (progress: RotationProgress) => void;
  now?: () => Date;
}

export interface RotationReport {
  /** The key the packages were signed with. */
  fingerprint: string;
  resigned: number;
  /** Rows that changed while they were being signed (left for the next run). */
  changedMeanwhile: number;
  failed: { id: string; nevra: string; error: string }[];
  /** True when every listed package was handled (not aborted). */
  complete: boolean;
}

/**
 * Signs every package not yet signed by the current key, from its original blob. The key is taken
 * once at the start: if it changes during the run, abort and run again. A package that fails (its
 * original blob missing or damaged) is reported and skipped; the others go on. Replacements are
 * published in groups (publishEvery, publishIntervalMs), and whatever is left when the run ends,
 * aborted or not, before it resolves: once it has, repositories show every package it re-signed.
 */
export async function resignPackages(store: RotationStore, keys: SigningKeySource, options: RotationOptions = {}): Promise<RotationReport> {
  const key = keys.current();
  const fingerprint = key.info.fingerprint;
  const batchSize = options.batchSize ?? 100;
  const publishEvery = options.publishEvery ?? 100;
  const publishIntervalMs = options.publishIntervalMs ?? 1000;
  const report: RotationReport = { fingerprint, resigned: 0, changedMeanwhile: 0, failed: [], complete: false };
  let unpublished = 0;
  let publishedAt = Date.now();
  const publish = async () => {
    unpublished = 0;
    publishedAt = Date.now();
    await store.publishReplacements();
  };
  let after: string | null = null;
  try {
    for (;;) {
      const batch = await store.listPackagesToResign(fingerprint, after, batchSize);
      if (batch.length === 0) break;
      for (const candidate of batch) {
        if (options.signal?.aborted) return report;
        after = candidate.id;
        const progress = await resignOne(store, candidate, key, options);
        if (progress.outcome === 'resigned') report.resigned++;
        else if (progress.outcome === 'changed-meanwhile') report.changedMeanwhile++;
        else report.failed.push({ id: candidate.id, nevra: candidate.nevra, error: progress.error ?? 'unknown error' });
        if (progress.outcome === 'resigned') unpublished++;
        if (unpublished >= publishEvery || (unpublished > 0 && Date.now() - publishedAt >= publishIntervalMs)) await publish();
        options.onProgress?.(progress);
      }
      if (batch.length < batchSize) break;
    }
    report.complete = true;
    return report;
  } finally {
    if (unpublished > 0) await publish();
  }
}

/**
 * A whole rotation's first half: a new key is generated and made current (the previous one stays
 * published, so hosts keep trusting what they installed), then every package is signed again.
 * Retire the previous key with keyring.retire() once hosts have the new key (the overlap).
 */
export async function rotateSigningKey(
  keyring: Keyring,
  store: RotationStore,
  options: RotationOptions & { key?: GenerateKeyOptions } = {},
): Promise<{ previous: KeyInfo; current: KeyInfo; report: RotationReport }> {
  const previous = keyring.current().info;
  const generated = await keyring.generateKey(options.key);
  const current = await keyring.makeCurrent(generated.fingerprint);
  const report = await resignPackages(store, keyring, options);
  return { previous, current, report };
}

async function resignOne(store: RotationStore, candidate: ResignCandidate, key: ReturnType<SigningKeySource['current']>, options: RotationOptions): Promise<RotationProgress> {
  const output = store.tempPath('.rpm');
  let local: { path: string; release(): Promise<void> } | null = null;
  try {
    local = await store.localBlob(candidate.originalSha256);
    const original = local.path;
    const parsed = await readRpmFile(original);
    const { size } = await fs.stat(original);
    const signed = await signRpmFile({ path: original, sha256: candidate.originalSha256, size }, parsed, key, { outputPath: output, now: options.now });
    // An original that already carries this key's signature is served as it is.
    if (signed.path !== original) await store.adopt(signed.path, signed.sha256);
    const updated = await store.replaceServedFile(candidate, signed);
    return { candidate, outcome: updated ? 'resigned' : 'changed-meanwhile' };
  } catch (error) {
    return { candidate, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
  } finally {
    await local?.release();
    await fs.rm(output, { force: true });
  }
}
