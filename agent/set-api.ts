// Package sets as the agent sees them: NAME/VERSION references, the set document from
// GET /api/v1/sets/{name}/{version}, and the paths of the set's repository on the server.
import { setDocumentShape } from '../common/api-shapes.ts';
import { RpmgateError } from '../common/errors.ts';
import type { ApiClient } from '../common/http-client.ts';
import { formatNevra } from '../common/rpm/nevra.ts';

export interface SetReference {
  name: string;
  version: string;
}

export interface SetMember {
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  source: boolean;
}

export interface SetDocument {
  id: string;
  name: string;
  version: string;
  level: string;
  members: SetMember[];
}

export function parseSetReference(reference: string): SetReference {
  const slash = reference.indexOf('/');
  if (slash <= 0 || slash === reference.length - 1 || reference.indexOf('/', slash + 1) !== -1) {
    throw new RpmgateError('usage', `a set is named NAME/VERSION, e.g. billing/4.2.0, not "${reference}"`);
  }
  return { name: reference.slice(0, slash), version: reference.slice(slash + 1) };
}

export function formatSetReference(ref: SetReference): string {
  return `${ref.name}/${ref.version}`;
}

export async function fetchSet(client: ApiClient, ref: SetReference): Promise<SetDocument> {
  const { body } = await client.get<SetDocument>(`/api/v1/sets/${encodeURIComponent(ref.name)}/${encodeURIComponent(ref.version)}`, { expect: setDocumentShape });
  if (!body || !Array.isArray(body.members)) throw new RpmgateError('internal', `the server sent no member list for ${formatSetReference(ref)}`);
  return body;
}

/** The set's dnf repository (base URL path, with a trailing slash), binary or source. */
export function setRepoPath(ref: SetReference, source = false): string {
  return `/repo/set/${encodeURIComponent(ref.name)}/${encodeURIComponent(ref.version)}/${source ? 'source/' : ''}`;
}

/** The ready-made .repo file the server renders for the set. */
export function setRepoFilePath(ref: SetReference): string {
  return `/repo/set/${encodeURIComponent(ref.name)}/${encodeURIComponent(ref.version)}.repo`;
}

/** "name-[epoch:]version-release.arch" as dnf accepts it on the command line. */
export function memberSpec(member: Omit<SetMember, 'nevra' | 'source'>): string {
  return formatNevra(member);
}
