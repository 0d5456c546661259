// Re-signing after a key change, as a background job: one at a time, with progress, started when an
// admin makes another key current and at server start when packages carry another key's signature
// (RPMGATE_SIGNING_KEY_FILE pointed at a new key). Each re-signed package gets its repodata
// fragments rendered again, and repositories move to a new generation.
import { readRpmFile } from '../../common/rpm/reader.ts';
import type { AppContext } from '../context.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import type { Queryable } from '../db/queryable.ts';
import { resignPackages, type RotationStore } from '../signing/rotation.ts';
import type { SignedFile } from '../signing/package-signer.ts';
import { renderPackageRepodata } from './package-repodata.ts';

/** What the job needs: everything but itself. */
export type RotationContext = Omit<AppContext, 'rotation'>;

export interface RotationStatus {
  state: 'idle' | 'running' | 'done' | 'failed';
  fingerprint: string | null;
  /** Packages not yet signed by the current key when the job started. */
  total: number;
  resigned: number;
  failed: { nevra: string; error: string }[];
  startedAt: string | null;
  finishedAt: string | null;
}

export class KeyRotationJob {
  private status: RotationStatus = { state: 'idle', fingerprint: null, total: 0, resigned: 0, failed: [], startedAt: null, finishedAt: null };
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly ctx: RotationContext) {}

  current(): RotationStatus {
    return { ...this.status, failed: [...this.status.failed] };
  }

  /** Starts re-signing unless a run is under way (that run picks up the key it started with; start again after). */
  async start(): Promise<RotationStatus> {
    if (this.running) return this.current();
    const fingerprint = this.ctx.keyring.current().info.fingerprint;
    const total = await countPackagesToResign(this.ctx.sql, fingerprint);
    if (total === 0) return this.current();
    this.status = { state: 'running', fingerprint, total, resigned: 0, failed: [], startedAt: new Date().toISOString(), finishedAt: null };
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.current();
  }

  /** Waits for the job under way, if any (tests, shutdown). */
  async settled(): Promise<void> {
    await this.running;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    try {
      const report = await resignPackages(databaseRotationStore(this.ctx), this.ctx.keyring, {
        signal: this.abort.signal,
        onProgress: (progress) => {
          if (progress.outcome === 'resigned') this.status.resigned++;
          if (progress.outcome === 'failed') this.status.failed.push({ nevra: progress.candidate.nevra, error: progress.error ?? '' });
        },
      });
      this.status.state = report.complete ? 'done' : 'idle';
      this.ctx.log.info('packages re-signed', { fingerprint: report.fingerprint, resigned: report.resigned, failed: report.failed.length });
    } catch (error) {
      this.status.state = 'failed';
      this.ctx.log.error('re-signing failed', { error: String(error) });
    } finally {
      this.status.finishedAt = new Date().toISOString();
    }
  }
}

async function countPackagesToResign(sql: Queryable, fingerprint: string): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    select count(*)::int as count from packages where signed_by is distinct from ${fingerprint}`;
  return row!.count;
}

function databaseRotationStore(ctx: RotationContext): RotationStore {
  return {
    async listPackagesToResign(fingerprint, after, limit) {
      const rows = await ctx.sql<{ id: number; nevra: string; original_sha256: string; sha256: string }[]>`
        select id, nevra, original_sha256, sha256 from packages
        where signed_by is distinct from ${fingerprint} and id > ${after === null ? 0 : Number(after)}
        order by id limit ${limit}`;
      return rows.map((row) => ({ id: String(row.id), nevra: row.nevra, originalSha256: row.original_sha256, sha256: row.sha256 }));
    },
    blobPath: (sha256) => ctx.store.blobPath(sha256),
    tempPath: (suffix) => ctx.store.tempPath(suffix),
    adopt: (tempFile, sha256) => ctx.store.adopt(tempFile, sha256),
    async replaceServedFile(candidate, served: SignedFile) {
      const parsed = await readRpmFile(ctx.store.blobPath(served.sha256));
      const replaced = await ctx.sql.begin(async (tx) => {
        const [row] = await tx<{ filename: string; uploaded_at: Date }[]>`
          update packages
             set sha256 = ${served.sha256}, size = ${served.size}, header_start = ${served.headerRange.start},
                 header_end = ${served.headerRange.end}, signed_by = ${served.signedBy}
           where id = ${Number(candidate.id)} and sha256 = ${candidate.sha256}
          returning filename, uploaded_at`;
        if (!row) return false;
        const fragments = renderPackageRepodata(parsed.package, { ...served, filename: row.filename, uploadedAt: row.uploaded_at });
        await tx`
          update package_repodata
             set primary_xml = ${fragments.primary}, filelists_xml = ${fragments.filelists}, other_xml = ${fragments.other}
           where package_id = ${Number(candidate.id)}`;
        await bumpRepoGeneration(tx, 'packages');
        return true;
      });
      if (replaced) await ctx.repositories.changed();
      return replaced;
    },
  };
}
