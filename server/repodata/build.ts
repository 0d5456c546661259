// Builds one repository's repodata from PostgreSQL. The per-package fragments were rendered once at
// upload; here a repository's members (in name order) are cut into chunks at points chosen by the
// packages themselves (a fragment digest starting with a zero byte), so that two repositories holding
// the same run of packages, or two generations of one repository, share chunks. Chunks missing from
// the chunk store are fetched and compressed (on the libuv thread pool, several at a time); every
// document is then stitched as one gzip member from a compressed head, the chunks' deflate pieces and
// a compressed tail, hashing the compressed and the uncompressed bytes as it goes. The repomd records
// are filled in after the files are closed, as createrepo_c does. Memory stays bounded: a few chunks
// at a time, never a whole document.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from 'postgres';
import { documentHead, documentTail, repodataKinds, type RepodataKind } from '../../common/repodata/document.ts';
import { renderRepomd, repodataHref, type RepomdRecord } from '../../common/repodata/repomd.ts';
import type { ChunkPieces, ChunkStore, FileRange, NewChunk } from './chunk-store.ts';
import { crc32Combine, deflatePiece, deflatePieceSync, GZIP_HEADER, gzipTrailer } from './gzip-stitch.ts';
import type { OpenHasher, OpenHashJob } from './open-hasher.ts';
import { digestLength, fetchFragments, listRepoMembers, type RepoSelector } from './queries.ts';

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
  /** Computes the open-checksums off the main thread. */
  hasher: OpenHasher;
}

/** A fragment digest starting with a zero byte ends a chunk: 256 packages on average. */
const boundaryByte = 0;
/** A run of 1,024 packages without such a digest is cut anyway, to bound a chunk's size. */
const maxChunkPackages = 1024;
/** Chunks read or built ahead of the one being written: the parallelism, and the memory bound. */
const lookahead = 6;
const planVersion = 'rpmgate-repodata/1';

/** Thrown when a package's fragments changed between planning and fetching; the build plans again. */
export class RepodataChangedError extends Error {}

export async function planRepodata(sql: Sql, selector: RepoSelector, gzipLevel: number): Promise<RepodataPlan> {
  const { ids, digests } = await listRepoMembers(sql, selector);
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

/** Writes the plan's three documents into the store and returns their records. */
export async function buildRepodata(sql: Sql, plan: RepodataPlan, options: BuildOptions): Promise<BuiltRepodata> {
  const { chunks } = options;
  const present = await Promise.all(plan.chunks.map((chunk) => chunks.has(chunk.key)));
  const load = (index: number): Promise<ChunkPieces> => {
    const chunk = plan.chunks[index]!;
    return present[index] ? chunks.readPieces(chunk.key) : chunks.build(chunk.key, () => compressChunk(sql, chunk, plan.gzipLevel));
  };
  const writers = repodataKinds.map((kind) => new DocumentWriter(kind, options.storeDir, plan.gzipLevel, options.hasher.job()));
  try {
    for (const writer of writers) await writer.open(documentHead(writer.kind, plan.packageCount));
    const pending: Promise<ChunkPieces>[] = [];
    for (let i = 0; i < Math.min(lookahead, plan.chunks.length); i++) pending.push(load(i));
    // Keep the rejections of chunks not yet awaited from being unhandled if an earlier one fails.
    for (const promise of pending) promise.catch(() => {});
    for (let i = 0; i < plan.chunks.length; i++) {
      const data = await pending.shift()!;
      if (i + lookahead < plan.chunks.length) {
        const next = load(i + lookahead);
        next.catch(() => {});
        pending.push(next);
      }
      const key = plan.chunks[i]!.key;
      for (const writer of writers) {
        const part = data.meta.parts[writer.kind];
        await writer.addChunk(data.deflated[writer.kind], part.crc, chunks.textRange(key, writer.kind));
      }
    }
    const records = await Promise.all(writers.map((writer) => writer.finish(documentTail(writer.kind))));
    return { records, chunksBuilt: present.filter((found) => !found).length };
  } catch (error) {
    await Promise.all(writers.map((writer) => writer.abort()));
    throw error;
  }
}

/** repomd.xml for finished documents, with the repository's timestamp as each record's and as the revision. */
export function renderRepodataIndex(records: readonly DocumentRecord[], timestamp: number): Buffer {
  return Buffer.from(renderRepomd({ revision: timestamp, records: records.map((record) => ({ ...record, timestamp })) }), 'utf8');
}

/** Fetches a chunk's fragments and compresses its three texts in parallel. */
async function compressChunk(sql: Sql, chunk: PlannedChunk, level: number): Promise<NewChunk> {
  const fragments = await fetchFragments(sql, chunk.ids);
  const planned = (i: number) => chunk.digests.toString('hex', i * digestLength, (i + 1) * digestLength);
  if (fragments.length !== chunk.ids.length || fragments.some((fragment, i) => fragment.digest !== planned(i))) {
    throw new RepodataChangedError('package fragments changed while the repodata was being built');
  }
  const text = {
    primary: Buffer.concat(fragments.map((fragment) => fragment.primary)),
    filelists: Buffer.concat(fragments.map((fragment) => fragment.filelists)),
    other: Buffer.concat(fragments.map((fragment) => fragment.other)),
  };
  const [primary, filelists, other] = await Promise.all(repodataKinds.map((kind) => deflatePiece(text[kind], level)));
  return { packages: chunk.ids.length, pieces: { primary: primary!, filelists: filelists!, other: other! }, text };
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
  private handle: fs.FileHandle | null = null;
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
    this.handle = await fs.open(this.tempPath, 'w');
    await this.write(GZIP_HEADER);
    await this.addText(head, false);
  }

  async addChunk(deflated: Buffer, crc: number, text: FileRange): Promise<void> {
    await this.write(deflated);
    this.openHash.addFileRange(text);
    this.openSize += text.length;
    this.crc = crc32Combine(this.crc, crc, text.length);
  }

  async finish(tail: string): Promise<DocumentRecord> {
    await this.addText(tail, true);
    await this.write(gzipTrailer(this.crc, this.openSize));
    await this.handle!.close();
    this.handle = null;
    const open = await this.openHash.finish();
    if (open.length !== this.openSize) throw new Error(`${this.kind}: hashed ${open.length} bytes of ${this.openSize}`);
    const checksum = this.hash.digest('hex');
    const href = repodataHref(checksum, this.kind);
    await fs.rename(this.tempPath, path.join(this.storeDir, path.basename(href)));
    return { type: this.kind, checksum, openChecksum: open.digest, size: this.size, openSize: this.openSize, href };
  }

  async abort(): Promise<void> {
    this.openHash.abort();
    await this.handle?.close().catch(() => {});
    this.handle = null;
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
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle!.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
  }
}
