// Repodata cached by content: a repository's files are built once per content generation and reused
// until that content changes; concurrent requests for a generation being built wait for the one build
// (single flight). Metadata files are content-addressed (<checksum>-<type>.xml.gz) and kept on disk
// after their repository moves on, so a host holding an older repomd.xml can still fetch what it names.
// Hot files are answered from a bounded in-memory cache.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from 'postgres';
import type { Logger } from '../log.ts';
import { buildRepodata } from './build.ts';
import type { RepoSelector } from './queries.ts';

export interface RepoRequest {
  /** Stable identity of the repository, e.g. "level/qa_ready" or "set/42/source". */
  id: string;
  selector: RepoSelector;
  /** Changes whenever the content may have changed. */
  generation: string;
  /** Seconds since the epoch: the content's last change, written as timestamp and revision. */
  timestamp: number;
}

export interface RepodataSnapshot {
  repomd: Buffer;
  /** Detached armored signature of repomd; null when the server does not sign. */
  repomdAsc: Buffer | null;
  /** sha256 of repomd: its entity tag. */
  etag: string;
  packageCount: number;
  builtAt: Date;
}

export interface RepodataCacheOptions {
  sql: Sql;
  storeDir: string;
  log: Logger;
  signRepomd: ((repomd: Buffer) => Promise<string>) | null;
  gzipLevel: number;
  /** Bytes of metadata files kept in memory. */
  memoryBudget: number;
  /** Files no current snapshot names are deleted after this long. */
  retentionMs: number;
}

interface Entry {
  generation: string;
  snapshot: Promise<RepodataSnapshot>;
}

const metadataFileName = /^[0-9a-f]{64}-(primary|filelists|other)\.xml\.gz$/;
const gcIntervalMs = 10 * 60 * 1000;

export class RepodataCache {
  private readonly latest = new Map<string, Entry>();
  private readonly hot = new Map<string, Buffer>();
  private hotBytes = 0;
  private lastGc = Date.now();
  /** Builds started since the server began: one per repository generation requested. */
  builds = 0;

  constructor(private readonly options: RepodataCacheOptions) {}

  async open(): Promise<void> {
    await fs.mkdir(this.options.storeDir, { recursive: true });
    // Half-written files of a crashed build.
    for (const name of await fs.readdir(this.options.storeDir)) {
      if (name.startsWith('.tmp-')) await fs.rm(path.join(this.options.storeDir, name), { force: true });
    }
  }

  /** The repository's current snapshot, building it if its generation has not been built yet. */
  snapshot(request: RepoRequest): Promise<RepodataSnapshot> {
    const current = this.latest.get(request.id);
    if (current && current.generation === request.generation) return current.snapshot;
    const snapshot = this.build(request);
    this.latest.set(request.id, { generation: request.generation, snapshot });
    // A failed build must not stick: the next request tries again.
    snapshot.catch(() => {
      if (this.latest.get(request.id)?.snapshot === snapshot) this.latest.delete(request.id);
    });
    return snapshot;
  }

  /** A metadata file by its content-addressed name: bytes from memory, or a path for large files. */
  async readFile(name: string): Promise<{ bytes: Buffer } | { path: string; size: number } | null> {
    if (!metadataFileName.test(name)) return null;
    const cached = this.hot.get(name);
    if (cached) {
      // Re-insert to mark it most recently used.
      this.hot.delete(name);
      this.hot.set(name, cached);
      return { bytes: cached };
    }
    const file = path.join(this.options.storeDir, name);
    const stat = await fs.stat(file).catch(() => null);
    if (!stat) return null;
    if (stat.size > this.options.memoryBudget / 4) return { path: file, size: stat.size };
    const bytes = await fs.readFile(file);
    this.remember(name, bytes);
    return { bytes };
  }

  private async build(request: RepoRequest): Promise<RepodataSnapshot> {
    this.builds++;
    const started = Date.now();
    const built = await buildRepodata(this.options.sql, request.selector, {
      storeDir: this.options.storeDir,
      timestamp: request.timestamp,
      gzipLevel: this.options.gzipLevel,
    });
    const repomdAsc = this.options.signRepomd ? Buffer.from(await this.options.signRepomd(built.repomd), 'utf8') : null;
    this.options.log.info('repodata built', {
      repo: request.id,
      packages: built.packageCount,
      ms: Date.now() - started,
    });
    this.maybeCollectGarbage();
    const etag = createHash('sha256').update(built.repomd).digest('hex');
    return { repomd: built.repomd, repomdAsc, etag, packageCount: built.packageCount, builtAt: new Date() };
  }

  private remember(name: string, bytes: Buffer): void {
    this.hot.set(name, bytes);
    this.hotBytes += bytes.length;
    for (const [oldest, oldBytes] of this.hot) {
      if (this.hotBytes <= this.options.memoryBudget) break;
      this.hot.delete(oldest);
      this.hotBytes -= oldBytes.length;
    }
  }

  private maybeCollectGarbage(): void {
    if (Date.now() - this.lastGc < gcIntervalMs) return;
    this.lastGc = Date.now();
    this.collectGarbage().catch((error) => this.options.log.warn('repodata cleanup failed', { error: String(error) }));
  }

  /** Deletes metadata files older than the retention that no current snapshot names. */
  async collectGarbage(): Promise<number> {
    const named = new Set<string>();
    for (const entry of this.latest.values()) {
      const snapshot = await entry.snapshot.catch(() => null);
      if (!snapshot) continue;
      for (const match of snapshot.repomd.toString('utf8').matchAll(/href="repodata\/([^"]+)"/g)) named.add(match[1]!);
    }
    const cutoff = Date.now() - this.options.retentionMs;
    let removed = 0;
    for (const name of await fs.readdir(this.options.storeDir)) {
      if (!metadataFileName.test(name) || named.has(name)) continue;
      const file = path.join(this.options.storeDir, name);
      const stat = await fs.stat(file).catch(() => null);
      if (stat && stat.mtimeMs < cutoff) {
        await fs.rm(file, { force: true });
        const bytes = this.hot.get(name);
        if (bytes) {
          this.hot.delete(name);
          this.hotBytes -= bytes.length;
        }
        removed++;
      }
    }
    return removed;
  }
}
