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
import { fetchFromMirrors } from '../mirrors/adopt.ts';
import { adoptUpstreamProviders } from '../mirrors/resolve-upstream.ts';
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
  // Named upstream packages are adopted first (fetched, verified, checked on entry, signed, stored),
  // with their sources: the set then holds ordinary stored packages and never depends on the upstream.
  const upstream = await fetchFromMirrors(ctx, request.packages, creator);
  if (upstream.refused.length > 0) {
    throw new RpmgateError('unprocessable', `upstream packages refused: ${upstream.refused.slice(0, 5).map((r) => `${r.nevra} (${r.reason})`).join('; ')}`, {
      refusedPackages: upstream.refused,
    });
  }
  const fromMirrors = upstream.adopted.map((a) => ({ nevra: a.nevra, reason: `adopted from mirror ${a.mirror}` }));
  // --resolve looks among the mirrors for what the store cannot satisfy (not under --min-level:
  // an adopted package has reached no level). What it adopts, the resolution below finds stored.
  const resolvedUpstream =
    request.resolve && !request.minLevel ? await adoptUpstreamProviders(ctx, request.packages, { prefer: request.prefer }, creator) : null;
  const created = await ctx.sql.begin(async (tx) => {
    // One creation per product line at a time (the unique constraint backs up the exact case): the
    // version check below must see every version of the name.
    await tx`select pg_advisory_xact_lock(hashtextextended(${`set:${request.name}`}, 0))`;
    if (await findSet(tx, request.name, request.version)) {
      throw new RpmgateError('conflict', `package set ${request.name}/${request.version} already exists`);
    }
    await refuseEqualVersion(tx, request.name, request.version);
    const named = await findPackagesByNevra(tx, request.packages);
    if (named.length !== request.packages.length) {
      const found = new Set(named.map((row) => row.nevra));
      const unknown = request.packages.filter((nevra) => !found.has(nevra));
      throw new RpmgateError('unprocessable', `unknown packages: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`, {
        unknownPackages: unknown,
      });
    }
    const memberIds = new Set(named.map((row) => row.id));
    const added: SetDetail['added'] = [...fromMirrors];

    const closure = await resolveSetDependencies(tx, [...memberIds], {
      addMissing: request.resolve,
      prefer: request.prefer,
      ...(request.minLevel ? { minLevelRank: levelRank(request.minLevel) } : {}),
    });
    for (const pkg of closure.added) {
      memberIds.add(pkg.id);
      const mirror = resolvedUpstream?.adopted.get(pkg.nevra)?.mirror;
      const reason = `required by ${pkg.reason.requiredBy}: ${pkg.reason.requirement}${mirror ? ` (adopted from mirror ${mirror})` : ''}`;
      added.push({ nevra: pkg.nevra, level: levelFromRank(pkg.levelRank), reason });
    }
    if (closure.unresolved.length > 0 && !request.allowUnresolved) {
      const sample = closure.unresolved.slice(0, 5).map((u) => `${u.nevra} requires ${u.requirement}`).join('; ');
      const refused = resolvedUpstream?.refused ?? [];
      const refusedNote = refused.length > 0 ? ` (upstream candidates refused: ${refused.slice(0, 3).map((r) => `${r.nevra}: ${r.reason}`).join('; ')})` : '';
      throw new RpmgateError('unprocessable', `unresolved dependencies: ${sample}${closure.unresolved.length > 5 ? '; ...' : ''}${refusedNote}`, {
        unresolved: closure.unresolved,
        ...(refused.length > 0 ? { refusedPackages: refused } : {}),
      });
    }
    if (!request.noSources) {
      for (const source of await sourcesOfBinaries(tx, [...memberIds])) {
        if (memberIds.has(source.id)) continue;
        memberIds.add(source.id);
        added.push({ nevra: source.nevra, reason: 'source of a member' });
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
    });
    await refreshPackageLevels(tx, [...memberIds]);
    await bumpRepoGeneration(tx, 'levels');
    return { set, members: await listSetMembers(tx, set.id), history: [], added, unresolved };
  });
  await ctx.repositories.changed();
  return created;
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
  const [members, history, unresolved] = await Promise.all([listSetMembers(sql, set.id), listPromotions(sql, set.id), findSetUnresolved(sql, set.id)]);
  return { set, members, history, added: [], unresolved };
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
