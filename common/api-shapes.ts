// What rpmgate's API answers look like, checked by its clients before they use one: a server that is
// not rpmgate (a web page, another JSON API) must never pass for it ("already present as undefined").
// Plain guards rather than a schema library: the host agent's bundle carries them too.

export interface Shape<T> {
  /** What the answer should have been, for the error ("a set list"). */
  readonly what: string;
  test(body: unknown): body is T;
}

type FieldKind = 'string' | 'number' | 'boolean' | 'array' | 'object';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  if (kind === 'array') return Array.isArray(value);
  if (kind === 'object') return isRecord(value);
  return typeof value === kind;
}

/** An object with at least these fields of these kinds. */
export function objectShape<T>(what: string, fields: Record<string, FieldKind>): Shape<T> {
  return {
    what,
    test: (body: unknown): body is T => isRecord(body) && Object.entries(fields).every(([name, kind]) => hasKind(body[name], kind)),
  };
}

/** An array whose every element has the shape. */
export function listShape<T>(what: string, element: Shape<T>): Shape<T[]> {
  return { what, test: (body: unknown): body is T[] => Array.isArray(body) && body.every((item) => element.test(item)) };
}

/** rpmgate's problem documents (RFC 9457 with rpmgate's stable `code`). */
export const problemShape = objectShape<{ code: string; detail: string; status: number }>('a problem document', {
  code: 'string',
  detail: 'string',
  status: 'number',
});

export const storedPackageShape = objectShape<{ nevra: string }>('a stored package', { nevra: 'string' });

export const setDocumentShape = objectShape<{ name: string; version: string; level: string; members: unknown[] }>('a package set', {
  name: 'string',
  version: 'string',
  level: 'string',
  members: 'array',
});

export const setListShape = listShape('a list of package sets', objectShape<{ name: string; version: string; level: string }>('a set', { name: 'string', version: 'string', level: 'string' }));

export const keyShape = objectShape<{ fingerprint: string; status: string }>('a signing key', { fingerprint: 'string', status: 'string' });

export const keysDocumentShape = objectShape<{ current: unknown; keys: unknown[]; rotation: unknown }>('the signing keys', {
  current: 'object',
  keys: 'array',
  rotation: 'object',
});

export const keyActivationShape = objectShape<{ current: unknown; rotation: unknown }>('a key activation', { current: 'object', rotation: 'object' });

export const tokenShape = objectShape<{ token: string; role: string; name: string }>('a new token', { token: 'string', role: 'string', name: 'string' });

export const hostListShape = objectShape<{ total: number; hosts: unknown[] }>('a host list', { total: 'number', hosts: 'array' });

export const usageShape = objectShape<{ name: string; hostCount: number; versions: unknown[]; sets: unknown[] }>("a component's usage", {
  name: 'string',
  hostCount: 'number',
  versions: 'array',
  sets: 'array',
});

export const enrollmentShape = objectShape<{ token: string; machineId: string; replaced: boolean }>("a host's enrollment", {
  token: 'string',
  machineId: 'string',
  replaced: 'boolean',
});

export const reportAnswerShape = objectShape<{ machineId: string; status: string }>("a host report's receipt", { machineId: 'string', status: 'string' });

export const tokenSummaryShape = objectShape<{ id: number; name: string; role: string; createdAt: string; revokedAt: string | null }>('a token', {
  id: 'number',
  name: 'string',
  role: 'string',
  createdAt: 'string',
});

export const tokenListShape = listShape('a list of tokens', tokenSummaryShape);

export const exceptionShape = objectShape<{ id: number; check: string; package: string; state: string }>('an entry-check exception', {
  id: 'number',
  check: 'string',
  package: 'string',
  state: 'string',
});

export const exceptionListShape = listShape('a list of entry-check exceptions', exceptionShape);

export const packageDetailShape = objectShape<{ nevra: string; findings: unknown[] }>('a package', { nevra: 'string', findings: 'array' });

export const recheckShape = objectShape<{ dryRun: boolean; checked: number; changed: number; refused: unknown[]; unreadable: unknown[] }>('a check report', {
  dryRun: 'boolean',
  checked: 'number',
  changed: 'number',
  refused: 'array',
  unreadable: 'array',
});

export const mirrorShape = objectShape<{ name: string; baseurl: string }>('a mirror', { name: 'string', baseurl: 'string', keys: 'array' });

export const mirrorListShape = listShape('a list of mirrors', mirrorShape);

export const mirrorSyncShape = objectShape<{ mirror: string; status: string; packages: number; added: number; removed: number; seconds: number }>('a mirror sync', {
  mirror: 'string',
  status: 'string',
  packages: 'number',
  added: 'number',
  removed: 'number',
});

export const mirrorFetchShape = objectShape<{ adopted: unknown[] }>('a mirror fetch report', { adopted: 'array', unknown: 'array', refused: 'array' });

export const deletedSetShape = objectShape<{ deleted: string; level: string }>('a deleted set', { deleted: 'string', level: 'string' });

export const deletedPackageShape = objectShape<{ deleted: string; freedBytes: number }>('a deleted package', { deleted: 'string', freedBytes: 'number' });
