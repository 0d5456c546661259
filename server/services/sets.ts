// Package sets: creation (existence check, sources, dependency closure, one transaction), reading, and
// finding the newest version of a product line at or above a level. Sets never change once created.
import { RpmgateError } from '../../common/errors.ts';
import { isLevel, levelFromRank, levelRank, type Level } from '../../common/roles.ts';
import { rpmvercmp } from '../../common/rpm/vercmp.ts';
import type { AppContext } from '../context.ts';
import type { Queryable } from '../db/queryable.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import {
  findPackagesByNevra,
  findSet,
  findSetUnresolved,
  findSourcesByFilename,
  insertSet,
  listPromotions,
  listSetMembers,
  listSets,
  listSetsAtOrAbove,
  listVersionsEverUsed,
  refreshPackageLevels,
  type PromotionRow,
  type SetMemberRow,
  type SetRow,
  type UnresolvedRequirementRow,
} from '../db/sets.ts';
import { listPendingAdoptions, type PendingAdoptionRow } from '../db/set-pending-adoptions.ts';
import { findUpstreamFileOwners } from '../mirrors/filelists-lookup.ts';
import { anyMirrorSynced, findUpstreamByIds, findUpstreamByNevra, findUpstreamSources, pendingRecord, type UpstreamPackageRow } from '../mirrors/upstream-members.ts';
import { resolveSetDependencies } from './resolve.ts';
import type { Principal } from './tokens.ts';

export const setNamePattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
export const setVersionPattern = /^[A-Za-z0-9][A-Za-z0-9._+~^-]{0,99}$/;
const maxSetSize = 200_000;

export interface CreateSetRequest {
  name: string;
  version: string;
  packages: string[];
  description: string;
  resolve: boolean;
  allowUnresolved: boolean;
  noSources: boolean;
  /** Which provider resolution adds: proven (highest level reached, then newest) or newest. */
  prefer: 'proven' | 'newest';
  /** Resolution adds nothing below this level. */
  minLevel: Level | null;
  /** Refuse members whose entry-check findings hold an error no exception waives. */
  requireClean?: boolean;
}

export interface SetDetail {
  set: SetRow;
  members: SetMemberRow[];
  history: PromotionRow[];
  /** Packages that dependency resolution or source tying added beyond those named. */
  added: { nevra: string; reason: string; level?: Level }[];
  /** Requirements no member satisfies, recorded when the set was created with allowUnresolved. */
  unresolved: UnresolvedRequirementRow[];
  /** Upstream members not in the store yet (pending, or failed for good): not served until adopted. */
  pending: PendingMember[];
}

/**
 * requireClean: members whose stored findings (from upload, or `rpmgate check --all` after a policy or
 * exception change) hold an unwaived error make the creation a 422 naming them.
 */
async function refuseUncleanMembers(sql: Queryable, memberIds: number[]): Promise<void> {
  const unclean = await sql<{ nevra: string; checks: string[] }[]>`
    select p.nevra, array_agg(distinct f.check_id order by f.check_id) as checks
    from package_findings f join packages p on p.id = f.package_id
    where f.package_id = any(${memberIds}) and f.severity = 'error' and f.waived_by is null
    group by p.nevra order by p.nevra`;
  if (unclean.length === 0) return;
  throw new RpmgateError('unprocessable', `requireClean: ${unclean.length} member(s) have unwaived entry-check errors: ${unclean.slice(0, 5).map((row) => `${row.nevra} (${row.checks.join(', ')})`).join('; ')}`, {
    uncleanPackages: unclean,
  });
}

export function parseCreateSetRequest(body: Record<string, unknown>): CreateSetRequest {
  const { name, version, packages } = body;
  if (typeof name !== 'string' || !setNamePattern.test(name)) {
    throw new RpmgateError('bad_request', 'name must be 1 to 100 letters, digits and . _ + - (starting with a letter or digit)');
  }
  if (typeof version !== 'string' || !setVersionPattern.test(version) || version === 'latest') {
    throw new RpmgateError('bad_request', 'version must be 1 to 100 letters, digits and . _ + ~ ^ - (and not "latest")');
  }
  if (!Array.isArray(packages) || packages.length === 0 || packages.some((p) => typeof p !== 'string' || p.length > 512)) {
    throw new RpmgateError('bad_request', 'packages must be a non-empty list of NEVRA strings');
  }
  if (packages.length > maxSetSize) throw new RpmgateError('bad_request', `a set holds at most ${maxSetSize} packages`);
  const description = body.description ?? '';
  if (typeof description !== 'string' || description.length > 10_000) {
    throw new RpmgateError('bad_request', 'description must be a string of at most 10,000 characters');
  }
  return {
    name,
    version,
    packages: [...new Set(packages as string[])],
    description,
    resolve: body.resolve === true,
    allowUnresolved: body.allowUnresolved === true,
    noSources: body.noSources === true,
    prefer: body.prefer === 'newest' ? 'newest' : 'proven',
    minLevel: isLevel(body.minLevel) && body.minLevel !== 'obsolete' ? body.minLevel : null,
    requireClean: body.requireClean === true,
  };
}

export async function createSet(ctx: AppContext, request: CreateSetRequest, creator: Principal): Promise<SetDetail> {
  // Upstream packages (named, or picked by --resolve) are chosen from the mirrors' synced metadata and
  // recorded as pending members; the set answers at once and the set-adoption job fetches, verifies,
  // checks, signs and stores them in the background (Pulp's on_demand, Katello's sync tasks), so that
  // the set soon stops depending on the upstream staying up.
  const mirrors = await anyMirrorSynced(ctx.sql);
  const created = await ctx.sql.begin(async (tx) => {
    // One creation per product line at a time (the unique constraint backs up the exact case): the
    // version check below must see every version of the name.
    await tx`select pg_advisory_xact_lock(hashtextextended(${`set:${request.name}`}, 0))`;
    if (await findSet(tx, request.name, request.version)) {
      throw new RpmgateError('conflict', `package set ${request.name}/${request.version} already exists`);
    }
    await refuseEqualVersion(tx, request.name, request.version);
    const named = await findPackagesByNevra(tx, request.packages);
    const found = new Set(named.map((row) => row.nevra));
    const upstreamNamed = mirrors ? await findUpstreamByNevra(tx, request.packages.filter((nevra) => !found.has(nevra))) : new Map<string, UpstreamPackageRow>();
    if (named.length + upstreamNamed.size !== request.packages.length) {
      const unknown = request.packages.filter((nevra) => !found.has(nevra) && !upstreamNamed.has(nevra));
      throw new RpmgateError('unprocessable', `unknown packages: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`, {
        unknownPackages: unknown,
      });
    }
    // Stored members by id; upstream ones by their negated mirror_packages id (db/resolve-queries.ts).
    const memberIds = new Set(named.map((row) => row.id));
    const upstreamIds = new Set([...upstreamNamed.values()].map((row) => row.id));
    const added: SetDetail['added'] = [...upstreamNamed.values()].map((row) => ({ nevra: row.nevra, reason: `adopted from mirror ${row.mirror_name}` }));

    // --resolve looks among the mirrors for what the store cannot satisfy (not under --min-level: an
    // upstream package has reached no level); resolution reads only metadata, so it stays here.
    const closure = await resolveSetDependencies(tx, [...memberIds, ...[...upstreamIds].map((id) => -id)], {
      addMissing: request.resolve,
      prefer: request.prefer,
      mirrors,
      ...(mirrors ? { upstreamFileOwners: (paths: string[]) => findUpstreamFileOwners(ctx, paths) } : {}),
      ...(request.minLevel ? { minLevelRank: levelRank(request.minLevel) } : {}),
    });
    for (const pkg of closure.added) {
      if (pkg.id > 0) memberIds.add(pkg.id);
      else upstreamIds.add(-pkg.id);
      const reason = `required by ${pkg.reason.requiredBy}: ${pkg.reason.requirement}${pkg.mirror ? ` (adopted from mirror ${pkg.mirror})` : ''}`;
      added.push({ nevra: pkg.nevra, ...(pkg.mirror ? {} : { level: levelFromRank(pkg.levelRank) }), reason });
    }
    if (closure.unresolved.length > 0 && !request.allowUnresolved) {
      const sample = closure.unresolved.slice(0, 5).map((u) => `${u.nevra} requires ${u.requirement}`).join('; ');
      throw new RpmgateError('unprocessable', `unresolved dependencies: ${sample}${closure.unresolved.length > 5 ? '; ...' : ''}`, {
        unresolved: closure.unresolved,
      });
    }
    const upstream = new Map((await findUpstreamByIds(tx, [...upstreamIds])).map((row) => [row.nevra, row]));
    if (!request.noSources) {
      for (const source of await sourcesOfBinaries(tx, [...memberIds])) {
        if (memberIds.has(source.id)) continue;
        memberIds.add(source.id);
        added.push({ nevra: source.nevra, reason: 'source of a member' });
      }
      const sources = await findUpstreamSources(tx, [...upstream.values()]);
      for (const source of sources.stored) {
        if (memberIds.has(source.id)) continue;
        memberIds.add(source.id);
        added.push({ nevra: source.nevra, reason: 'source of a member' });
      }
      for (const source of sources.upstream) {
        if (upstream.has(source.nevra)) continue;
        upstream.set(source.nevra, source);
        added.push({ nevra: source.nevra, reason: `source of a member (adopted from mirror ${source.mirror_name})` });
      }
    }

    if (request.requireClean) await refuseUncleanMembers(tx, [...memberIds]);
    const unresolved = closure.unresolved.map((u) => ({ nevra: u.nevra, requirement: u.requirement }));
    const set = await insertSet(tx, {
      name: request.name,
      version: request.version,
      description: request.description,
      createdBy: creator.name,
      packageIds: [...memberIds],
      includesSources: !request.noSources,
      unresolved,
      pending: [...upstream.values()].map(pendingRecord),
    });
    await refreshPackageLevels(tx, [...memberIds]);
    await bumpRepoGeneration(tx, 'levels');
    const [members, pending] = await Promise.all([listSetMembers(tx, set.id), listPendingAdoptions(tx, set.id)]);
    return { set, members, history: [], added, unresolved, pending: pending.map(pendingMemberView) };
  });
  await ctx.repositories.changed();
  if (created.pending.length > 0) ctx.setAdoptions.kick();
  return created;
}

/** A member not in the store yet, as the set shows it. */
export interface PendingMember {
  nevra: string;
  mirror: string;
  /** pending: being fetched, retried while the upstream fails; failed: refused for good (never served). */
  state: 'pending' | 'failed';
  attempts: number;
  lastError: string | null;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: string | null;
}

function pendingMemberView(row: PendingAdoptionRow): PendingMember {
  return {
    nevra: row.nevra,
    mirror: row.mirror_name,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at.toISOString() : null,
  };
}

/**
 * Versions of a product line are ordered by rpm's comparison, where 1.0, 1.00 and 01.0 are one
 * version: a second spelling would make "the newest at a level" ambiguous, and a deleted set's
 * version respelled would mean other content under the same version. Both are refused.
 */
async function refuseEqualVersion(sql: Queryable, name: string, version: string): Promise<void> {
  const same = (await listVersionsEverUsed(sql, name)).find((used) => rpmvercmp(used.version, version) === 0);
  if (same?.deleted && same.version === version) {
    throw new RpmgateError('conflict', `package set ${name}/${version} existed before and was deleted; a version never changes meaning, use a new version`);
  }
  if (same) {
    const what = same.deleted ? 'existed before and was deleted' : 'exists';
    throw new RpmgateError('conflict', `package set ${name}/${same.version} ${what}, and rpm orders ${version} as the same version; choose another version`, {
      existing: `${name}/${same.version}`,
    });
  }
}

/** The stored SRPMs that the binaries among `packageIds` were built from. */
async function sourcesOfBinaries(sql: Queryable, packageIds: number[]) {
  const rows = await sql<{ sourcerpm: string }[]>`
    select distinct sourcerpm from packages where id = any(${packageIds}) and not is_source and sourcerpm is not null`;
  if (rows.length === 0) return [];
  return findSourcesByFilename(sql, rows.map((row) => row.sourcerpm));
}

export async function getSet(sql: Queryable, name: string, version: string): Promise<SetDetail> {
  const set = await findSet(sql, name, version);
  if (!set) throw new RpmgateError('not_found', `no package set ${name}/${version}`);
  const [members, history, unresolved, pending] = await Promise.all([
    listSetMembers(sql, set.id),
    listPromotions(sql, set.id),
    findSetUnresolved(sql, set.id),
    listPendingAdoptions(sql, set.id),
  ]);
  return { set, members, history, added: [], unresolved, pending: pending.map(pendingMemberView) };
}

/**
 * Sets, optionally of one product line and at or above a level. With a name, versions come newest
 * first by rpm's version comparison, so the first is the product's newest qualified set.
 */
export async function findSets(sql: Queryable, filter: { name?: string; level?: string }): Promise<SetRow[]> {
  if (filter.level !== undefined && !isLevel(filter.level)) {
    throw new RpmgateError('bad_request', `unknown level ${filter.level}: one of integ, qa_ready, pre_release, release, obsolete`);
  }
  const level = filter.level as Level | undefined;
  let rows: SetRow[];
  if (level && level !== 'obsolete' && filter.name) rows = await listSetsAtOrAbove(sql, filter.name, levelRank(level));
  else if (level && level !== 'obsolete') rows = (await listSets(sql, { name: filter.name })).filter((s) => s.level !== 'obsolete' && levelRank(s.level) >= levelRank(level));
  else rows = await listSets(sql, { name: filter.name, level });
  return rows.sort((a, b) => a.name.localeCompare(b.name) || rpmvercmp(b.version, a.version));
}

/** The newest version of a product line at or above a level: the target of a floating channel. */
export async function newestSetAtOrAbove(sql: Queryable, name: string, level: Level): Promise<SetRow | null> {
  const [newest] = await findSets(sql, { name, level });
  return newest ?? null;
}
