// Dependency closure of a package set: are the Requires of its binary packages satisfied within the
// set, and, when asked, which packages of the store complete it. Versioned requires match provides as
// rpm does (rangesOverlap), a path is satisfied by a package owning that file or providing that path,
// every binary package provides its own name at its EVR (as libsolv adds it), rich dependencies are
// evaluated with common/rpm/richdep.ts. rpmlib() requires and weak (MISSINGOK) requires are skipped;
// source packages' requires are build requirements and are not checked.
//
// With `mirrors`, the synced upstream packages are candidates too, from their metadata alone (nothing
// is downloaded to resolve): a stored provider is always preferred, and among upstream ones the newest
// build, then the mirror and NEVRA by name (deterministic). Their ids are negative (db/resolve-queries.ts).
//
// Built for big sets: satisfaction does not depend on who requires, so each distinct requirement is
// checked once, against only the provides named by some requirement; who requires it is read only
// when it stays unsatisfied. Then rounds to a fixpoint, each a handful of batched queries: the owners
// of new paths, the store's providers of unsatisfied names, and the dependencies of what was added.
import { RpmgateError } from '../../common/errors.ts';
import { RPMSENSE, isRpmlibDependency, rangesOverlap, senseToSymbol } from '../../common/rpm/depmatch.ts';
import type { Evr } from '../../common/rpm/package.ts';
import {
  evaluateRichDependency,
  isRichDependency,
  parseRichDependency,
  richDependencyAtoms,
  richProviders,
  type RichAtom,
  type RichEvaluationContext,
  type RichNode,
} from '../../common/rpm/richdep.ts';
import { compareEvr, formatEvr } from '../../common/rpm/vercmp.ts';
import type { Queryable } from '../db/queryable.ts';
import {
  findBinaryPackages,
  findDistinctRequires,
  findFileOwners,
  findProvidesAmong,
  findProvidesByName,
  findRequirers,
  findResolveDependencies,
  findResolvePackages,
  type DependencyRow,
  type PackageDependencyRow,
  type ResolvePackageRow,
  type FileOwnerRow,
} from '../db/resolve-queries.ts';

export interface ResolveOptions {
  /** Add packages from the store to satisfy what the set leaves unsatisfied (POST /api/v1/sets `resolve`). */
  addMissing: boolean;
  /**
   * Which provider the store offers: `proven` (the default) the one that reached the highest level,
   * then the newest; `newest` the highest version whatever its level.
   */
  prefer?: 'proven' | 'newest';
  /** Never add a package below this level rank (integ 0 ... release 3). */
  minLevelRank?: number;
  /** Also resolve among the mirrors' synced packages (and accept upstream packages among the members). */
  mirrors?: boolean;
  /**
   * Owners of paths that neither the store nor primary's files name, from the mirrors' full file lists
   * (mirrors/filelists-lookup.ts): asked once per round, for those paths only.
   */
  upstreamFileOwners?: (paths: string[]) => Promise<FileOwnerRow[]>;
}

/** A package added to the set, and the requirement that pulled it in. */
export interface ResolvedPackage {
  id: number;
  nevra: string;
  /** The highest level it reached when it was chosen (levelRank order; -1 obsolete). */
  levelRank: number;
  /** The mirror an upstream package comes from (not stored yet); null for a stored one. */
  mirror: string | null;
  /** The package whose requirement pulled this one in (its nevra), and that requirement as rpm prints it. */
  reason: { requiredBy: string; requirement: string };
}

/** A requirement nothing in the set satisfies: the requiring package and the dependency as rpm prints it. */
export interface UnresolvedRequirement {
  nevra: string;
  requirement: string;
}

export interface ResolveResult {
  /** In the order they were added. */
  added: ResolvedPackage[];
  /** Sorted by package nevra, then requirement. */
  unresolved: UnresolvedRequirement[];
}

export async function resolveSetDependencies(db: Queryable, memberIds: number[], options: ResolveOptions): Promise<ResolveResult> {
  const closure = new SetClosure(db, options);
  let pending = await closure.loadMembers([...new Set(memberIds)]);
  const added: ResolvedPackage[] = [];
  let unsatisfied: Need[];

  for (;;) {
    await closure.prepareChecks(pending);
    unsatisfied = pending.filter((need) => !closure.isSatisfied(need));
    // A plain requirement, once satisfied, stays so: the set only grows. A rich one may not (`if`,
    // `unless`, `without` can turn false when a package arrives), so it is checked every round.
    const open = new Set(unsatisfied);
    pending = pending.filter((need) => need.rich || open.has(need));
    if (unsatisfied.length === 0) break;
    await closure.loadRequirers(unsatisfied);
    if (!options.addMissing) break;

    await closure.fetchProviders(unsatisfied);
    const round: number[] = [];
    for (const { need, requirer } of requirerPairs(unsatisfied)) {
      // Something added for an earlier requirement of this round may satisfy this one.
      if (closure.isSatisfied(need)) continue;
      const chosen = need.node ? closure.plan(need.node, requirer, new Set()) : null;
      if (!chosen) continue;
      for (const id of chosen) {
        const pkg = closure.addMember(id);
        round.push(id);
        added.push({ id, nevra: pkg.nevra, levelRank: pkg.levelRank, mirror: pkg.mirror, reason: { requiredBy: requirer.nevra, requirement: need.text } });
      }
    }
    if (round.length === 0) break;
    pending.push(...(await closure.loadAdded(round)));
  }

  const unresolved = requirerPairs(unsatisfied).map(({ need, requirer }) => ({ nevra: requirer.nevra, requirement: need.text }));
  return { added, unresolved };
}

interface PackageInfo {
  id: number;
  nevra: string;
  evr: Evr;
  arch: string;
  isSource: boolean;
  levelRank: number;
  mirror: string | null;
}

/** One distinct requirement of the set, and the packages requiring it. */
interface Need {
  /** As rpm prints it: "bar >= 2.0", "libfoo.so.1()(64bit)", or the rich dependency's text. */
  text: string;
  /** The atom of a plain requirement, the tree of a rich one; null for a malformed rich one, which nothing satisfies. */
  node: RichNode | null;
  rich: boolean;
  requirers: Map<number, PackageInfo>;
  /** Whether the members of the initial set that require it have been read into `requirers`. */
  requirersLoaded: boolean;
}

interface ProvideEntry {
  packageId: number;
  flags: number;
  evr: string;
}

const noPackages: ReadonlySet<number> = new Set();

/** The state of one resolution: the set so far, and what is known of the store. */
class SetClosure {
  /** Every package whose row was read: the set's packages and the store's candidates. */
  private readonly packages = new Map<number, PackageInfo>();
  /** The binary packages of the set as given (an array: it is a query parameter). */
  private readonly initialMembers: number[] = [];
  private readonly initialMemberSet = new Set<number>();
  /** The binary packages of the set, including those added. */
  private readonly members = new Set<number>();
  private readonly needs = new Map<string, Need>();
  /**
   * Provides by name, from three sources that never overlap: the initial members' provides of the
   * names in `memberNames`, every provide in the store of the names in `storeNames`, and all the
   * provides of the packages in `fullyLoaded` (the added ones). Plus each binary package's own name.
   */
  private readonly provides = new Map<string, ProvideEntry[]>();
  private readonly memberNames = new Set<string>();
  private readonly storeNames = new Set<string>();
  private readonly fullyLoaded = new Set<number>();
  /** Path → the store's binary packages owning it; present once fetched. */
  private readonly fileOwners = new Map<string, number[]>();
  /** Atoms satisfied by members: they stay satisfied, so the many identical ones are matched once. */
  private readonly satisfiedAtoms = new Set<string>();

  constructor(
    private readonly sql: Queryable,
    private readonly options: ResolveOptions,
  ) {}

  async loadMembers(ids: number[]): Promise<Need[]> {
    const rows = await findResolvePackages(this.sql, ids);
    if (rows.length !== ids.length) {
      const found = new Set(rows.map((row) => row.id));
      const missing = ids.filter((id) => !found.has(id));
      throw new RpmgateError('not_found', `Unknown package ids: ${missing.slice(0, 20).join(', ')}`);
    }
    this.addPackageRows(rows);
    for (const row of rows) {
      if (row.is_source) continue;
      this.initialMembers.push(row.id);
      this.initialMemberSet.add(row.id);
      this.members.add(row.id);
    }
    const created = new Set<Need>();
    for (const row of await findDistinctRequires(this.sql, this.initialMembers)) {
      const need = this.needFor(row);
      if (need) created.add(need);
    }
    return [...created];
  }

  /** Before checking needs: the initial members' provides of the names they use, and the owners of their paths. */
  async prepareChecks(needs: Need[]): Promise<void> {
    const names = new Set<string>();
    const paths = new Set<string>();
    for (const need of needs) {
      for (const atom of atomsOf(need)) {
        if (!this.memberNames.has(atom.name) && !this.storeNames.has(atom.name)) names.add(atom.name);
        if (isPath(atom.name) && !this.fileOwners.has(atom.name)) paths.add(atom.name);
      }
    }
    if (names.size > 0) {
      const rows = await findProvidesAmong(this.sql, this.initialMembers, [...names]);
      for (const name of names) this.memberNames.add(name);
      for (const row of rows) this.indexProvide(row);
    }
    if (paths.size > 0) {
      const rows = await findFileOwners(this.sql, [...paths], this.options.mirrors);
      for (const path of paths) this.fileOwners.set(path, []);
      for (const row of rows) this.fileOwners.get(row.path)!.push(row.package_id);
      const unowned = [...paths].filter((path) => this.fileOwners.get(path)!.length === 0);
      if (unowned.length > 0 && this.options.upstreamFileOwners) {
        for (const row of await this.options.upstreamFileOwners(unowned)) this.fileOwners.get(row.path)!.push(row.package_id);
      }
    }
  }

  /** Which initial members require each need, for the needs not read yet. */
  async loadRequirers(needs: Need[]): Promise<void> {
    const toLoad = new Set(needs.filter((need) => !need.requirersLoaded));
    if (toLoad.size === 0) return;
    const names = new Set([...toLoad].map((need) => requiredName(need)));
    for (const row of await findRequirers(this.sql, this.initialMembers, [...names])) {
      const need = this.needs.get(requirementText(row));
      if (need && toLoad.has(need) && !isSkipped(row)) need.requirers.set(row.package_id, this.packages.get(row.package_id)!);
    }
    for (const need of toLoad) need.requirersLoaded = true;
  }

  /** Every provider in the store of the names the needs use, with the providing packages' rows. */
  async fetchProviders(needs: Need[]): Promise<void> {
    const names = new Set<string>();
    const paths = new Set<string>();
    for (const need of needs) {
      for (const atom of atomsOf(need)) {
        if (!this.storeNames.has(atom.name)) names.add(atom.name);
        if (isPath(atom.name)) paths.add(atom.name);
      }
    }
    const rows = await findProvidesByName(this.sql, [...names], this.options.mirrors);
    const candidates = new Set<number>();
    for (const row of rows) {
      candidates.add(row.package_id);
      const indexed = this.fullyLoaded.has(row.package_id) || (this.memberNames.has(row.name) && this.initialMemberSet.has(row.package_id));
      if (!indexed) this.indexProvide(row);
    }
    for (const name of names) this.storeNames.add(name);
    for (const path of paths) for (const owner of this.fileOwners.get(path) ?? []) candidates.add(owner);
    const unknown = [...candidates].filter((id) => !this.packages.has(id));
    // Packages named like an atom provide it implicitly.
    const packageNames = [...names].filter((name) => !isPath(name));
    this.addPackageRows(await findBinaryPackages(this.sql, { ids: unknown, names: packageNames }, this.options.mirrors));
  }

  addMember(id: number): PackageInfo {
    this.members.add(id);
    return this.packages.get(id)!;
  }

  /** Index all the provides of packages just added, and return the needs their requires open. */
  async loadAdded(ids: number[]): Promise<Need[]> {
    const rows = await findResolveDependencies(this.sql, ids);
    for (const id of ids) this.fullyLoaded.add(id);
    const opened = new Set<Need>();
    for (const row of rows) {
      if (row.kind === 'provides') {
        if (!this.storeNames.has(row.name)) this.indexProvide(row);
        continue;
      }
      const existing = this.needs.get(requirementText(row));
      const need = existing ?? this.needFor(row);
      if (!need) continue;
      // A need the initial members did not have needs no look-up of their requirers.
      if (!existing) need.requirersLoaded = true;
      need.requirers.set(row.package_id, this.packages.get(row.package_id)!);
      // An existing need is pending already, or satisfied for good.
      if (!existing) opened.add(need);
    }
    return [...opened];
  }

  isSatisfied(need: Need): boolean {
    const node = need.node;
    if (node === null) return false;
    if (node.kind === 'atom') return this.atomSatisfied(node, noPackages);
    return evaluateRichDependency(node, this.context(noPackages));
  }

  /**
   * The packages to add so that `node` holds for `requirer`, given the set plus `extra`; null when the
   * store cannot satisfy it. An `or` keeps the first alternative that can be satisfied (one already
   * satisfied makes the whole satisfied); `if`/`unless` conditions are evaluated against the set.
   */
  plan(node: RichNode, requirer: PackageInfo, extra: ReadonlySet<number>): number[] | null {
    if (evaluateRichDependency(node, this.context(extra))) return [];
    switch (node.kind) {
      case 'atom':
      case 'with':
      case 'without': {
        const providers = richProviders(node, (atom) => this.providersOf(atom));
        const best = this.bestCandidate(providers, requirer, extra);
        return best ? [best.id] : null;
      }
      case 'and': {
        const chosen: number[] = [];
        const tentative = new Set(extra);
        for (const operand of node.operands) {
          const part = this.plan(operand, requirer, tentative);
          if (part === null) return null;
          for (const id of part) {
            chosen.push(id);
            tentative.add(id);
          }
        }
        return chosen;
      }
      case 'or': {
        for (const operand of node.operands) {
          const part = this.plan(operand, requirer, extra);
          if (part !== null) return part;
        }
        return null;
      }
      case 'if':
      case 'unless': {
        const test = evaluateRichDependency(node.test, this.context(extra));
        const branch = (node.kind === 'if') === test ? node.consequent : node.alternate;
        return branch ? this.plan(branch, requirer, extra) : [];
      }
    }
  }

  /**
   * The store's choice among providers: arch-compatible with the requirer (same arch or noarch; a
   * noarch requirer takes any), at or above the minimum level, not obsolete before obsolete, the highest
   * level reached (proven components first, unless `prefer: newest`), the highest EVR, then the lowest nevra.
   */
  private bestCandidate(providers: Iterable<number>, requirer: PackageInfo, extra: ReadonlySet<number>): PackageInfo | null {
    let best: PackageInfo | null = null;
    for (const id of providers) {
      const pkg = this.packages.get(id);
      if (!pkg || pkg.isSource || this.members.has(id) || extra.has(id)) continue;
      if (!archCompatible(requirer.arch, pkg.arch)) continue;
      if (this.options.minLevelRank !== undefined && pkg.levelRank < this.options.minLevelRank) continue;
      if (best === null || preferCandidate(pkg, best, this.options.prefer ?? 'proven') < 0) best = pkg;
    }
    return best;
  }

  private context(extra: ReadonlySet<number>): RichEvaluationContext<number> {
    return {
      isSatisfied: (atom) => this.atomSatisfied(atom, extra),
      providersOf: (atom) => this.providersOf(atom).filter((id) => this.members.has(id) || extra.has(id)),
    };
  }

  private atomSatisfied(atom: RichAtom, extra: ReadonlySet<number>): boolean {
    // rpm marks rpmlib() atoms of a rich require RPMLIB too (rpmdsParseRichDepCB): rpm's own features.
    if (isRpmlibDependency(atom)) return true;
    const key = `${atom.name}\0${atom.flags}\0${atom.evr}`;
    if (this.satisfiedAtoms.has(key)) return true;
    let byExtra = false;
    for (const id of this.providersOf(atom)) {
      if (this.members.has(id)) {
        this.satisfiedAtoms.add(key);
        return true;
      }
      if (extra.has(id)) byExtra = true;
    }
    return byExtra;
  }

  /** The known packages satisfying an atom: matching provides, and for a path its owners. */
  private providersOf(atom: RichAtom): number[] {
    const ids: number[] = [];
    for (const entry of this.provides.get(atom.name) ?? []) {
      if (rangesOverlap({ name: atom.name, flags: entry.flags, evr: entry.evr }, atom)) ids.push(entry.packageId);
    }
    if (isPath(atom.name)) ids.push(...(this.fileOwners.get(atom.name) ?? []));
    return ids;
  }

  private addPackageRows(rows: ResolvePackageRow[]): void {
    for (const row of rows) {
      if (this.packages.has(row.id)) continue;
      const evr: Evr = { epoch: row.epoch, version: row.version, release: row.release };
      this.packages.set(row.id, { id: row.id, nevra: row.nevra, evr, arch: row.arch, isSource: row.is_source, levelRank: row.level_rank, mirror: row.mirror });
      // rpmbuild writes "name = evr" among the provides; libsolv adds it when missing, and so does this.
      if (!row.is_source) this.indexProvide({ package_id: row.id, name: row.name, flags: RPMSENSE.EQUAL, evr: formatEvr(evr) });
    }
  }

  private indexProvide(row: PackageDependencyRow): void {
    const entry: ProvideEntry = { packageId: row.package_id, flags: row.flags, evr: row.evr };
    const entries = this.provides.get(row.name);
    if (entries) entries.push(entry);
    else this.provides.set(row.name, [entry]);
  }

  /** The need a require row stands for (created on first sight), or null for requires that are not checked. */
  private needFor(row: DependencyRow): Need | null {
    if (isSkipped(row)) return null;
    const text = requirementText(row);
    let need = this.needs.get(text);
    if (!need) {
      const rich = isRichDependency(row.name);
      const node: RichNode | null = rich ? parseRichOrNull(row.name) : { kind: 'atom', name: row.name, flags: row.flags & SENSE_BITS, evr: row.evr };
      need = { text, node, rich, requirers: new Map(), requirersLoaded: false };
      this.needs.set(text, need);
    }
    return need;
  }
}

const SENSE_BITS = RPMSENSE.LESS | RPMSENSE.GREATER | RPMSENSE.EQUAL;

/** rpmlib() requires are rpm's own features; MISSINGOK marks a weak dependency stored as a require. */
function isSkipped(row: DependencyRow): boolean {
  return isRpmlibDependency(row) || (row.flags & RPMSENSE.MISSINGOK) !== 0;
}

/** As rpm prints a dependency (dsDNEVR): "name" or "name op evr"; a rich dependency is its name. */
function requirementText(dep: DependencyRow): string {
  if (isRichDependency(dep.name)) return dep.name;
  return [dep.name, senseToSymbol(dep.flags), dep.evr].filter((part) => part !== '').join(' ');
}

/** The require name a need comes from: the atom's name, or the rich text itself. */
function requiredName(need: Need): string {
  return need.node?.kind === 'atom' ? need.node.name : need.text;
}

function parseRichOrNull(text: string): RichNode | null {
  try {
    return parseRichDependency(text);
  } catch {
    // Reported as unresolved under its own text: nothing can satisfy what cannot be read.
    return null;
  }
}

function atomsOf(need: Need): RichAtom[] {
  const node = need.node;
  if (node === null) return [];
  return node.kind === 'atom' ? [node] : richDependencyAtoms(node);
}

/** Every (need, requirer) pair, by requirer nevra then requirement text. */
function requirerPairs(needs: Need[]): { need: Need; requirer: PackageInfo }[] {
  return needs
    .flatMap((need) => [...need.requirers.values()].map((requirer) => ({ need, requirer })))
    .sort((a, b) => compareText(a.requirer.nevra, b.requirer.nevra) || compareText(a.need.text, b.need.text));
}

function isPath(name: string): boolean {
  return name.startsWith('/');
}

function archCompatible(requirerArch: string, candidateArch: string): boolean {
  return requirerArch === 'noarch' || candidateArch === 'noarch' || candidateArch === requirerArch;
}

/** Negative when `a` is the better candidate. */
function preferCandidate(a: PackageInfo, b: PackageInfo, prefer: 'proven' | 'newest'): number {
  // What the store holds first; an upstream build only when no stored one fits.
  const upstream = Number(a.mirror !== null) - Number(b.mirror !== null);
  if (upstream !== 0) return upstream;
  if (a.mirror !== null && b.mirror !== null) return compareEvr(b.evr, a.evr) || compareText(a.mirror, b.mirror) || compareText(a.nevra, b.nevra);
  const live = Number(b.levelRank >= 0) - Number(a.levelRank >= 0);
  if (live !== 0) return live;
  if (prefer === 'proven' && a.levelRank !== b.levelRank) return b.levelRank - a.levelRank;
  const evr = compareEvr(b.evr, a.evr);
  if (evr !== 0) return evr;
  return compareText(a.nevra, b.nevra);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
