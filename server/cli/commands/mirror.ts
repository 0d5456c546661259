// `rpmgate mirror add | sync | list | show | remove`: upstream repositories (admin only).
import { readFile } from 'node:fs/promises';
import { mirrorFetchShape, mirrorListShape, mirrorShape, mirrorSyncShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface MirrorView {
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

interface SyncView {
  mirror: string;
  status: string;
  packages: number;
  added: number;
  removed: number;
  seconds: number;
}

export interface MirrorAddOptions {
  key?: string[];
  sourceBaseurl?: string;
  arch?: string;
}

export async function mirrorAddCommand(io: CommandIo, name: string, baseurl: string, options: MirrorAddOptions): Promise<void> {
  const keys: string[] = [];
  for (const file of options.key ?? []) {
    try {
      keys.push(await readFile(file, 'utf8'));
    } catch (error) {
      throw new RpmgateError('usage', `cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const body: Record<string, unknown> = { name, baseurl };
  if (keys.length > 0) body.key = keys;
  if (options.sourceBaseurl) body.sourceBaseurl = options.sourceBaseurl;
  if (options.arch) body.arches = options.arch.split(',').map((arch) => arch.trim()).filter(Boolean);
  const { body: mirror } = await io.client.post<MirrorView>('/api/v1/mirrors', body, { expect: mirrorShape });
  io.out.result(mirror, () => `added mirror ${mirror.name} (${mirror.baseurl}${mirror.keys.length > 0 ? `, keys ${mirror.keys.map((k) => k.fingerprint).join(', ')}` : ', no key: unsigned upstream trusted'}); run: rpmgate mirror sync ${mirror.name}`);
}

export async function mirrorSyncCommand(io: CommandIo, name: string): Promise<void> {
  // A sync of a large upstream takes minutes: no client time-out.
  const { body } = await io.client.post<SyncView>(`/api/v1/mirrors/${encodeURIComponent(name)}/sync`, undefined, { expect: mirrorSyncShape, timeoutMs: null });
  io.out.result(body, () =>
    body.status === 'unchanged'
      ? `mirror ${body.mirror}: unchanged upstream, ${body.packages} packages (${body.seconds.toFixed(1)} s)`
      : `mirror ${body.mirror}: ${body.packages} packages, ${body.added} added, ${body.removed} removed (${body.seconds.toFixed(1)} s)`,
  );
}

export async function mirrorListCommand(io: CommandIo): Promise<void> {
  const { body } = await io.client.get<MirrorView[]>('/api/v1/mirrors', { expect: mirrorListShape });
  io.out.result(body, () => {
    if (body.length === 0) return 'no mirrors';
    const rows = [['NAME', 'BASEURL', 'PACKAGES', 'CACHED', 'SYNCED', 'LAST ERROR']];
    for (const m of body) rows.push([m.name, m.baseurl, String(m.packages ?? ''), String(m.cached ?? ''), m.syncedAt ?? 'never', m.lastError ?? '']);
    return table(rows);
  });
}

export async function mirrorShowCommand(io: CommandIo, name: string): Promise<void> {
  const { body: m } = await io.client.get<MirrorView>(`/api/v1/mirrors/${encodeURIComponent(name)}`, { expect: mirrorShape });
  io.out.result(m, () =>
    [
      `name:        ${m.name}`,
      `baseurl:     ${m.baseurl}`,
      `sources:     ${m.sourceBaseurl ?? '(none)'}`,
      `arches:      ${m.arches?.join(',') ?? '(all)'}`,
      `keys:        ${m.keys.map((k) => `${k.fingerprint} ${k.userIds.join(', ')}`).join('; ') || '(none: unsigned upstream trusted)'}`,
      `revision:    ${m.revision ?? '(never synced)'}`,
      `synced:      ${m.syncedAt ?? 'never'}`,
      `packages:    ${m.packages ?? 0} (${m.cached ?? 0} cached)`,
      `last error:  ${m.lastError ?? '(none)'}`,
    ].join('\n'),
  );
}

export async function mirrorRemoveCommand(io: CommandIo, name: string): Promise<void> {
  const { body } = await io.client.request<MirrorView>('DELETE', `/api/v1/mirrors/${encodeURIComponent(name)}`, { expect: mirrorShape });
  io.out.result(body, () => `removed mirror ${body.name} (packages adopted from it stay in the store)`);
}

interface FetchView {
  adopted: { nevra: string; mirror: string; status: string; source?: { nevra?: string; status?: string; missing?: string } }[];
}

export async function mirrorFetchCommand(io: CommandIo, nevras: string[]): Promise<void> {
  const { body } = await io.client.post<FetchView>('/api/v1/mirrors/fetch', { packages: nevras }, { expect: mirrorFetchShape, timeoutMs: null });
  io.out.result(body, () =>
    body.adopted.length === 0
      ? 'every package is stored already'
      : body.adopted
          .map((a) => `${a.nevra}: ${a.status === 'created' ? 'adopted' : 'already stored'} from mirror ${a.mirror}${a.source?.nevra ? `, source ${a.source.nevra}` : a.source?.missing ? ` (no source: ${a.source.missing})` : ''}`)
          .join('\n'),
  );
}
