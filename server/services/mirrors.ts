// Mirrors (upstream repositories): add, list, show, remove, sync, and the scheduled sync of every
// mirror (RPMGATE_MIRROR_SYNC_INTERVAL). Called by the API routes and, through them, the CLI.
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { tryAdvisoryLock } from '../db/advisory-lock.ts';
import { deleteMirror, findMirror, insertMirror, listMirrors, listMirrorsDue, type MirrorRow, type MirrorSummaryRow } from '../db/mirrors.ts';
import { readPublicKeys } from '../mirrors/repomd-signature.ts';
import { syncMirror, type SyncResult } from '../mirrors/sync.ts';
import type { Principal } from './tokens.ts';

export interface AddMirrorRequest {
  name: string;
  baseurl: string;
  key?: string | string[];
  sourceBaseurl?: string;
  arches?: string[];
}

export interface MirrorView {
  name: string;
  baseurl: string;
  sourceBaseurl: string | null;
  arches: string[] | null;
  keys: { fingerprint: string; userIds: string[] }[];
  revision: string | null;
  syncedAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  packages?: number;
  cached?: number;
}

export async function addMirror(ctx: AppContext, request: AddMirrorRequest, creator: Principal): Promise<MirrorView> {
  const keys = request.key === undefined ? [] : Array.isArray(request.key) ? request.key : [request.key];
  await readPublicKeys(keys);
  const row = await insertMirror(ctx.sql, {
    name: request.name,
    baseurl: checkUrl(request.baseurl, 'baseurl'),
    sourceBaseurl: request.sourceBaseurl === undefined ? null : checkUrl(request.sourceBaseurl, 'sourceBaseurl'),
    arches: request.arches && request.arches.length > 0 ? [...new Set(request.arches)] : null,
    keys,
    createdBy: creator.name,
  });
  if (!row) throw new RpmgateError('conflict', `mirror ${request.name} exists already`);
  return mirrorView(row);
}

export async function getMirror(ctx: AppContext, name: string): Promise<MirrorRow> {
  const row = await findMirror(ctx.sql, name);
  if (!row) throw new RpmgateError('not_found', `no mirror ${name}`);
  return row;
}

export async function showMirror(ctx: AppContext, name: string): Promise<MirrorView> {
  const all = await listMirrors(ctx.sql);
  const row = all.find((mirror) => mirror.name === name);
  if (!row) throw new RpmgateError('not_found', `no mirror ${name}`);
  return mirrorView(row);
}

export async function listMirrorViews(ctx: AppContext): Promise<MirrorView[]> {
  return Promise.all((await listMirrors(ctx.sql)).map(mirrorView));
}

export async function removeMirror(ctx: AppContext, name: string): Promise<MirrorView> {
  const row = await deleteMirror(ctx.sql, name);
  if (!row) throw new RpmgateError('not_found', `no mirror ${name}`);
  return mirrorView(row);
}

export async function syncMirrorNamed(ctx: AppContext, name: string): Promise<SyncResult> {
  return syncMirror(ctx, await getMirror(ctx, name));
}

async function mirrorView(row: MirrorRow | MirrorSummaryRow): Promise<MirrorView> {
  const keys = await readPublicKeys(row.keys);
  const view: MirrorView = {
    name: row.name,
    baseurl: row.baseurl,
    sourceBaseurl: row.source_baseurl,
    arches: row.arches,
    keys: keys.map((key) => ({ fingerprint: key.getFingerprint().toUpperCase(), userIds: key.getUserIDs() })),
    revision: row.revision,
    syncedAt: row.synced_at?.toISOString() ?? null,
    lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
    lastError: row.last_error,
  };
  if ('packages' in row) {
    view.packages = row.packages;
    view.cached = row.cached;
  }
  return view;
}

function checkUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RpmgateError('bad_request', `${field} must be an http:// or https:// URL, not "${text}"`, { field });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RpmgateError('bad_request', `${field} must be an http:// or https:// URL`, { field });
  if (url.username || url.password || url.search || url.hash) throw new RpmgateError('bad_request', `${field} must be a plain URL (no credentials, query or fragment)`, { field });
  return url.toString().endsWith('/') ? url.toString() : `${url.toString()}/`;
}

/**
 * Syncs every mirror every `seconds`, one after the other; failures are logged and recorded on the
 * mirror. With several servers on one database, one of them runs a round at a time (an advisory lock
 * taken without waiting), and a mirror attempted less than three quarters of an interval ago (by
 * another server) is left alone: the upstream is asked about once per interval, not once per server.
 */
export class MirrorSyncSchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly ctx: AppContext,
    private readonly seconds: number,
  ) {}

  start(): void {
    if (this.seconds <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.syncAll().finally(() => {
        this.running = null;
      });
    }, this.seconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async syncAll(): Promise<void> {
    const lock = await tryAdvisoryLock(this.ctx.sql, 'mirror-sync-schedule').catch(() => null);
    if (!lock) return;
    try {
      for (const mirror of await listMirrorsDue(this.ctx.sql, this.seconds * 0.75).catch(() => [])) {
        if (this.timer === null) return;
        await syncMirror(this.ctx, mirror).catch(() => undefined);
      }
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}
