// Re-signing after a key change, as a background job: one at a time, with progress, started when an
// admin makes another key current and at server start when packages carry another key's signature
// (RPMGATE_SIGNING_KEY_FILE pointed at a new key). Each re-signed package gets a new served file
// under a new href and its repodata fragments rendered again; the file it replaces stays served at
// its own href (sql/0010). Repositories move to a new generation per group of packages, not per
// package, and once more at the end.
import { readRpmFile } from '../../common/rpm/reader.ts';
import type { AppContext } from '../context.ts';
import { tryAdvisoryLock } from '../db/advisory-lock.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import type { Queryable } from '../db/queryable.ts';
import { replaceServedFile } from '../db/served-files.ts';
import { resignPackages, type RotationStore } from '../signing/rotation.ts';
import type { SignedFile } from '../signing/package-signer.ts';
import { renderPackageRepodata } from './package-repodata.ts';

/** What the job needs: everything but itself. */
export type RotationContext = Omit<AppContext, 'rotation' | 'metrics' | 'setAdoptions'>;

export interface RotationStatus {
  /** elsewhere: another server on the database holds the job's lock (it runs there; tried again here later). */
  state: 'idle' | 'running' | 'done' | 'failed' | 'elsewhere';
  fingerprint: string | null;
  /** Packages not yet signed by the current key when the job started. */
  total: number;
  resigned: number;
  failed: { nevra: string; error: string }[];
  startedAt: string | null;
  finishedAt: string | null;
}

/** What routes and pages use of the job: the job itself, or in an HTTP worker its supervisor's (server/ops). */
export interface RotationControl {
  start(): Promise<RotationStatus>;
  current(): RotationStatus;
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export class KeyRotationJob implements RotationControl {
  private status: RotationStatus = { state: 'idle', fingerprint: null, total: 0, resigned: 0, failed: [], startedAt: null, finishedAt: null };
  private running: { done: Promise<void>; abort: AbortController } | null = null;
  /** start() calls, one after the other: two activations in a row must not start two runs. */
  private starts: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  /** retryMs: how often a server that found the job running elsewhere looks again (takes over when its holder died). */
  constructor(
    private readonly ctx: RotationContext,
    private readonly retryMs = 30_000,
  ) {}

  current(): RotationStatus {
    return { ...this.status, failed: [...this.status.failed] };
  }

  /**
   * Starts re-signing for the current key. A run under way for another key (a second activation
   * mid-run) is stopped between two packages and replaced by a run for this one, which lists every
   * package not signed by it, so none is left on the interim key; a run for this key goes on.
   */
  start(): Promise<RotationStatus> {
    const started = this.starts.then(() => this.restart());
    this.starts = started.catch(() => undefined);
    return started;
  }

  private async restart(): Promise<RotationStatus> {
    if (this.stopped) return this.current();
    const fingerprint = this.ctx.keyring.current().info.fingerprint;
    if (this.running && this.status.fingerprint === fingerprint) return this.current();
    const superseded = this.running !== null;
    if (this.running) {
      this.running.abort.abort();
      await this.running.done;
    }
    const total = await countPackagesToResign(this.ctx.sql, fingerprint);
    if (total === 0) {
      if (superseded) this.status = { ...this.status, state: 'done', fingerprint, total: 0, resigned: 0, failed: [] };
      return this.current();
    }
    const status: RotationStatus = { state: 'running', fingerprint, total, resigned: 0, failed: [], startedAt: new Date().toISOString(), finishedAt: null };
    this.status = status;
    const abort = new AbortController();
    const run = { abort, done: this.run(status, abort.signal) };
    this.running = run;
    void run.done.finally(() => {
      if (this.running === run) this.running = null;
    });
    return this.current();
  }

  /** Waits for the job under way, if any (tests, shutdown); a restart waits for its new run. */
  async settled(): Promise<void> {
    await this.starts;
    while (this.running) await this.running.done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.starts;
    this.running?.abort.abort();
    await this.running?.done;
  }

  /** One run; `status` is this run's own, replaced (not written) by a run that supersedes it. */
  private async run(status: RotationStatus, signal: AbortSignal): Promise<void> {
    // One server re-signs at a time: two would sign the same packages twice, each publishing its own.
    const lock = await tryAdvisoryLock(this.ctx.sql, 'key-rotation').catch((error: unknown) => {
      this.ctx.log.error('re-signing could not take its lock', { error: String(error) });
      return null;
    });
    if (!lock) {
      status.state = 'elsewhere';
      status.finishedAt = new Date().toISOString();
      if (this.retry) clearTimeout(this.retry);
      this.retry = setTimeout(() => {
        this.retry = null;
        void this.start();
      }, this.retryMs);
      this.retry.unref();
      return;
    }
    try {
      const report = await resignPackages(databaseRotationStore(this.ctx), this.ctx.keyring, {
        signal,
        onProgress: (progress) => {
          if (progress.outcome === 'resigned') status.resigned++;
          if (progress.outcome === 'failed') status.failed.push({ nevra: progress.candidate.nevra, error: progress.error ?? '' });
        },
      });
      status.state = report.complete ? 'done' : 'idle';
      this.ctx.log.info('packages re-signed', { fingerprint: report.fingerprint, resigned: report.resigned, failed: report.failed.length, complete: report.complete });
    } catch (error) {
      status.state = 'failed';
      this.ctx.log.error('re-signing failed', { err: error });
    } finally {
      status.finishedAt = new Date().toISOString();
      await lock.release().catch(() => undefined);
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
    localBlob: (sha256) => ctx.store.localCopy(sha256),
    tempPath: (suffix) => ctx.store.tempPath(suffix),
    adopt: (tempFile, sha256) => ctx.store.adopt(tempFile, sha256),
    async replaceServedFile(candidate, served: SignedFile) {
      const local = await ctx.store.localCopy(served.sha256);
      const parsed = await readRpmFile(local.path).finally(() => local.release());
      return ctx.sql.begin(async (tx) => {
        const row = await replaceServedFile(tx, Number(candidate.id), candidate.sha256, served);
        if (!row) return false;
        const fragments = renderPackageRepodata(parsed.package, { ...served, filename: row.filename, uploadedAt: row.uploaded_at });
        await tx`
          update package_repodata
             set primary_xml = ${fragments.primary}, filelists_xml = ${fragments.filelists}, other_xml = ${fragments.other}
           where package_id = ${row.id}`;
        return true;
      });
    },
    async publishReplacements() {
      // The replacements committed without a generation of their own. A repository answered meanwhile
      // from its previous generation names previous files, which are still served: it is only late.
      await bumpRepoGeneration(ctx.sql, 'packages');
      await ctx.repositories.changed();
    },
  };
}
