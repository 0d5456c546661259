// Repodata cached by content: a repository's files are built once per content generation and reused
// until that content changes; concurrent requests for a generation being built wait for the one build
// (single flight). Metadata files are content-addressed (<checksum>-<type>.xml.gz) and kept on disk
// after their repository moves on, so a host holding an older repomd.xml can still fetch what it names.
// Hot files are answered from a bounded in-memory cache.
//
// Below the generations, content: a build first plans the repository (its members' fragment digests,
// cut into chunks; see build.ts). A plan built before, by this repository or by any other holding
// exactly the same packages, is answered from an index of finished documents without reading a file;
// otherwise only the chunks missing from the chunk store are fetched and compressed. A generation bump
// that did not change what a repository holds (a promotion elsewhere) costs one query.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from 'postgres';
import type { Logger } from '../log.ts';
import { applyMemberChanges, buildRepodata, planRepodata, RepodataChangedError, renderRepodataIndex, type DocumentRecord, type RepodataPlan } from './build.ts';
import { ChunkStore } from './chunk-store.ts';
import { OpenHasher } from './open-hasher.ts';
import { listMemberChanges, listRepoMembers, pruneMemberChanges, type RepoMembers, type RepoSelector } from './queries.ts';

export interface RepoRequest {
  /** Stable identity of the repository, e.g. "level/qa_ready" or "set/42/source". */
  id: string;
  /** Its URL path under /repo/ ("set/billing/4.2.0/source"), how people name it in the log; default the id. */
  path?: string;
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
  /** The entity tags as sent (quoted), of repomd.xml and of repomd.xml.asc: made once, not per request. */
  quotedEtag: string;
  ascEtag: string;
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
  /** The snapshot once built: what a warm request is answered from without waiting. */
  ready: RepodataSnapshot | null;
  /** The chunks of the snapshot's documents, kept from garbage collection while it is current. */
  chunkKeys: readonly string[];
  /** The member list the snapshot was planned from, brought up to date by the next build. */
  members: TimedMembers | null;
  /** The plan of the snapshot: the next build cuts the texts of the packages it keeps from its chunks. */
  plan: RepodataPlan | null;
}

interface TimedMembers {
  list: RepoMembers;
  /** When its snapshot was taken (Date.now()). */
  at: number;
  /** How it was obtained this time: brought up to date, or read whole. */
  source: 'changes' | 'read';
}

const metadataFileName = /^[0-9a-f]{64}-(primary|filelists|other)\.xml\.gz$/;
const indexFileName = /^[0-9a-f]{64}\.json$/;
const gcIntervalMs = 10 * 60 * 1000;
/** A build whose packages' fragments keep changing under it plans again, this many times in all. */
const buildAttempts = 3;
/** A member list this old is read again whole rather than brought up to date (changes are kept a day). */
const memberListMaxAgeMs = 60 * 60 * 1000;

/** What the metrics learn from the cache: each lookup (hit: the generation was built already) and build. */
export interface RepodataObserver {
  lookup(kind: RepoSelector['kind'], hit: boolean): void;
  built(kind: RepoSelector['kind'], seconds: number): void;
}

export class RepodataCache {
  private readonly latest = new Map<string, Entry>();
  private readonly hot = new Map<string, Buffer>();
  private hotBytes = 0;
  /** Metadata files being read into memory, by name. */
  private readonly reading = new Map<string, Promise<Buffer>>();
  private lastGc = Date.now();
  private readonly chunks: ChunkStore;
  private readonly hasher = new OpenHasher();
  /** Finished documents by plan key; also on disk under index/, for the next process. */
  private readonly documents = new Map<string, DocumentRecord[]>();
  private readonly indexDir: string;
  /** Builds started since the server began: one per repository generation requested. */
  builds = 0;
  /** Told of every answer from the cache and every build (the metrics, server/ops/metrics.ts). */
  observer: RepodataObserver | null = null;

  constructor(private readonly options: RepodataCacheOptions) {
    this.chunks = new ChunkStore(path.join(options.storeDir, 'chunks'));
    this.indexDir = path.join(options.storeDir, 'index');
  }

  /** `clearTemporaryFiles`: false in an HTTP worker, whose siblings may be writing theirs. */
  async open(options: { clearTemporaryFiles?: boolean } = {}): Promise<void> {
    await fs.mkdir(this.indexDir, { recursive: true });
    await this.chunks.open(options);
    if (options.clearTemporaryFiles === false) return;
    // Half-written files of a crashed build.
    for (const dir of [this.options.storeDir, this.indexDir]) {
      for (const name of await fs.readdir(dir)) {
        if (name.startsWith('.tmp-')) await fs.rm(path.join(dir, name), { force: true });
      }
    }
  }

  /** The repository's current snapshot, building it if its generation has not been built yet. */
  snapshot(request: RepoRequest): Promise<RepodataSnapshot> {
    const current = this.latest.get(request.id);
    if (current && current.generation === request.generation) {
      this.observer?.lookup(request.selector.kind, true);
      return current.snapshot;
    }
    this.observer?.lookup(request.selector.kind, false);
    // Until the new build has planned, the chunks of the previous snapshot stay protected.
    const entry: Entry = {
      generation: request.generation,
      snapshot: Promise.resolve(null as never),
      ready: null,
      chunkKeys: current?.chunkKeys ?? [],
      members: current?.members ?? null,
      plan: current?.plan ?? null,
    };
    const snapshot = this.build(request, entry);
    entry.snapshot = snapshot;
    this.latest.set(request.id, entry);
    snapshot.then(
      (built) => {
        entry.ready = built;
      },
      () => undefined,
    );
    // A failed build must not stick: the next request tries again.
    snapshot.catch(() => {
      if (this.latest.get(request.id)?.snapshot === snapshot) this.latest.delete(request.id);
    });
    return snapshot;
  }

  /** The repository's current snapshot if it is built already, without waiting; else null. */
  readySnapshot(request: RepoRequest): RepodataSnapshot | null {
    const current = this.latest.get(request.id);
    const ready = current && current.generation === request.generation ? current.ready : null;
    if (ready) this.observer?.lookup(request.selector.kind, true);
    return ready;
  }

  /** A metadata file by its content-addressed name: bytes from memory, or a path for large files. */
  /** A metadata file held in memory, or null; for the warm path (http/repomd-fast-path.ts). */
  hotFile(name: string): Buffer | null {
    return this.hot.get(name) ?? null;
  }

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
    // Many requests for a file memory does not hold come at once (every connection of a fleet after a
    // promotion): one read, which all of them wait for, is remembered once.
    let reading = this.reading.get(name);
    if (!reading) {
      reading = fs.readFile(file).then((bytes) => {
        this.remember(name, bytes);
        return bytes;
      });
      const settled = () => this.reading.delete(name);
      reading.then(settled, settled);
      this.reading.set(name, reading);
    }
    return { bytes: await reading };
  }

  private async build(request: RepoRequest, entry: Entry): Promise<RepodataSnapshot> {
    this.builds++;
    const started = Date.now();
    let plan: RepodataPlan;
    let records: DocumentRecord[] | null;
    let chunksBuilt = 0;
    let planned = started;
    for (let attempt = 1; ; attempt++) {
      entry.members = await this.members(request.selector, attempt === 1 ? entry.members : null);
      plan = planRepodata(entry.members.list, this.options.gzipLevel);
      planned = Date.now();
      entry.chunkKeys = plan.chunks.map((chunk) => chunk.key);
      records = await this.findDocuments(plan);
      if (records) break;
      try {
        const built = await buildRepodata(this.options.sql, plan, {
          storeDir: this.options.storeDir,
          chunks: this.chunks,
          hasher: this.hasher,
          previous: entry.plan,
        });
        records = built.records;
        chunksBuilt = built.chunksBuilt;
      } catch (error) {
        if (error instanceof RepodataChangedError && attempt < buildAttempts) continue;
        throw error;
      }
      await this.rememberDocuments(plan.key, records);
      break;
    }
    // Only level repositories change what they hold from one generation to the next; a set's members
    // are sealed, and the ≈ 9 MB a list of 100,000 members takes would buy nothing there.
    const members = entry.members!.source;
    if (request.selector.kind === 'level') entry.plan = plan;
    else entry.members = null;
    const repomd = renderRepodataIndex(records, request.timestamp);
    const repomdAsc = this.options.signRepomd ? Buffer.from(await this.options.signRepomd(repomd), 'utf8') : null;
    this.observer?.built(request.selector.kind, (Date.now() - started) / 1000);
    this.options.log.info('repodata built', {
      repo: request.path ?? request.id,
      packages: plan.packageCount,
      members,
      chunks: plan.chunks.length,
      chunksBuilt,
      planMs: planned - started,
      ms: Date.now() - started,
    });
    this.maybeCollectGarbage();
    const etag = createHash('sha256').update(repomd).digest('hex');
    return { repomd, repomdAsc, etag, quotedEtag: `"${etag}"`, ascEtag: `"${etag}.asc"`, packageCount: plan.packageCount, builtAt: new Date() };
  }

  /**
   * The repository's members now: the previous list brought up to date with what changed since its
   * snapshot (a promotion touches a few rows of 100,000), or the whole list read again.
   */
  private async members(selector: RepoSelector, previous: TimedMembers | null): Promise<TimedMembers> {
    const at = Date.now();
    if (previous && at - previous.at < memberListMaxAgeMs) {
      const { snapshot, changes } = await listMemberChanges(this.options.sql, selector, previous.list.snapshot);
      const list = applyMemberChanges(previous.list, changes, snapshot);
      if (list) return { list, at, source: 'changes' };
    }
    return { list: await listRepoMembers(this.options.sql, selector), at, source: 'read' };
  }

  /** The documents of a plan built before, if their files are all still there. */
  private async findDocuments(plan: RepodataPlan): Promise<DocumentRecord[] | null> {
    const indexFile = path.join(this.indexDir, `${plan.key}.json`);
    let records = this.documents.get(plan.key) ?? null;
    if (!records) {
      const text = await fs.readFile(indexFile, 'utf8').catch(() => null);
      records = text === null ? null : (JSON.parse(text) as DocumentRecord[]);
    }
    if (!records) return null;
    // Touched: files a current repomd.xml names start a new retention period.
    const now = new Date();
    for (const file of [indexFile, ...records.map((record) => path.join(this.options.storeDir, path.basename(record.href)))]) {
      const present = await fs.utimes(file, now, now).then(
        () => true,
        () => false,
      );
      if (!present) {
        this.documents.delete(plan.key);
        return null;
      }
    }
    this.documents.set(plan.key, records);
    return records;
  }

  private async rememberDocuments(planKey: string, records: DocumentRecord[]): Promise<void> {
    this.documents.set(planKey, records);
    const file = path.join(this.indexDir, `${planKey}.json`);
    // Repositories holding the same packages (two empty levels, a set and the level it reached) may
    // finish one plan at once: each writes a file of its own, and one rename replaces the other's
    // identical file. (A shared temporary name made the second rename fail: a 500 for its request.)
    const temp = path.join(this.indexDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}-${planKey}`);
    await fs.writeFile(temp, JSON.stringify(records));
    await fs.rename(temp, file);
  }

  private remember(name: string, bytes: Buffer): void {
    // Counted once: a file remembered again replaces what was counted for it.
    const earlier = this.hot.get(name);
    if (earlier) {
      this.hot.delete(name);
      this.hotBytes -= earlier.length;
    }
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
    this.collectGarbage().catch((error) => this.options.log.warn('repodata cleanup failed', { err: error }));
  }

  /** Deletes metadata files, chunks and index entries older than the retention that no current snapshot uses. */
  async collectGarbage(): Promise<number> {
    const named = new Set<string>();
    const chunkKeys = new Set<string>();
    for (const entry of this.latest.values()) {
      for (const key of entry.chunkKeys) chunkKeys.add(key);
      const snapshot = await entry.snapshot.catch(() => null);
      if (!snapshot) continue;
      for (const match of snapshot.repomd.toString('utf8').matchAll(/href="repodata\/([^"]+)"/g)) named.add(match[1]!);
    }
    const cutoff = Date.now() - this.options.retentionMs;
    await pruneMemberChanges(this.options.sql);
    let removed = await this.chunks.collectGarbage(chunkKeys, cutoff);
    for (const name of await fs.readdir(this.indexDir)) {
      if (!indexFileName.test(name)) continue;
      const file = path.join(this.indexDir, name);
      const stat = await fs.stat(file).catch(() => null);
      if (stat && stat.mtimeMs < cutoff) {
        await fs.rm(file, { force: true });
        this.documents.delete(name.slice(0, 64));
        removed++;
      }
    }
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
