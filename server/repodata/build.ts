// Builds one repository's repodata from PostgreSQL: streams the members' pre-rendered fragments
// (rendered once at upload) through three gzip writers that hash as they write, then fills in the
// repomd records after the files are closed, as createrepo_c does. Memory stays bounded: rows come
// through a cursor, and output goes to files, never into one string.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip, constants as zlibConstants, type Gzip } from 'node:zlib';
import type { Sql } from 'postgres';
import { documentHead, documentTail, repodataKinds, type RepodataKind } from '../../common/repodata/document.ts';
import { renderRepomd, repodataHref, type RepomdRecord } from '../../common/repodata/repomd.ts';
import { countRepoPackages, streamRepoFragments, type RepoSelector } from './queries.ts';

export interface BuiltRepodata {
  repomd: Buffer;
  /** File name (`<checksum>-primary.xml.gz`) → path of the stored file. */
  files: Map<string, string>;
  packageCount: number;
}

export interface BuildOptions {
  /** Where finished metadata files are kept, named by their checksum. */
  storeDir: string;
  /** Seconds since the epoch written as each record's timestamp and as the revision. */
  timestamp: number;
  gzipLevel: number;
}

const cursorBatch = 500;
const fragmentColumn: Record<RepodataKind, 'primary_xml' | 'filelists_xml' | 'other_xml'> = {
  primary: 'primary_xml',
  filelists: 'filelists_xml',
  other: 'other_xml',
};

export async function buildRepodata(sql: Sql, selector: RepoSelector, options: BuildOptions): Promise<BuiltRepodata> {
  // One snapshot for the count in the document head and the rows that follow it.
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const packageCount = await countRepoPackages(tx, selector);
    const writers = repodataKinds.map((kind) => new MetadataWriter(kind, options));
    try {
      for (const writer of writers) await writer.write(documentHead(writer.kind, packageCount));
      for await (const rows of streamRepoFragments(tx, selector, cursorBatch)) {
        for (const writer of writers) {
          const column = fragmentColumn[writer.kind];
          // One write per batch: fewer, larger chunks keep zlib's thread-pool round trips down.
          await writer.write(rows.map((row) => row[column]).join(''));
        }
      }
      for (const writer of writers) await writer.write(documentTail(writer.kind));
      const records = await Promise.all(writers.map((writer) => writer.finish(options.timestamp)));
      const files = new Map(records.map((record) => [path.basename(record.href), record.storedPath]));
      const repomd = Buffer.from(renderRepomd({ revision: options.timestamp, records }), 'utf8');
      return { repomd, files, packageCount } satisfies BuiltRepodata;
    } catch (error) {
      await Promise.all(writers.map((writer) => writer.abort()));
      throw error;
    }
  });
}

/** One gzip-compressed metadata file: hashes the text before and the bytes after compression. */
class MetadataWriter {
  private readonly openHash: Hash = createHash('sha256');
  private readonly hash: Hash = createHash('sha256');
  private openSize = 0;
  private size = 0;
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly tempPath: string;
  private readonly done: Promise<void>;

  constructor(
    readonly kind: RepodataKind,
    private readonly options: BuildOptions,
  ) {
    this.tempPath = path.join(options.storeDir, `.tmp-${kind}-${process.pid}-${Math.random().toString(36).slice(2)}`);
    this.gzip = createGzip({ level: options.gzipLevel, chunkSize: 256 * 1024, memLevel: 9, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
    this.file = createWriteStream(this.tempPath);
    this.gzip.on('data', (chunk: Buffer) => {
      this.hash.update(chunk);
      this.size += chunk.length;
    });
    this.gzip.pipe(this.file);
    this.done = Promise.all([once(this.file, 'close'), once(this.gzip, 'end')]).then(() => undefined);
    // Errors surface through `done` and write(); keep them from being unhandled meanwhile.
    this.done.catch(() => {});
  }

  async write(text: string): Promise<void> {
    if (text.length === 0) return;
    const bytes = Buffer.from(text, 'utf8');
    this.openHash.update(bytes);
    this.openSize += bytes.length;
    if (!this.gzip.write(bytes)) await once(this.gzip, 'drain');
  }

  async finish(timestamp: number): Promise<RepomdRecord & { storedPath: string }> {
    this.gzip.end();
    await this.done;
    const checksum = this.hash.digest('hex');
    const href = repodataHref(checksum, this.kind);
    const storedPath = path.join(this.options.storeDir, path.basename(href));
    await fs.rename(this.tempPath, storedPath);
    return {
      type: this.kind,
      checksum,
      openChecksum: this.openHash.digest('hex'),
      size: this.size,
      openSize: this.openSize,
      timestamp,
      href,
      storedPath,
    };
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    this.file.destroy();
    await fs.rm(this.tempPath, { force: true });
  }
}
