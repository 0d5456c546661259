// The bootstrap script a new host runs (GET /bootstrap.sh?set=NAME/VERSION): agent/packaging/bootstrap.sh
// with this server's URL, the set and the fingerprints of the keys it publishes filled in, each as one
// single-quoted shell word. Refused before anything reaches a host when the set does not exist or no
// agent package has been published, so that the host's one line is about its own state.
import { readFile } from 'node:fs/promises';
import { agentPackageName } from '../../common/agent-package.ts';
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { hasBinaryPackageNamed } from '../db/packages.ts';
import { findSet } from '../db/sets.ts';
import { setNamePattern, setVersionPattern } from './sets.ts';

const templateUrl = new URL('../../agent/packaging/bootstrap.sh', import.meta.url);
let template: Promise<string> | null = null;

/** Characters a base URL may hold here: it is written into a shell script and .repo files. */
const baseUrlPattern = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/[A-Za-z0-9._~%/-]*)?$/;

export interface BootstrapInput {
  /** The `set` query: NAME/VERSION. */
  set: string;
  /** The server's public URL (RPMGATE_BASE_URL, or the request's origin). */
  baseUrl: string;
}

export async function renderBootstrapScript(ctx: AppContext, input: BootstrapInput): Promise<string> {
  const ref = parseSetQuery(input.set);
  const baseUrl = input.baseUrl.replace(/\/+$/, '');
  if (!baseUrlPattern.test(baseUrl)) throw new RpmgateError('bad_request', 'the server URL holds characters a shell script cannot carry safely');
  if (!(await findSet(ctx.sql, ref.name, ref.version))) throw new RpmgateError('not_found', `no package set ${ref.name}/${ref.version}`);
  if (!(await hasBinaryPackageNamed(ctx.sql, agentPackageName))) {
    throw new RpmgateError('conflict', `no ${agentPackageName} package is published yet: an admin runs rpmgate agent publish FILE`);
  }
  const fingerprints = ctx.keyring.published().map((key) => key.fingerprint.toUpperCase());
  const setRef = `${ref.name}/${ref.version}`;
  const values: Record<string, string> = {
    '@@SERVER@@': shellWord(baseUrl),
    '@@SET@@': shellWord(setRef),
    '@@FINGERPRINTS@@': shellWord(fingerprints.join(',')),
    '@@SERVER_URL@@': baseUrl,
    '@@SET_URL@@': setRef,
  };
  template ??= readFile(templateUrl, 'utf8');
  return (await template).replace(/@@[A-Z_]+@@/g, (placeholder) => {
    const value = values[placeholder];
    if (value === undefined) throw new RpmgateError('internal', `the bootstrap template names an unknown value ${placeholder}`);
    return value;
  });
}

/** NAME/VERSION exactly: one slash, a set name and a set version as sets.ts allows them. */
export function parseSetQuery(value: string): { name: string; version: string } {
  const parts = value.split('/');
  if (parts.length !== 2 || !setNamePattern.test(parts[0]!) || !setVersionPattern.test(parts[1]!)) {
    throw new RpmgateError('bad_request', `set must be NAME/VERSION (letters, digits and ._+-, a version also ~^), not "${value.slice(0, 200)}"`);
  }
  return { name: parts[0]!, version: parts[1]! };
}

/** One single-quoted POSIX shell word. */
function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
