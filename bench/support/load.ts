// Puts the benchmark corpus into the database fast: COPY FROM STDIN into the tables and columns
// insertPackage (server/db/packages.ts) writes, with the fragments rendered by the same function an
// upload uses (server/services/package-repodata.ts). Packages are generated twice (once for their rows,
// once for their children) rather than held: 100,000 packages of 40 files would be ≈ 4M objects.
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { formatNevra, formatRpmFileName } from '../../common/rpm/nevra.ts';
import type { RpmPackage } from '../../common/rpm/package.ts';
import { copyRows } from '../../server/db/copy-rows.ts';
import { renderPackageRepodata } from '../../server/services/package-repodata.ts';
import { benchPackage } from './corpus.ts';

const dependencyKinds = ['provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances'] as const;
const uploadedAt = new Date(1_750_000_000_000);

export interface LoadedCorpus {
  /** Package ids in corpus order: ids[i] is benchPackage(i). */
  ids: number[];
  nevras: string[];
  /** Uncompressed bytes of the rendered fragments, per kind. */
  fragmentBytes: { primary: number; filelists: number; other: number };
}

function served(pkg: RpmPackage) {
  const nevra = formatNevra(pkg);
  const digest = (salt: string) => createHash('sha256').update(`${salt}:${nevra}`).digest('hex');
  return { nevra, filename: formatRpmFileName(pkg), sha256: digest('served'), originalSha256: digest('original') };
}

export interface LoadOptions {
  /** The first package of the corpus to load (default 0). */
  first?: number;
  /**
   * The fingerprint of the server's current key, as signed_by (sql/0004): packages signed by another
   * key are re-signed in the background when the server starts, which would compete with what is
   * measured (and finds no blob to sign here).
   */
  signedBy?: string | null;
  onProgress?: (done: number) => void;
}

/** Packages first .. first + count - 1 of the corpus. */
export async function loadCorpus(sql: Sql, count: number, options: LoadOptions = {}): Promise<LoadedCorpus> {
  const { first = 0, signedBy = null, onProgress } = options;
  const nevras: string[] = [];
  await copyRows(sql, 'packages', [
    'nevra', 'name', 'epoch', 'version', 'release', 'arch', 'is_source', 'sourcerpm', 'filename', 'original_sha256',
    'original_size', 'sha256', 'size', 'summary', 'license', 'url', 'vendor', 'buildhost', 'buildtime', 'installed_size',
    'header_start', 'header_end', 'uploaded_at', 'uploaded_by', 'signed_by',
  ], function* () {
    for (let i = first; i < first + count; i++) {
      const pkg = benchPackage(i);
      const file = served(pkg);
      nevras.push(file.nevra);
      yield [
        file.nevra, pkg.name, pkg.epoch, pkg.version, pkg.release, pkg.arch, pkg.isSource, pkg.sourcerpm, file.filename,
        file.originalSha256, pkg.sizes.package, file.sha256, pkg.sizes.package, pkg.summary, pkg.license, pkg.url, pkg.vendor,
        pkg.buildhost, pkg.buildtime, pkg.sizes.installed, pkg.headerRange.start, pkg.headerRange.end, uploadedAt.toISOString(), 'bench',
        signedBy,
      ];
    }
  }());
  // Identity values follow COPY's row order; read them back rather than assume where they start.
  const idRows = await sql<{ id: number; nevra: string }[]>`select id, nevra from packages where uploaded_by = 'bench'`;
  const idByNevra = new Map(idRows.map((row) => [row.nevra, row.id]));
  const ids = nevras.map((nevra) => idByNevra.get(nevra)!);

  const fragmentBytes = { primary: 0, filelists: 0, other: 0 };
  const dependencies = new RowQueue();
  const files = new RowQueue();
  const repodata = new RowQueue();
  const copies = Promise.all([
    copyRows(sql, 'package_dependencies', ['package_id', 'kind', 'name', 'flags', 'evr'], dependencies),
    copyRows(sql, 'package_files', ['package_id', 'path', 'type'], files),
    copyRows(sql, 'package_repodata', ['package_id', 'primary_xml', 'filelists_xml', 'other_xml'], repodata),
  ]);
  for (let i = 0; i < count; i++) {
    const pkg = benchPackage(first + i);
    const file = served(pkg);
    const id = ids[i]!;
    for (const kind of dependencyKinds) for (const dep of pkg[kind]) dependencies.push([id, kind, dep.name, dep.flags, dep.evr]);
    for (const entry of pkg.files) files.push([id, entry.path, entry.type]);
    const fragments = renderPackageRepodata(pkg, {
      sha256: file.sha256,
      size: pkg.sizes.package,
      headerRange: pkg.headerRange,
      filename: file.filename,
      uploadedAt,
    });
    fragmentBytes.primary += Buffer.byteLength(fragments.primary);
    fragmentBytes.filelists += Buffer.byteLength(fragments.filelists);
    fragmentBytes.other += Buffer.byteLength(fragments.other);
    repodata.push([id, fragments.primary, fragments.filelists, fragments.other]);
    if (i % 1000 === 999) {
      await Promise.all([dependencies.drained(), files.drained(), repodata.drained()]);
      onProgress?.(i + 1);
    }
  }
  for (const queue of [dependencies, files, repodata]) queue.end();
  await copies;
  // Statistics as autovacuum would have them on a live server: the planner needs them.
  await sql`analyze`;
  return { ids, nevras, fragmentBytes };
}

type Row = readonly unknown[];

/** An async row source fed by the generator loop, with a bound so that memory stays small. */
class RowQueue implements AsyncIterable<Row> {
  private rows: Row[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private space: (() => void) | null = null;

  push(row: Row): void {
    this.rows.push(row);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** Resolves once the consumer has taken most of the queue. */
  drained(): Promise<void> {
    if (this.rows.length < 20_000) return Promise.resolve();
    return new Promise((resolve) => (this.space = resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Row> {
    for (;;) {
      if (this.rows.length > 0) {
        const batch = this.rows;
        this.rows = [];
        this.space?.();
        this.space = null;
        yield* batch;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

