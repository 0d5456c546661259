// Promotion of package sets through the quality levels, by role (INTERFACE.md's matrix): forward one
// level at a time, or to obsolete from anywhere, which is final. Packages' levels follow in the same
// transaction, so the level repositories change on the very next request.
import { RpmgateError } from '../../common/errors.ts';
import { isLevel, levelRank, levels, type Level, type Role } from '../../common/roles.ts';
import type { AppContext } from '../context.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import type { Queryable } from '../db/queryable.ts';
import { listPendingAdoptions } from '../db/set-pending-adoptions.ts';
import {
  findSet,
  insertPromotion,
  listSetMemberIds,
  refreshPackageLevels,
  updateSetLevel,
} from '../db/sets.ts';
import { getSet, type SetDetail } from './sets.ts';
import type { Principal } from './tokens.ts';

/** Who may promote a set to each level. "Promotion to last levels must not be done by development team." */
export const promotionRoles: Record<Exclude<Level, 'integ'>, readonly Role[]> = {
  qa_ready: ['integ', 'admin'],
  pre_release: ['qa', 'release_manager', 'admin'],
  release: ['release_manager', 'admin'],
  obsolete: ['cpe', 'release_manager', 'admin'],
};

export interface PromoteRequest {
  level: Level;
  comment: string;
}

export function parsePromoteRequest(body: Record<string, unknown>): PromoteRequest {
  const { level, comment = '' } = body;
  if (!isLevel(level) || level === 'integ') {
    throw new RpmgateError('bad_request', 'level must be one of qa_ready, pre_release, release, obsolete');
  }
  if (typeof comment !== 'string' || comment.length > 10_000) {
    throw new RpmgateError('bad_request', 'comment must be a string of at most 10,000 characters');
  }
  return { level, comment };
}

export async function promoteSet(
  ctx: AppContext,
  name: string,
  version: string,
  request: PromoteRequest,
  principal: Principal,
): Promise<SetDetail> {
  const target = request.level as Exclude<Level, 'integ'>;
  // Where the set is comes first: "already at release" is the answer whoever asks, not "role may not".
  const current = await findSet(ctx.sql, name, version);
  if (current?.level === 'obsolete') throw new RpmgateError('conflict', `${name}/${version} is obsolete, which is final`);
  if (current && target !== 'obsolete' && levelRank(current.level) >= levelRank(target)) {
    const where = current.level === target ? `already at ${target}` : `already at ${current.level}, past ${target}`;
    throw new RpmgateError('conflict', `${name}/${version} is ${where}: promotion only moves a set forward`);
  }
  const allowed = promotionRoles[target];
  if (!allowed.includes(principal.role)) {
    throw new RpmgateError('forbidden', `role ${principal.role} may not promote to ${target}; allowed: ${allowed.join(', ')}`, {
      allowedRoles: allowed,
    });
  }
  await ctx.sql.begin(async (tx) => {
    const set = await findSet(tx, name, version);
    if (!set) throw new RpmgateError('not_found', `no package set ${name}/${version}`);
    assertStepAllowed(set.level, target, `${name}/${version}`);
    if (target !== 'obsolete') await refuseIncompleteSet(tx, set.id, `${name}/${version}`);
    // Compare-and-set on the level: of two concurrent promotions, one finds the set moved already.
    if (!(await updateSetLevel(tx, set.id, set.level, target))) {
      throw new RpmgateError('conflict', `package set ${name}/${version} was promoted by someone else meanwhile; read it again`);
    }
    await insertPromotion(tx, { setId: set.id, from: set.level, to: target, by: principal.name, comment: request.comment });
    await refreshPackageLevels(tx, await listSetMemberIds(tx, set.id));
    await bumpRepoGeneration(tx, 'levels');
  });
  await ctx.repositories.changed();
  return getSet(ctx.sql, name, version);
}

/**
 * A level past integ promises hosts the whole set: one with upstream members not adopted yet (or
 * refused) stays at integ (sql/0022 refuses it too).
 */
async function refuseIncompleteSet(sql: Queryable, setId: number, label: string): Promise<void> {
  const missing = await listPendingAdoptions(sql, setId);
  if (missing.length === 0) return;
  const failed = missing.filter((row) => row.state === 'failed');
  const sample = (rows: typeof missing) => rows.slice(0, 5).map((row) => row.nevra).join(', ') + (rows.length > 5 ? ', ...' : '');
  const what =
    failed.length > 0
      ? `${failed.length} upstream member(s) were refused (${sample(failed)}): it can never be promoted; create a new version without them`
      : `${missing.length} upstream member(s) are still being adopted (${sample(missing)}): promote it once \`rpmgate set show\` says it is complete`;
  throw new RpmgateError('conflict', `${label} is not complete: ${what}`, {
    pending: missing.map((row) => ({ nevra: row.nevra, mirror: row.mirror_name, state: row.state, lastError: row.last_error })),
  });
}

function assertStepAllowed(from: Level, to: Level, label: string): void {
  if (from === 'obsolete') throw new RpmgateError('conflict', `${label} is obsolete, which is final`);
  if (to === 'obsolete') return;
  if (levelRank(to) !== levelRank(from) + 1) {
    const next = levels[levelRank(from) + 1];
    throw new RpmgateError('conflict', `${label} is at ${from}: it can move to ${next ?? 'nothing further'} or obsolete, not ${to}`);
  }
}
