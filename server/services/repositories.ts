// Which repository a URL names, and the content generation its repodata is cached by:
// a level repository (cumulative), a set repository (pinned), or a product channel (floating).
import { RpmgateError } from '../../common/errors.ts';
import { isLevel, levelRank, type Level } from '../../common/roles.ts';
import type { Queryable } from '../db/queryable.ts';
import { readRepoGenerations } from '../db/repo-generations.ts';
import { findSet, type SetRow } from '../db/sets.ts';
import type { RepoRequest } from '../repodata/cache.ts';
import { newestSetAtOrAbove } from './sets.ts';

export type RepoAddress =
  | { kind: 'level'; level: string; source: boolean }
  | { kind: 'set'; name: string; version: string; source: boolean }
  | { kind: 'channel'; name: string; level: string; source: boolean };

export interface ResolvedRepo {
  request: RepoRequest;
  /** The set behind a set repository or channel. */
  set: SetRow | null;
  /** Human name for .repo files and logs. */
  title: string;
}

export async function resolveRepo(sql: Queryable, address: RepoAddress): Promise<ResolvedRepo> {
  const generations = await readRepoGenerations(sql);
  const suffix = address.source ? '/source' : '';
  if (address.kind === 'level') {
    const level = requireServedLevel(address.level);
    const changedAt = Math.max(generations.levels.changedAt.getTime(), generations.packages.changedAt.getTime());
    return {
      request: {
        id: `level/${level}${suffix}`,
        selector: { kind: 'level', rank: levelRank(level), source: address.source },
        generation: `${generations.levels.generation}.${generations.packages.generation}`,
        timestamp: Math.floor(changedAt / 1000),
      },
      set: null,
      title: `level ${level}${address.source ? ' (sources)' : ''}`,
    };
  }
  const set = address.kind === 'set' ? await findSet(sql, address.name, address.version) : await newestSetAtOrAbove(sql, address.name, requireServedLevel(address.level));
  if (!set) {
    throw new RpmgateError(
      'not_found',
      address.kind === 'set' ? `no package set ${address.name}/${address.version}` : `no set of ${address.name} at ${address.level} or above`,
    );
  }
  const changedAt = Math.max(set.created_at.getTime(), generations.packages.changedAt.getTime());
  return {
    request: {
      id: `set/${set.id}${suffix}`,
      selector: { kind: 'set', setId: set.id, source: address.source },
      generation: String(generations.packages.generation),
      timestamp: Math.floor(changedAt / 1000),
    },
    set,
    title: `set ${set.name}/${set.version}${address.source ? ' (sources)' : ''}`,
  };
}

/** Levels that have a repository: every forward level (obsolete packages are in none). */
function requireServedLevel(level: string): Level {
  if (!isLevel(level) || level === 'obsolete') {
    throw new RpmgateError('not_found', `no level repository "${level}": one of integ, qa_ready, pre_release, release`);
  }
  return level;
}
