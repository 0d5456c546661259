// Dependency closure of a package set: are the Requires of its binary packages satisfied within the
// set, and, when asked, which packages of the store complete it. Versioned requires match provides as
// rpm does (rangesOverlap), a path is satisfied by a package owning that file or providing that path,
// every binary package provides its own name at its EVR (as libsolv adds it), rich dependencies are
// evaluated with common/rpm/richdep.ts. rpmlib() requires and weak (MISSINGOK) requires are skipped;
// source packages' requires are build requirements and are not checked.
//
// Rounds to a fixpoint, each a handful of batched queries whatever the set's size: the members'
// provides and requires are loaded once; then per round, the owners of the paths still to check, the
// store's providers of the names still unsatisfied, and the provides and requires of what was added.
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
  findFileOwners,
  findProvidesByName,
  findResolveDependencies,
  findResolvePackages,
  type ResolveDependencyRow,
  type ResolvePackageRow,
} from '../db/resolve-queries.ts';

export interface ResolveOptions {
  /** Add packages from the store to satisfy what the set leaves unsatisfied (POST /api/v1/sets `resolve`). */
  addMissing: boolean;
}

/** A package added to the set, and the requirement that pulled it in. */
export interface ResolvedPackage {
  id: number;
  nevra: string;
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
  const closure = new SetClosure(db);
  let pending = await closure.loadMembers([...new Set(memberIds)]);
  const added: ResolvedPackage[] = [];
  let unsatisfied: Requirement[];

  for (;;) {
    await closure.fetchFileOwners(pending);
    unsatisfied = pending.filter((requirement) => !closure.isSatisfied(requirement));
    // A plain requirement, once satisfied, stays so: the set only grows. A rich one may not (`if`,
    // `unless`, `without` can turn false when a package arrives), so it is checked every round.
    const open = new Set(unsatisfied);
    pending = pending.filter((requirement) => requirement.rich || open.has(requirement));
    if (!options.addMissing || unsatisfied.length === 0) break;

    await closure.fetchProviders(unsatisfied);
    const round: number[] = [];
    for (const requirement of unsatisfied.sort(byRequirerThenText)) {
      // Something added for an earlier requirement of this round may satisfy this one.
      if (closure.isSatisfied(requirement)) continue;
      const chosen = requirement.node ? closure.plan(requirement.node, requirement.requirer, new Set()) : null;
      if (!chosen) continue;
      for (const id of chosen) {
        const pkg = closure.addMember(id);
        round.push(id);
        added.push({ id, nevra: pkg.nevra, reason: { requiredBy: requirement.requirer.nevra, requirement: requirement.text } });
      }
    }
    if (round.length === 0) break;
    pending.push(...(await closure.loadDependencies(round)));
  }

  const seen = new Set<string>();
  const unresolved: UnresolvedRequirement[] = [];
  for (const requirement of unsatisfied.sort(byRequirerThenText)) {
    const key = `${requirement.requirer.nevra}\n${requirement.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unresolved.push({ nevra: requirement.requirer.nevra, requirement: requirement.text });
  }
  return { added, unresolved };
}

interface PackageInfo {
  id: number;
  nevra: string;
  evr: Evr;
  arch: string;
  isSource: boolean;
  levelRank: number;
}

interface Requirement {
  requirer: PackageInfo;
  /** As rpm prints it: "bar >= 2.0", "libfoo.so.1()(64bit)", or the rich dependency's text. */
  text: string;
  /** null for a malformed rich dependency, which nothing satisfies. */
  node: RichNode | null;
  rich: boolean;
}

interface ProvideEntry {
  packageId: number;
  flags: number;
  evr: string;
}

/** The state of one resolution: the set so far, and what is known of the store. */
class SetClosure {
  /** Every package whose row was read: the set's members and the store's candidates. */
  private readonly packages = new Map<number, PackageInfo>();
  /** The binary packages of the set, including those added. */
  private readonly members = new Set<number>();
  /** Provides by name. A name's entries cover the members (and the added), or the whole store once it is fetched. */
  private readonly provides = new Map<string, ProvideEntry[]>();
  /** Packages whose provides are all indexed. */
  private readonly fullyLoaded = new Set<number>();
  /** Names whose providers across the store are indexed. */
  private readonly fetchedNames = new Set<string>();
  /** Path → the store's binary packages owning it; present once fetched. */
  private readonly fileOwners = new Map<string, number[]>();
  /** Atoms satisfied by members: they stay satisfied, so the many identical requires are matched once. */
  private readonly satisfiedAtoms = new Set<string>();
  private readonly richCache = new Map<string, RichNode | null>();

  constructor(private readonly sql: Queryable) {}

  async loadMembers(ids: number[]): Promise<Requirement[]> {
    const rows = await findResolvePackages(this.sql, ids);
    if (rows.length !== ids.length) {
      const found = new Set(rows.map((row) => row.id));
      const missing = ids.filter((id) => !found.has(id));
      throw new RpmgateError('not_found', `Unknown package ids: ${missing.slice(0, 20).join(', ')}`);
    }
    this.addPackageRows(rows);
    const binaries = rows.filter((row) => !row.is_source).map((row) => row.id);
    for (const id of binaries) this.members.add(id);
    return this.loadDependencies(binaries);
  }

  /** Index the provides of packages now in the set and return their requires. */
  async loadDependencies(packageIds: number[]): Promise<Requirement[]> {
    const rows = await findResolveDependencies(this.sql, packageIds);
    for (const id of packageIds) this.fullyLoaded.add(id);
    return this.ingestDependencies(rows);
  }

  addMember(id: number): PackageInfo {
    this.members.add(id);
    return this.packages.get(id)!;
  }

  /** Owners of the paths that requirements name, for the paths not fetched yet. */
  async fetchFileOwners(requirements: Requirement[]): Promise<void> {
    const paths = new Set<string>();
    for (const requirement of requirements) {
      for (const atom of atomsOf(requirement)) {
        if (isPath(atom.name) && !this.fileOwners.has(atom.name)) paths.add(atom.name);
      }
    }
    if (paths.size === 0) return;
    const rows = await findFileOwners(this.sql, [...paths]);
    for (const path of paths) this.fileOwners.set(path, []);
    for (const row of rows) this.fileOwners.get(row.path)!.push(row.package_id);
  }

  /** Every provider in the store of the names the requirements name, with the providing packages' rows. */
  async fetchProviders(requirements: Requirement[]): Promise<void> {
    const names = new Set<string>();
    const paths = new Set<string>();
    for (const requirement of requirements) {
      for (const atom of atomsOf(requirement)) {
        if (!this.fetchedNames.has(atom.name)) names.add(atom.name);
        if (isPath(atom.name)) paths.add(atom.name);
      }
    }
    const provides = await findProvidesByName(this.sql, [...names]);
    for (const name of names) this.fetchedNames.add(name);
    const candidates = new Set<number>();
    for (const row of provides) {
      candidates.add(row.package_id);
      // A fully loaded package's provides are indexed already.
      if (!this.fullyLoaded.has(row.package_id)) this.indexProvide(row.name, { packageId: row.package_id, flags: row.flags, evr: row.evr });
    }
    for (const path of paths) for (const owner of this.fileOwners.get(path) ?? []) candidates.add(owner);
    const unknown = [...candidates].filter((id) => !this.packages.has(id));
    // Packages named like an atom provide it implicitly.
    const packageNames = [...names].filter((name) => !isPath(name));
    this.addPackageRows(await findBinaryPackages(this.sql, { ids: unknown, names: packageNames }));
  }

  isSatisfied(requirement: Requirement): boolean {
    return requirement.node !== null && evaluateRichDependency(requirement.node, this.context(new Set()));
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
   * noarch requirer takes any), not obsolete before obsolete, the highest EVR, then the lowest nevra.
   */
  private bestCandidate(providers: Iterable<number>, requirer: PackageInfo, extra: ReadonlySet<number>): PackageInfo | null {
    let best: PackageInfo | null = null;
    for (const id of providers) {
      const pkg = this.packages.get(id);
      if (!pkg || pkg.isSource || this.members.has(id) || extra.has(id)) continue;
      if (!archCompatible(requirer.arch, pkg.arch)) continue;
      if (best === null || preferCandidate(pkg, best) < 0) best = pkg;
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
      this.packages.set(row.id, {
        id: row.id,
        nevra: row.nevra,
        evr,
        arch: row.arch,
        isSource: row.is_source,
        levelRank: row.level_rank,
      });
      // rpmbuild writes "name = evr" among the provides; libsolv adds it when missing, and so does this.
      if (!row.is_source) this.indexProvide(row.name, { packageId: row.id, flags: RPMSENSE.EQUAL, evr: formatEvr(evr) });
    }
  }

  private indexProvide(name: string, entry: ProvideEntry): void {
    const entries = this.provides.get(name);
    if (entries) entries.push(entry);
    else this.provides.set(name, [entry]);
  }

  private ingestDependencies(rows: ResolveDependencyRow[]): Requirement[] {
    const requirements: Requirement[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      if (row.kind === 'provides') {
        if (!this.fetchedNames.has(row.name)) this.indexProvide(row.name, { packageId: row.package_id, flags: row.flags, evr: row.evr });
        continue;
      }
      // rpmlib() requires are rpm's own features; MISSINGOK marks a weak dependency stored as a require.
      if (isRpmlibDependency(row) || (row.flags & RPMSENSE.MISSINGOK) !== 0) continue;
      const requirer = this.packages.get(row.package_id)!;
      const rich = isRichDependency(row.name);
      const text = rich ? row.name : formatDependency(row);
      const key = `${row.package_id}\n${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const node: RichNode | null = rich ? this.parseRich(row.name) : { kind: 'atom', name: row.name, flags: row.flags & SENSE_BITS, evr: row.evr };
      requirements.push({ requirer, text, node, rich });
    }
    return requirements;
  }

  private parseRich(text: string): RichNode | null {
    if (!this.richCache.has(text)) {
      let node: RichNode | null = null;
      try {
        node = parseRichDependency(text);
      } catch {
        // Reported as unresolved under its own text: nothing can satisfy what cannot be read.
      }
      this.richCache.set(text, node);
    }
    return this.richCache.get(text)!;
  }
}

const SENSE_BITS = RPMSENSE.LESS | RPMSENSE.GREATER | RPMSENSE.EQUAL;

function atomsOf(requirement: Requirement): RichAtom[] {
  const node = requirement.node;
  if (node === null) return [];
  return node.kind === 'atom' ? [node] : richDependencyAtoms(node);
}

function isPath(name: string): boolean {
  return name.startsWith('/');
}

function archCompatible(requirerArch: string, candidateArch: string): boolean {
  return requirerArch === 'noarch' || candidateArch === 'noarch' || candidateArch === requirerArch;
}

/** Negative when `a` is the better candidate. */
function preferCandidate(a: PackageInfo, b: PackageInfo): number {
  const live = Number(b.levelRank >= 0) - Number(a.levelRank >= 0);
  if (live !== 0) return live;
  const evr = compareEvr(b.evr, a.evr);
  if (evr !== 0) return evr;
  return compareText(a.nevra, b.nevra);
}

/** As rpm prints a dependency (dsDNEVR): "name", "name op evr". */
function formatDependency(dep: { name: string; flags: number; evr: string }): string {
  const op = senseToSymbol(dep.flags);
  return [dep.name, op, dep.evr].filter((part) => part !== '').join(' ');
}

function byRequirerThenText(a: Requirement, b: Requirement): number {
  return compareText(a.requirer.nevra, b.requirer.nevra) || compareText(a.text, b.text);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
