// Builds one repository's repodata. The per-package fragments were rendered once at upload; here a
// repository's members (in name order) are cut into chunks at points chosen by the packages themselves
// (a fragment digest starting with a zero byte), so that two repositories holding the same run of
// packages, or two generations of one repository, share chunks. A chunk missing from the chunk store is
// compressed once (on the libuv thread pool, a few at a time, ahead of the writers) from texts cut out
// of the repository's previous chunks, fetching from PostgreSQL only the packages those lack. Each
// document is then stitched as one gzip member: a compressed head, the chunks' deflate pieces, a
// compressed tail; the main thread hashes the compressed bytes as it writes them, worker threads hash
// the chunks' stored texts for the open-checksum. The repomd records are filled in after the files are
// closed, as createrepo_c does. Memory stays bounded: a few chunks at a time, never a whole document.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Sql } from 'postgres';
import { documentHead, documentTail, repodataKinds, type RepodataKind } from '../../common/repodata/document.ts';
import { renderRepomd, repodataHref, type RepomdRecord } from '../../common/repodata/repomd.ts';
import type { ChunkPieces, ChunkStore, FileRange, NewChunk } from './chunk-store.ts';
import { crc32Combine, deflatePiece, deflatePieceSync, GZIP_HEADER, gzipTrailer } from './gzip-stitch.ts';
import type { OpenHasher, OpenHashJob } from './open-hasher.ts';
import { digestLength, fetchFragments, type FragmentRun, type MemberChange, type RepoMembers } from './queries.ts';

/** What a repository's documents are made of. Equal plan keys mean byte-identical documents. */
export interface RepodataPlan {
  key: string;
  packageCount: number;
  gzipLevel: number;
  chunks: PlannedChunk[];
}

export interface PlannedChunk {
  key: string;
  ids: number[];
  /** The packages' fragment digests, packed (32 bytes each). */
  digests: Buffer;
}

/** A finished metadata file, as repomd.xml describes it (without the timestamp, which is the request's). */
export type DocumentRecord = Omit<RepomdRecord, 'timestamp'> & { type: RepodataKind; checksum: string; openChecksum: string; openSize: number };

export interface BuildOptions {
  /** Where finished metadata files are kept, named by their checksum. */
  storeDir: string;
  chunks: ChunkStore;
  /** The repository's previous plan: its chunks hold the texts of the packages it keeps. */
  previous: RepodataPlan | null;
  /** Computes the open-checksums off the main thread. */
  hasher: OpenHasher;
}

/** A fragment digest starting with a zero byte ends a chunk: 256 packages on average. */
const boundaryByte = 0;
/** A run of 1,024 packages without such a digest is cut anyway, to bound a chunk's size. */
const maxChunkPackages = 1024;
/** Stored chunks read ahead of the one being written. */
const readAhead = 4;

/** Missing chunks compressed at a time (fetch on the pool's connections, deflate on the libuv thread pool). */
const builders = 3;
/** How far compressed chunks may run ahead of the writers, in bytes of deflate pieces. */
const maxAheadBytes = 4 * 1024 * 1024;
const planVersion = 'rpmgate-repodata/1';

/** Thrown when a package's fragments changed between planning and fetching; the build plans again. */
export class RepodataChangedError extends Error {}

/** Cuts a repository's members into chunks and names everything by content. */
export function planRepodata(members: RepoMembers, gzipLevel: number): RepodataPlan {
  const { ids, digests } = members;
  const chunks: PlannedChunk[] = [];
  let start = 0;
  for (let i = 0; i < ids.length; i++) {
    if (digests[i * digestLength] === boundaryByte || i + 1 - start === maxChunkPackages || i === ids.length - 1) {
      const chunkDigests = digests.subarray(start * digestLength, (i + 1) * digestLength);
      const key = createHash('sha256').update(`${planVersion} chunk level=${gzipLevel}\n`).update(chunkDigests).digest('hex');
      chunks.push({ key, ids: ids.slice(start, i + 1), digests: chunkDigests });
      start = i + 1;
    }
  }
  const key = sha256(`${planVersion} level=${gzipLevel} packages=${ids.length}\n${chunks.map((chunk) => chunk.key).join('\n')}`);
  return { key, packageCount: ids.length, gzipLevel, chunks };
}

export interface BuiltRepodata {
  records: DocumentRecord[];
  /** Chunks that were missing from the store and were compressed for this build. */
  chunksBuilt: number;
}

/**
 * A member list brought up to date: changed packages leave it, and those the repository holds now
 * join it at their place in the order (name in the C collation, then id). Null when so much changed
 * that reading the list again costs less.
 */
export function applyMemberChanges(previous: RepoMembers, changes: readonly MemberChange[], snapshot: string): RepoMembers | null {
  if (changes.length > Math.max(1000, previous.ids.length / 10)) return null;
  const changed = new Set(changes.map((change) => change.id));
  const joining = changes
    .filter((change) => change.member)
    .map((change) => ({ id: change.id, name: change.name!, digest: change.digest!, at: insertionPoint(previous, change.name!, change.id) }))
    .sort((a, b) => a.at - b.at || compareMembers(a.name, a.id, b.name, b.id));
  const ids: number[] = [];
  const names: string[] = [];
  const kept = previous.ids.length - previous.ids.filter((id) => changed.has(id)).length;
  const digests = Buffer.allocUnsafe((kept + joining.length) * digestLength);
  const push = (id: number, name: string, digest: Buffer) => {
    digest.copy(digests, ids.length * digestLength);
    ids.push(id);
    names.push(name);
  };
  let j = 0;
  for (let i = 0; i <= previous.ids.length; i++) {
    while (j < joining.length && joining[j]!.at === i) push(joining[j]!.id, joining[j]!.name, joining[j++]!.digest);
    if (i === previous.ids.length) break;
    if (changed.has(previous.ids[i]!)) continue;
    push(previous.ids[i]!, previous.names[i]!, previous.digests.subarray(i * digestLength, (i + 1) * digestLength));
  }
  return { ids, names, digests, snapshot };
}

/** Where a package goes among the members: the index of the first member that sorts after it. */
function insertionPoint(members: RepoMembers, name: string, id: number): number {
  let low = 0;
  let high = members.ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareMembers(members.names[middle]!, members.ids[middle]!, name, id) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

const ascii = /^[\x00-\x7f]*$/;

/** PostgreSQL's `order by name collate "C", id`: UTF-8 byte order (JavaScript's differs beyond the BMP). */
function compareMembers(nameA: string, idA: number, nameB: string, idB: number): number {
  if (nameA !== nameB) {
    if (ascii.test(nameA) && ascii.test(nameB)) return nameA < nameB ? -1 : 1;
    return Buffer.compare(Buffer.from(nameA, 'utf8'), Buffer.from(nameB, 'utf8'));
  }
  return idA - idB;
}

/** Writes the plan's three documents into the store and returns their records. */
export async function buildRepodata(sql: Sql, plan: RepodataPlan, options: BuildOptions): Promise<BuiltRepodata> {
  const { chunks } = options;
  const present = await Promise.all(plan.chunks.map((chunk) => chunks.has(chunk.key)));
  const builder = new ChunkBuilder(sql, plan, chunks, present, options.previous);
  const reads = new Map<number, Promise<ChunkPieces>>();
  const read = (index: number) => {
    if (index >= plan.chunks.length || reads.has(index)) return;
    const stored = present[index] ? Promise.resolve() : builder.take(index);
    const promise = stored.then(() => chunks.readPieces(plan.chunks[index]!.key));
    promise.catch(() => {});
    reads.set(index, promise);
  };
  const writers = repodataKinds.map((kind) => new DocumentWriter(kind, options.storeDir, plan.gzipLevel, options.hasher.job()));
  try {
    for (const writer of writers) await writer.open(documentHead(writer.kind, plan.packageCount));
    for (let i = 0; i < plan.chunks.length; i++) {
      for (let ahead = i; ahead <= i + readAhead; ahead++) read(ahead);
      const pieces = await reads.get(i)!;
      reads.delete(i);
      const key = plan.chunks[i]!.key;
      for (const writer of writers) {
        await writer.addChunk(pieces.deflated[writer.kind], pieces.meta.parts[writer.kind].crc, chunks.textRange(key, writer.kind));
      }
    }
    const records = await Promise.all(writers.map((writer) => writer.finish(documentTail(writer.kind))));
    return { records, chunksBuilt: present.filter((found) => !found).length };
  } catch (error) {
    builder.stop();
    await Promise.all(writers.map((writer) => writer.abort()));
    throw error;
  }
}

/**
 * Compresses a plan's missing chunks from the start, several at a time and in order, ahead of the
 * writers: after a promotion the few chunks around the promoted packages are built at once instead of
 * one by one as the writers reach them. Ahead of the writers by at most maxAheadBytes of pieces.
 */
class ChunkBuilder {
  private readonly built = new Map<number, Promise<ChunkPieces>>();
  private readonly missing: number[];
  private next = 0;
  private aheadBytes = 0;
  private consumed = 0;
  private stopped = false;
  private wake: (() => void)[] = [];
  private readonly reuse: ReuseIndex | null;

  constructor(
    private readonly sql: Sql,
    private readonly plan: RepodataPlan,
    private readonly chunks: ChunkStore,
    present: readonly boolean[],
    previous: RepodataPlan | null,
  ) {
    this.missing = plan.chunks.flatMap((_, index) => (present[index] ? [] : [index]));
    this.reuse = previous && this.missing.length > 0 ? reuseIndex(previous) : null;
    for (let i = 0; i < Math.min(builders, this.missing.length); i++) void this.run();
  }

  /** The pieces of missing chunk `index`, once built; the writers take chunks in order. */
  async take(index: number): Promise<ChunkPieces> {
    while (!this.built.has(index)) await this.sleep();
    const pieces = await this.built.get(index)!;
    this.built.delete(index);
    this.aheadBytes -= piecesLength(pieces);
    this.consumed = index + 1;
    this.notify();
    return pieces;
  }

  stop(): void {
    this.stopped = true;
    this.notify();
  }

  private async run(): Promise<void> {
    while (this.next < this.missing.length && !this.stopped) {
      const index = this.missing[this.next++]!;
      while (this.aheadBytes > maxAheadBytes && index > this.consumed && !this.stopped) await this.sleep();
      if (this.stopped) return;
      const chunk = this.plan.chunks[index]!;
      const promise = this.chunks.build(chunk.key, () => compressChunk(this.sql, this.chunks, chunk, this.plan.gzipLevel, this.reuse));
      this.built.set(index, promise);
      this.notify();
      try {
        this.aheadBytes += piecesLength(await promise);
      } catch {
        // The writers see the failure when they take this chunk.
      }
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => this.wake.push(resolve));
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}

function piecesLength(pieces: ChunkPieces): number {
  return repodataKinds.reduce((sum, kind) => sum + pieces.deflated[kind].length, 0);
}

/** repomd.xml for finished documents, with the repository's timestamp as each record's and as the revision. */
export function renderRepodataIndex(records: readonly DocumentRecord[], timestamp: number): Buffer {
  return Buffer.from(renderRepomd({ revision: timestamp, records: records.map((record) => ({ ...record, timestamp })) }), 'utf8');
}

/** Where a package's texts already are: a chunk of the repository's previous plan, and its place there. */
type ReuseIndex = Map<string, { key: string; position: number }>;

/** Keys of a reuse index: a digest as a 32-character latin1 string (cheaper than hex for 100,000 of them). */
function digestKey(digests: Buffer, index: number): string {
  return digests.toString('latin1', index * digestLength, (index + 1) * digestLength);
}

function reuseIndex(previous: RepodataPlan): ReuseIndex {
  const index: ReuseIndex = new Map();
  for (const chunk of previous.chunks) {
    for (let position = 0; position < chunk.ids.length; position++) index.set(digestKey(chunk.digests, position), { key: chunk.key, position });
  }
  return index;
}

/**
 * A chunk's three texts, then their compression (in parallel, on the thread pool). Packages the
 * repository held before are cut out of the previous plan's chunks on disk; only the others (a
 * promotion's few packages, or everything on a first build) are fetched from PostgreSQL.
 */
async function compressChunk(sql: Sql, chunks: ChunkStore, chunk: PlannedChunk, level: number, reuse: ReuseIndex | null): Promise<NewChunk> {
  const count = chunk.ids.length;
  const parts = { primary: new Array<Buffer>(count), filelists: new Array<Buffer>(count), other: new Array<Buffer>(count) };
  const wanted = new Map<string, { position: number; old: number }[]>();
  const unknown: number[] = [];
  for (let position = 0; position < count; position++) {
    const found = reuse?.get(digestKey(chunk.digests, position));
    if (!found) unknown.push(position);
    else if (wanted.has(found.key)) wanted.get(found.key)!.push({ position, old: found.position });
    else wanted.set(found.key, [{ position, old: found.position }]);
  }
  for (const [key, places] of wanted) {
    const stored = await chunks.readTexts(key);
    if (!stored) {
      unknown.push(...places.map((place) => place.position));
      continue;
    }
    for (const kind of repodataKinds) {
      const starts = [0];
      for (const length of stored.meta.lengths[kind]) starts.push(starts.at(-1)! + length);
      for (const { position, old } of places) parts[kind][position] = stored.text[kind].subarray(starts[old]!, starts[old + 1]!);
    }
  }
  let fetched: FragmentRun | null = null;
  if (unknown.length > 0) {
    unknown.sort((a, b) => a - b);
    fetched = await fetchFragments(sql, unknown.map((position) => chunk.ids[position]!));
    const planned = (position: number) => chunk.digests.toString('hex', position * digestLength, (position + 1) * digestLength);
    if (fetched.digests.length !== unknown.length || fetched.digests.some((digest, i) => digest !== planned(unknown[i]!))) {
      throw new RepodataChangedError('package fragments changed while the repodata was being built');
    }
  }
  // A first build fetches every package of the chunk: PostgreSQL's concatenation is the text as is.
  if (fetched && unknown.length === count) return compressTexts(count, fetched.text, fetched.lengths, level);
  if (fetched) {
    for (const kind of repodataKinds) {
      let offset = 0;
      unknown.forEach((position, i) => {
        const length = fetched.lengths[kind][i]!;
        parts[kind][position] = fetched.text[kind].subarray(offset, (offset += length));
      });
    }
  }
  const text = { primary: Buffer.concat(parts.primary), filelists: Buffer.concat(parts.filelists), other: Buffer.concat(parts.other) };
  const lengths = {
    primary: parts.primary.map((part) => part.length),
    filelists: parts.filelists.map((part) => part.length),
    other: parts.other.map((part) => part.length),
  };
  return compressTexts(count, text, lengths, level);
}

async function compressTexts(count: number, text: Record<RepodataKind, Buffer>, lengths: Record<RepodataKind, number[]>, level: number): Promise<NewChunk> {
  const [primary, filelists, other] = await Promise.all(repodataKinds.map((kind) => deflatePiece(text[kind], level)));
  return { packages: count, pieces: { primary: primary!, filelists: filelists!, other: other! }, text, lengths };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * One gzip file stitched from pieces: hashes the bytes it writes, and has the open-checksum computed
 * from the same pieces' texts by a hash job (the chunks' texts are read from their files there).
 */
class DocumentWriter {
  private readonly hash: Hash = createHash('sha256');
  private openSize = 0;
  private size = 0;
  private crc = 0;
  /** Writes queue up in the stream: the writer waits only when ≈ 4 MB are pending, not per chunk. */
  private file: WriteStream | null = null;
  private closed: Promise<unknown> | null = null;
  private readonly tempPath: string;

  constructor(
    readonly kind: RepodataKind,
    private readonly storeDir: string,
    private readonly level: number,
    private readonly openHash: OpenHashJob,
  ) {
    this.tempPath = path.join(storeDir, `.tmp-${kind}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  async open(head: string): Promise<void> {
    this.file = createWriteStream(this.tempPath, { highWaterMark: 4 * 1024 * 1024 });
    this.closed = once(this.file, 'close');
    // Failures surface at finish(); keep them from being unhandled meanwhile.
    this.closed.catch(() => {});
    await this.write(GZIP_HEADER);
    await this.addText(head, false);
  }

  /** A chunk's piece, and where its text is for the open-checksum. */
  async addChunk(deflated: Buffer, crc: number, text: FileRange): Promise<void> {
    await this.write(deflated);
    this.openHash.addFileRange(text);
    this.openSize += text.length;
    this.crc = crc32Combine(this.crc, crc, text.length);
  }

  async finish(tail: string): Promise<DocumentRecord> {
    await this.addText(tail, true);
    await this.write(gzipTrailer(this.crc, this.openSize));
    this.file!.end();
    await this.closed;
    this.file = null;
    const open = await this.openHash.finish();
    if (open.length !== this.openSize) throw new Error(`${this.kind}: hashed ${open.length} bytes of ${this.openSize}`);
    const checksum = this.hash.digest('hex');
    const href = repodataHref(checksum, this.kind);
    await fs.rename(this.tempPath, path.join(this.storeDir, path.basename(href)));
    return { type: this.kind, checksum, openChecksum: open.digest, size: this.size, openSize: this.openSize, href };
  }

  async abort(): Promise<void> {
    this.openHash.abort();
    if (this.file) {
      this.file.destroy();
      await this.closed?.catch(() => {});
      this.file = null;
    }
    await fs.rm(this.tempPath, { force: true });
  }

  /** The head or the tail: compressed here, being a few hundred bytes. */
  private async addText(value: string, last: boolean): Promise<void> {
    const text = Buffer.from(value, 'utf8');
    const piece = deflatePieceSync(text, this.level, last);
    await this.write(piece.deflated);
    this.openHash.addBytes(text);
    this.openSize += text.length;
    this.crc = crc32Combine(this.crc, piece.crc, text.length);
  }

  private async write(bytes: Buffer): Promise<void> {
    this.hash.update(bytes);
    this.size += bytes.length;
    if (!this.file!.write(bytes)) await Promise.race([once(this.file!, 'drain'), this.closed]);
  }
}
