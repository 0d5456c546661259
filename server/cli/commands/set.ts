// `rpmgate set create | list | show | promote | diff | delete`.
import { deletedSetShape, setDocumentShape, setListShape } from '../../../common/api-shapes.ts';
import { readFile } from 'node:fs/promises';
import { RpmgateError } from '../../../common/errors.ts';
import { diffSets } from '../../../common/set-diff.ts';
import type { CommandIo } from '../global-options.ts';

interface SetMember {
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  source: boolean;
}

interface SetDocument {
  id: string;
  name: string;
  version: string;
  level: string;
  description: string;
  createdAt: string;
  createdBy: string;
  packages: string[];
  members: SetMember[];
  history: { from: string; to: string; by: string; at: string; comment: string }[];
  added: { nevra: string; reason: string; level?: string }[];
  /** Absent from servers older than sql/0020. */
  unresolved?: { nevra: string; requirement: string }[];
  /** Upstream members not adopted yet (absent from servers older than sql/0022). */
  pending?: PendingMember[];
}

interface PendingMember {
  nevra: string;
  mirror: string;
  state: 'pending' | 'failed';
  attempts: number;
  lastError: string | null;
}

export interface SetCreateOptions {
  from?: string;
  resolve?: boolean;
  allowUnresolved?: boolean;
  sources?: boolean;
  requireClean?: boolean;
  description?: string;
  prefer?: string;
  minLevel?: string;
  /** Seconds to wait for upstream members, or false (--no-wait). */
  wait?: string | boolean;
}

/** How often `set create` asks whether the upstream members are in. */
const adoptionPollMs = 1000;

export async function setCreateCommand(io: CommandIo, name: string, version: string, nevras: string[], options: SetCreateOptions) {
  const packages = [...nevras, ...(options.from ? await readPackageList(options.from) : [])];
  if (packages.length === 0) throw new RpmgateError('usage', 'name at least one package (NEVRA arguments or --from FILE)');
  const { body } = await io.client.post<SetDocument>('/api/v1/sets', {
    name,
    version,
    packages,
    resolve: Boolean(options.resolve),
    allowUnresolved: Boolean(options.allowUnresolved),
    noSources: options.sources === false,
    ...(options.requireClean ? { requireClean: true } : {}),
    description: options.description ?? '',
    ...(options.prefer ? { prefer: options.prefer } : {}),
    ...(options.minLevel ? { minLevel: options.minLevel } : {}),
  }, { expect: setDocumentShape });
  const waitSeconds = options.wait === false ? 0 : parseWait(options.wait);
  const set = waitSeconds > 0 && (body.pending ?? []).length > 0 ? await waitForAdoption(io, body, waitSeconds) : body;
  io.out.result({ ...set, added: body.added }, () => {
    const lines = [`created ${set.id} at ${set.level} with ${set.packages.length} package(s)`];
    for (const added of body.added) lines.push(`  added ${added.nevra} (${added.level ? `level ${added.level}; ` : ''}${added.reason})`);
    lines.push(...describeUnresolved(set, 'left unresolved (--allow-unresolved; recorded with the set)'));
    lines.push(...describePending(set));
    return lines.join('\n');
  });
  const failed = (set.pending ?? []).filter((member) => member.state === 'failed');
  if (failed.length > 0) {
    throw new RpmgateError('unprocessable', `${set.id} was created, but ${failed.length} upstream member(s) were refused: ${failed.slice(0, 3).map((m) => `${m.nevra} (${m.lastError})`).join('; ')}`);
  }
  if (waitSeconds > 0 && (set.pending ?? []).length > 0) {
    throw new RpmgateError('upstream_timeout', `${set.id} was created, but ${set.pending!.length} upstream member(s) were not adopted within ${waitSeconds} s; \`rpmgate set show ${set.id}\` tells when it is complete`);
  }
}

function parseWait(value: string | boolean | undefined): number {
  if (value === undefined || value === true) return 900;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new RpmgateError('usage', `--wait takes a number of seconds, not "${value}"`);
  return seconds;
}

/** Polls the set until no member is pending (or one failed), at most `seconds`. */
async function waitForAdoption(io: CommandIo, created: SetDocument, seconds: number): Promise<SetDocument> {
  const deadline = Date.now() + seconds * 1000;
  let set = created;
  let reported = -1;
  while (Date.now() < deadline) {
    const pending = (set.pending ?? []).filter((member) => member.state === 'pending');
    if (pending.length === 0) break;
    if (pending.length !== reported) {
      io.out.progress(`${set.id}: adopting ${pending.length} upstream member(s) (fetched, verified, checked, signed)...`);
      reported = pending.length;
    }
    await new Promise((resolve) => setTimeout(resolve, adoptionPollMs));
    set = await fetchSet(io, set.id);
  }
  return set;
}

function describePending(set: SetDocument): string[] {
  const pending = set.pending ?? [];
  if (pending.length === 0) return [];
  return [
    `not complete: ${pending.length} upstream member(s) not adopted yet (not served until they are):`,
    ...pending.map((m) => `  ${m.nevra} from mirror ${m.mirror}: ${m.state}${m.attempts > 0 ? `, ${m.attempts} attempt(s)` : ''}${m.lastError ? ` (${m.lastError})` : ''}`),
  ];
}

function describeUnresolved(set: SetDocument, title: string): string[] {
  const unresolved = set.unresolved ?? [];
  if (unresolved.length === 0) return [];
  return [`${title} (${unresolved.length}):`, ...unresolved.map((u) => `  ${u.nevra} requires ${u.requirement}`)];
}

/** A list file: one NEVRA (or RPM file name) per line; blank lines and # comments ignored. */
async function readPackageList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new RpmgateError('usage', `cannot read ${file}`);
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0)
    .map((line) => line.split('/').pop()!.replace(/\.rpm$/, ''));
}

export async function setListCommand(io: CommandIo, options: { name?: string; level?: string }) {
  const query = new URLSearchParams();
  if (options.name) query.set('name', options.name);
  if (options.level) query.set('level', options.level);
  const { body } = await io.client.get<SetDocument[]>(`/api/v1/sets${query.size ? `?${query}` : ''}`, { expect: setListShape });
  io.out.result(body, () => (body.length === 0 ? 'no package sets' : table(body.map((s) => [s.id, s.level, s.createdAt.slice(0, 19), s.createdBy]))));
}

export async function setShowCommand(io: CommandIo, reference: string) {
  const set = await fetchSet(io, reference);
  io.out.result(set, () => {
    const lines = [
      `${set.id}  level ${set.level}  created ${set.createdAt} by ${set.createdBy}`,
      ...(set.description ? [set.description] : []),
      '',
      `packages (${set.packages.length}):`,
      ...set.packages.map((nevra) => `  ${nevra}`),
    ];
    const unresolved = describeUnresolved(set, 'unresolved when created (--allow-unresolved)');
    if (unresolved.length > 0) lines.push('', ...unresolved);
    const pending = describePending(set);
    if (pending.length > 0) lines.push('', ...pending);
    if (set.history.length > 0) {
      lines.push('', 'history:');
      for (const step of set.history) lines.push(`  ${step.at}  ${step.from} -> ${step.to}  by ${step.by}${step.comment ? `: ${step.comment}` : ''}`);
    }
    return lines.join('\n');
  });
}

export async function setPromoteCommand(io: CommandIo, reference: string, level: string, options: { comment?: string }) {
  const { name, version } = splitReference(reference);
  const { body } = await io.client.post<SetDocument>(`/api/v1/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}/promote`, {
    level,
    comment: options.comment ?? '',
  }, { expect: setDocumentShape });
  io.out.result(body, () => `${body.id} is now at ${body.level}`);
}

export async function setDiffCommand(io: CommandIo, left: string, right: string) {
  const [a, b] = await Promise.all([fetchSet(io, left), fetchSet(io, right)]);
  const diff = diffSets(a.members, b.members);
  io.out.result({ from: a.id, to: b.id, ...diff }, () => {
    const lines = [`${a.id} -> ${b.id}`];
    for (const change of diff.changed) lines.push(`  ~ ${change.name}.${change.arch}: ${change.from} -> ${change.to} (${change.direction})`);
    for (const nevra of diff.added) lines.push(`  + ${nevra}`);
    for (const nevra of diff.removed) lines.push(`  - ${nevra}`);
    if (lines.length === 1) lines.push('  no difference');
    return lines.join('\n');
  });
}

/** Deletes a set that was never released (admin); its packages stay, for the cleanup to judge. */
export async function setDeleteCommand(io: CommandIo, reference: string, options: { comment?: string }) {
  const { name, version } = splitReference(reference);
  const query = options.comment ? `?${new URLSearchParams({ comment: options.comment })}` : '';
  const { body } = await io.client.request<{ deleted: string; level: string }>('DELETE', `/api/v1/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}${query}`, {
    expect: deletedSetShape,
  });
  io.out.result(body, () => `deleted ${body.deleted} (it was at ${body.level}); its version is never used again`);
}

async function fetchSet(io: CommandIo, reference: string): Promise<SetDocument> {
  const { name, version } = splitReference(reference);
  const { body } = await io.client.get<SetDocument>(`/api/v1/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}`, { expect: setDocumentShape });
  return body;
}

export function splitReference(reference: string): { name: string; version: string } {
  const slash = reference.indexOf('/');
  if (slash <= 0 || slash === reference.length - 1 || reference.indexOf('/', slash + 1) !== -1) {
    throw new RpmgateError('usage', `a set is named NAME/VERSION, e.g. billing/4.2.0, not "${reference}"`);
  }
  return { name: reference.slice(0, slash), version: reference.slice(slash + 1) };
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}
