// The .repo file `configure` installs for a set: the server's file for /repo/set/{name}/{version}.repo
// under a header that names the set, written as rpmgate-<name>.repo. The header is how `report` knows
// which set the host follows, and how `configure` recognises (and replaces) its own earlier files.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './fs-atomic.ts';
import { formatSetReference, type SetReference } from './set-api.ts';

const markerPrefix = '# rpmgate-agent: set ';
const markerPattern = /^# rpmgate-agent: set (\S+)\s*$/m;

export function repoFileName(ref: SetReference): string {
  return `rpmgate-${ref.name}.repo`;
}

export interface DecorateOptions {
  /** With repository authentication on, dnf needs HTTP basic auth: any user name, the token as password. */
  token?: string | null;
}

/** The server's .repo text under the agent's header; credentials added when the server asks for them. */
export function decorateRepoFile(serverText: string, ref: SetReference, options: DecorateOptions = {}): { text: string; hasSecret: boolean } {
  const header = [
    `${markerPrefix}${formatSetReference(ref)}`,
    '# Written by `rpmgate-agent configure`; replaced when the host is configured for another set.',
    '',
  ].join('\n');
  let body = serverText.endsWith('\n') ? serverText : `${serverText}\n`;
  const needsAuth = /^# this server needs a token/m.test(body);
  const hasSecret = needsAuth && Boolean(options.token);
  if (hasSecret) {
    body = body.replace(/^\[([^\]\n]+)\]$/gm, (section) => `${section}\nusername=rpmgate-agent\npassword=${options.token}`);
  }
  return { text: header + body, hasSecret };
}

/** The set named by an agent-written .repo file's header, or null for any other file. */
export function readRepoMarker(text: string): string | null {
  return markerPattern.exec(text)?.[1] ?? null;
}

/** The repo ids (section names) of a .repo file, in order. */
export function repoIds(text: string): string[] {
  return [...text.matchAll(/^\[([^\]\n]+)\]\s*$/gm)].map((match) => match[1]!.trim());
}

export interface ConfiguredRepo {
  set: string;
  file: string;
  text: string;
}

/** Agent-written .repo files in reposDir (normally one), sorted by file name. */
export async function findConfiguredRepos(reposDir: string): Promise<ConfiguredRepo[]> {
  let names: string[];
  try {
    names = await readdir(reposDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: ConfiguredRepo[] = [];
  for (const name of names.filter((n) => n.startsWith('rpmgate-') && n.endsWith('.repo')).sort()) {
    const file = path.join(reposDir, name);
    const text = await readFile(file, 'utf8').catch(() => '');
    const set = readRepoMarker(text);
    if (set) found.push({ set, file, text });
  }
  return found;
}

/**
 * Writes the set's .repo file atomically, then removes the agent's files for other sets (files
 * without the header, e.g. a level repository an administrator added, are left alone).
 */
export async function installRepoFile(
  reposDir: string,
  ref: SetReference,
  text: string,
  options: { secret?: boolean } = {},
): Promise<{ file: string; replaced: string[] }> {
  const file = path.join(reposDir, repoFileName(ref));
  await mkdir(reposDir, { recursive: true });
  await writeFileAtomic(file, text, { mode: options.secret ? 0o600 : 0o644 });
  const replaced: string[] = [];
  for (const other of await findConfiguredRepos(reposDir)) {
    if (other.file === file) continue;
    await rm(other.file, { force: true });
    replaced.push(other.file);
  }
  return { file, replaced };
}

export interface DuplicateRepoFile {
  file: string;
  /** The repo ids it defines that the agent's file defines too. */
  ids: string[];
}

/**
 * Other .repo files in reposDir that define one of `ids`: dnf reads them all and one section wins,
 * so a copy fetched by hand (without credentials, or for another set) can shadow the agent's.
 */
export async function findDuplicateRepoFiles(reposDir: string, ownFile: string, ids: string[]): Promise<DuplicateRepoFile[]> {
  const wanted = new Set(ids);
  const names = await readdir(reposDir).catch(() => [] as string[]);
  const found: DuplicateRepoFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.repo')).sort()) {
    const file = path.join(reposDir, name);
    if (file === ownFile) continue;
    const shared = repoIds(await readFile(file, 'utf8').catch(() => '')).filter((id) => wanted.has(id));
    if (shared.length > 0) found.push({ file, ids: shared });
  }
  return found;
}

/** Removes the duplicate files found above (the caller asked: --replace-duplicates). */
export async function removeRepoFiles(files: DuplicateRepoFile[]): Promise<void> {
  for (const duplicate of files) await rm(duplicate.file, { force: true });
}
