// `set create --resolve` across the mirrors: what no stored package satisfies is looked for among the
// synced upstream packages, and the newest upstream build that satisfies it is adopted (fetched,
// verified, checked on entry, signed, stored like an upload, its SRPM with it); then the closure is
// computed again, since what was adopted has requirements of its own, until nothing more can be added.
// The store is always asked first: an upstream package is adopted only for a requirement no stored
// package satisfies, and the set's own resolution then picks it from the store like any other.
// Plain requirements (a name, a path, a versioned name) are looked for upstream; rich ones are left
// to the store.
import { RPMSENSE, rangesOverlap, symbolToSense } from '../../common/rpm/depmatch.ts';
import { parseNevra } from '../../common/rpm/nevra.ts';
import { compareEvr } from '../../common/rpm/vercmp.ts';
import type { AppContext } from '../context.ts';
import { findPackagesByNevra } from '../db/sets.ts';
import type { Queryable } from '../db/queryable.ts';
import type { ResolveOptions, UnresolvedRequirement } from '../services/resolve.ts';
import { resolveSetDependencies } from '../services/resolve.ts';
import type { Principal } from '../services/tokens.ts';
import { fetchFromMirrors, type FetchReport } from './adopt.ts';

/** Rounds of adoption at most: each adds a layer of the upstream dependency tree. */
const maxRounds = 30;

export interface UpstreamResolution {
  /** Adopted upstream packages by NEVRA: the mirror, and the requirement that pulled each in. */
  adopted: Map<string, { mirror: string; requiredBy: string; requirement: string }>;
  /** Upstream candidates the entry checks (or the upstream) refused. */
  refused: FetchReport['refused'];
}

interface PlainNeed {
  name: string;
  flags: number;
  evr: string;
  /** The arch of the package that requires it: a provider must be of that arch or noarch. */
  arch: string;
  requiredBy: string;
  requirement: string;
}

interface Candidate {
  nevra: string;
  mirror: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  /** What it provides that was asked for: a name with its flags and EVR, or a path (flags 0). */
  provideName: string;
  provideFlags: number;
  provideEvr: string;
}

export async function adoptUpstreamProviders(
  ctx: AppContext,
  named: readonly string[],
  options: Pick<ResolveOptions, 'prefer'>,
  principal: Principal,
): Promise<UpstreamResolution> {
  const result: UpstreamResolution = { adopted: new Map(), refused: [] };
  const [synced] = await ctx.sql<{ any: boolean }[]>`select exists (select from mirrors where synced_at is not null) as any`;
  if (!synced?.any) return result;
  const tried = new Set<string>();
  for (let round = 0; round < maxRounds; round++) {
    const members = await findPackagesByNevra(ctx.sql, [...new Set([...named, ...result.adopted.keys()])]);
    const closure = await resolveSetDependencies(ctx.sql, members.map((row) => row.id), { addMissing: true, prefer: options.prefer });
    const needs = closure.unresolved.map(plainNeed).filter((need): need is PlainNeed => need !== null);
    const picks = new Map<string, PlainNeed & { mirror: string }>();
    for (const [need, candidate] of await chooseProviders(ctx.sql, needs)) {
      if (tried.has(candidate.nevra) || picks.has(candidate.nevra)) continue;
      picks.set(candidate.nevra, { ...need, mirror: candidate.mirror });
    }
    if (picks.size === 0) break;
    for (const nevra of picks.keys()) tried.add(nevra);
    const report = await fetchFromMirrors(ctx, [...picks.keys()], principal);
    for (const adopted of report.adopted) {
      const need = picks.get(adopted.nevra)!;
      result.adopted.set(adopted.nevra, { mirror: adopted.mirror, requiredBy: need.requiredBy, requirement: need.requirement });
    }
    result.refused.push(...report.refused);
    if (report.adopted.length === 0) break;
  }
  return result;
}

/** "name", "name >= 1.0-1", "/usr/bin/x" as rpm prints them; null for a rich dependency. */
function plainNeed(unresolved: UnresolvedRequirement): PlainNeed | null {
  const text = unresolved.requirement;
  if (text.startsWith('(')) return null;
  const versioned = /^(.+) (<|<=|=|>=|>) (\S+)$/.exec(text);
  const arch = parseNevra(unresolved.nevra).arch;
  const base = { arch, requiredBy: unresolved.nevra, requirement: text };
  if (!versioned) return { name: text, flags: 0, evr: '', ...base };
  return { name: versioned[1]!, flags: symbolToSense(versioned[2]!) ?? 0, evr: versioned[3]!, ...base };
}

/** For each need the upstream can meet, the newest satisfying build (then its arch, mirror and NEVRA: deterministic). */
async function chooseProviders(sql: Queryable, needs: PlainNeed[]): Promise<[PlainNeed, Candidate][]> {
  if (needs.length === 0) return [];
  const names = [...new Set(needs.map((need) => need.name))];
  const rows = await sql<Candidate[]>`
    select p.nevra, m.name as mirror, p.epoch, p.version, p.release, p.arch,
           d.name as "provideName", d.flags as "provideFlags", d.evr as "provideEvr"
    from mirror_package_dependencies d
    join mirror_packages p on p.id = d.mirror_package_id
    join mirrors m on m.id = p.mirror_id
    where d.kind = 'provides' and d.name = any(${names}) and not p.is_source
    union all
    select p.nevra, m.name, p.epoch, p.version, p.release, p.arch,
           p.name, ${RPMSENSE.EQUAL}::int, concat_ws(':', p.epoch, p.version || '-' || p.release)
    from mirror_packages p join mirrors m on m.id = p.mirror_id
    where p.name = any(${names}) and not p.is_source
    union all
    select p.nevra, m.name, p.epoch, p.version, p.release, p.arch, f.path, 0, ''
    from mirror_package_files f
    join mirror_packages p on p.id = f.mirror_package_id
    join mirrors m on m.id = p.mirror_id
    where f.path = any(${names.filter((name) => name.startsWith('/'))}) and not p.is_source`;
  const chosen: [PlainNeed, Candidate][] = [];
  for (const need of needs) {
    const fitting = rows.filter(
      (row) =>
        (row.arch === need.arch || row.arch === 'noarch' || need.arch === 'noarch') &&
        rangesOverlap({ name: row.provideName, flags: row.provideFlags, evr: row.provideEvr }, { name: need.name, flags: need.flags, evr: need.evr }),
    );
    fitting.sort((a, b) => {
      const byEvr = compareEvr(evrOf(b), evrOf(a));
      if (byEvr !== 0) return byEvr;
      const archRank = (row: Candidate) => (row.arch === need.arch ? 0 : row.arch === 'noarch' ? 1 : 2);
      return archRank(a) - archRank(b) || a.mirror.localeCompare(b.mirror) || a.nevra.localeCompare(b.nevra);
    });
    if (fitting[0]) chosen.push([need, fitting[0]]);
  }
  return chosen;
}

function evrOf(row: Candidate) {
  return { epoch: row.epoch, version: row.version, release: row.release };
}
