// Chunks: runs of consecutive packages of a repository's documents, compressed once and stitched into
// every document that holds the same run (a set repository and the level it was promoted to; the next
// generation of a level after a promotion, which changes only the chunks around the promoted packages).
// A chunk is named by a digest of its packages' fragment digests and the gzip level, so its bytes
// follow from its name. Each file holds, per document kind, the raw deflate piece (sync-flushed) with
// its CRC-32, and the uncompressed text, which the document's open-checksum needs.
import { randomBytes } from 'node:crypto';
import { close as closeFile, open as openFile, read as readFile } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { repodataKinds, type RepodataKind } from '../../common/repodata/document.ts';
import type { DeflatePiece } from './gzip-stitch.ts';

export interface ChunkPart {
  deflatedLength: number;
  crc: number;
  /** Uncompressed length. */
  length: number;
}

export interface ChunkMeta {
  packages: number;
  parts: Record<RepodataKind, ChunkPart>;
  /** Each package's share of each text, in order: a later chunk holding the package reuses it from here. */
  lengths: Record<RepodataKind, number[]>;
}

/** What a document needs of a chunk in memory: its deflate pieces (the texts stay in the file). */
export interface ChunkPieces {
  meta: ChunkMeta;
  deflated: Record<RepodataKind, Buffer>;
}

export interface NewChunk {
  packages: number;
  pieces: Record<RepodataKind, DeflatePiece>;
  text: Record<RepodataKind, Buffer>;
  lengths: Record<RepodataKind, number[]>;
}

/** A byte range of a file. */
export interface FileRange {
  path: string;
  offset: number;
  length: number;
}

interface Known {
  meta: ChunkMeta;
  /** Where the deflate pieces start: after the magic, the header length and the header. */
  dataOffset: number;
}

/** File layout: magic, u32 LE header length, JSON ChunkMeta, the deflate pieces, then the texts (kind order). */
const MAGIC = Buffer.from('RGCHUNK1');
const chunkFileName = /^[0-9a-f]{64}\.chunk$/;

export class ChunkStore {
  /** Chunks known to be on disk. */
  private readonly known = new Map<string, Known>();
  /** Chunks being built, so that two builds needing the same chunk build it once. */
  private readonly building = new Map<string, Promise<ChunkPieces>>();

  constructor(readonly dir: string) {}

  async open(options: { clearTemporaryFiles?: boolean } = {}): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    if (options.clearTemporaryFiles === false) return;
    for (const name of await fs.readdir(this.dir)) {
      if (name.startsWith('.tmp-')) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.chunk`);
  }

  /** Whether the chunk is stored; a stored chunk is touched, starting a new retention period. */
  async has(key: string): Promise<boolean> {
    const now = new Date();
    if (this.known.has(key)) {
      // Another process sharing the directory may have collected it: the touch tells.
      const touched = await fs.utimes(this.file(key), now, now).then(
        () => true,
        () => false,
      );
      if (!touched) this.known.delete(key);
      return touched;
    }
    const known = await this.readHeader(key);
    if (!known) return false;
    await fs.utimes(this.file(key), now, now).catch(() => {});
    this.known.set(key, known);
    return true;
  }

  /** A chunk's deflate pieces (one read of its file), waiting for the chunk if it is being built. */
  async readPieces(key: string): Promise<ChunkPieces> {
    const pending = this.building.get(key);
    if (pending) await pending.catch(() => {});
    const known = this.known.get(key) ?? (await this.readHeader(key));
    if (!known) throw new Error(`repodata chunk ${key} is missing`);
    const { meta, dataOffset } = known;
    const length = repodataKinds.reduce((sum, kind) => sum + meta.parts[kind].deflatedLength, 0);
    const bytes = await readRange(this.file(key), dataOffset, Buffer.allocUnsafe(length));
    const deflated = {} as Record<RepodataKind, Buffer>;
    let offset = 0;
    for (const kind of repodataKinds) deflated[kind] = bytes.subarray(offset, (offset += meta.parts[kind].deflatedLength));
    return { meta, deflated };
  }

  /** A stored chunk's three texts (one read), or null if it is not there (any more). */
  async readTexts(key: string): Promise<{ meta: ChunkMeta; text: Record<RepodataKind, Buffer> } | null> {
    const known = this.known.get(key) ?? (await this.readHeader(key));
    if (!known?.meta.lengths) return null;
    const { meta, dataOffset } = known;
    const start = dataOffset + repodataKinds.reduce((sum, kind) => sum + meta.parts[kind].deflatedLength, 0);
    const length = repodataKinds.reduce((sum, kind) => sum + meta.parts[kind].length, 0);
    const bytes = Buffer.allocUnsafe(length);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file(key), 'r');
    } catch {
      return null;
    }
    try {
      const { bytesRead } = await handle.read(bytes, 0, length, start);
      if (bytesRead !== length) return null;
    } finally {
      await handle.close();
    }
    const text = {} as Record<RepodataKind, Buffer>;
    let offset = 0;
    for (const kind of repodataKinds) text[kind] = bytes.subarray(offset, (offset += meta.parts[kind].length));
    return { meta, text };
  }

  /** Where a stored chunk keeps the uncompressed text of one kind. */
  textRange(key: string, kind: RepodataKind): FileRange {
    const known = this.known.get(key);
    if (!known) throw new Error(`repodata chunk ${key} is not known`);
    const { meta, dataOffset } = known;
    let offset = dataOffset + repodataKinds.reduce((sum, k) => sum + meta.parts[k].deflatedLength, 0);
    for (const k of repodataKinds) {
      if (k === kind) break;
      offset += meta.parts[k].length;
    }
    return { path: this.file(key), offset, length: meta.parts[kind].length };
  }

  /** Builds and stores a chunk once, whoever asks for it meanwhile. */
  build(key: string, make: () => Promise<NewChunk>): Promise<ChunkPieces> {
    const pending = this.building.get(key);
    if (pending) return pending;
    const promise = (async () => {
      const { packages, pieces, text, lengths } = await make();
      const parts = {} as Record<RepodataKind, ChunkPart>;
      const deflated = {} as Record<RepodataKind, Buffer>;
      for (const kind of repodataKinds) {
        parts[kind] = { deflatedLength: pieces[kind].deflated.length, crc: pieces[kind].crc, length: pieces[kind].length };
        deflated[kind] = pieces[kind].deflated;
      }
      const meta: ChunkMeta = { packages, parts, lengths };
      const dataOffset = await this.write(key, meta, deflated, text);
      this.known.set(key, { meta, dataOffset });
      return { meta, deflated };
    })();
    this.building.set(key, promise);
    const settle = () => {
      if (this.building.get(key) === promise) this.building.delete(key);
    };
    promise.then(settle, settle);
    return promise;
  }

  private async write(key: string, meta: ChunkMeta, deflated: Record<RepodataKind, Buffer>, text: Record<RepodataKind, Buffer>): Promise<number> {
    const header = Buffer.from(JSON.stringify(meta), 'utf8');
    const headerLength = Buffer.alloc(4);
    headerLength.writeUInt32LE(header.length);
    const temp = path.join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await fs.writeFile(temp, [MAGIC, headerLength, header, ...repodataKinds.map((k) => deflated[k]), ...repodataKinds.map((k) => text[k])]);
      await fs.rename(temp, this.file(key));
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    return MAGIC.length + 4 + header.length;
  }

  private async readHeader(key: string): Promise<Known | null> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file(key), 'r');
    } catch {
      return null;
    }
    try {
      const prefix = Buffer.alloc(MAGIC.length + 4);
      await handle.read(prefix, 0, prefix.length, 0);
      if (!prefix.subarray(0, MAGIC.length).equals(MAGIC)) return null;
      const header = Buffer.alloc(prefix.readUInt32LE(MAGIC.length));
      await handle.read(header, 0, header.length, prefix.length);
      return { meta: JSON.parse(header.toString('utf8')) as ChunkMeta, dataOffset: prefix.length + header.length };
    } catch {
      return null;
    } finally {
      await handle.close();
    }
  }

  /** Deletes chunk files not in `keep` and unused since `cutoffMs`; returns how many. */
  async collectGarbage(keep: ReadonlySet<string>, cutoffMs: number): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.dir)) {
      if (!chunkFileName.test(name)) continue;
      const key = name.slice(0, 64);
      if (keep.has(key) || this.building.has(key)) continue;
      const file = path.join(this.dir, name);
      const stat = await fs.stat(file).catch(() => null);
      if (stat && stat.mtimeMs < cutoffMs) {
        await fs.rm(file, { force: true });
        this.known.delete(key);
        removed++;
      }
    }
    return removed;
  }
}

/**
 * Bytes of a file at an offset. Plain callbacks rather than a FileHandle: with 437 chunks a build, the
 * promise API's per-file cost (open and close) showed as 160 ms of main-thread time.
 */
function readRange(file: string, offset: number, into: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    openFile(file, 'r', (openError, fd) => {
      if (openError) return reject(openError);
      readFile(fd, into, 0, into.length, offset, (readError, bytesRead) => {
        closeFile(fd, () => {
          if (readError) reject(readError);
          else if (bytesRead !== into.length) reject(new Error(`${file} is truncated`));
          else resolve(into);
        });
      });
    });
  });
}
