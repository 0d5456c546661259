// How a host's installed packages compare with its package set: one pure function shared by the server
// (which stores each host's summary at report time) and the agent's `check`, so both judge by the same rules.
//
// The rules, per (name, arch):
// - Expected on a host: the set's binary members whose arch is the host's arch or noarch, plus members of
//   the host's multilib arches (i686 on x86_64, ...) only when that name.arch is installed at all.
//   Members of other arches (and source packages) are not expected on this host.
// - missing: an expected member with nothing of its name.arch installed.
// - older / newer: its name.arch is installed, but not at the set's EVR; the installed EVR is lower / higher.
// - different: an installed package whose name is a set component but that matches no member and was not
//   counted as older or newer (a second version left beside the right one, an arch the set does not hold).
// - foreign: an installed package whose name the set does not hold (the OS); drift only when strict.
// EVRs compare as rpm does (compareEvr): an absent epoch is epoch 0.
import { compareEvr } from './rpm/vercmp.ts';

/** A package as rpm -qa names it; epoch null when the package has none. */
export interface PackageTuple {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
}

export interface ConformanceOptions {
  /** The host's rpm arch (`rpm --eval %_arch`, uname -m): x86_64, aarch64, ... */
  arch: string;
  /** Count packages the set does not name (foreign) as drift too. */
  strict?: boolean;
}

/** A set member found installed at another EVR. */
export interface VersionMismatch {
  name: string;
  arch: string;
  /** The set's package. */
  expected: PackageTuple;
  /** What the host has instead. */
  installed: PackageTuple;
}

export interface ConformanceCounts {
  /** Set members expected on this host. */
  expected: number;
  /** Expected members installed at exactly the set's EVR. */
  matched: number;
  missing: number;
  older: number;
  newer: number;
  different: number;
  foreign: number;
}

export interface ConformanceResult {
  /** No missing, older, newer or different package (and, when strict, no foreign one). */
  conforming: boolean;
  strict: boolean;
  counts: ConformanceCounts;
  missing: PackageTuple[];
  older: VersionMismatch[];
  newer: VersionMismatch[];
  different: PackageTuple[];
  foreign: PackageTuple[];
}

/**
 * Secondary arches a 64-bit host may also install (multilib), after dnf's arch tables
 * (dnf/rpm/__init__.py: _BASEARCH_MAP and rpm's rpmrc compatible arches).
 */
export const multilibArches: Readonly<Record<string, readonly string[]>> = {
  x86_64: ['i686', 'i586', 'i486', 'i386', 'athlon'],
  ppc64: ['ppc'],
  s390x: ['s390'],
  sparc64: ['sparcv9', 'sparc'],
};

/** Is a set member of `memberArch` ever expected on a host of `hostArch` (multilib only when installed)? */
export function archRelevance(memberArch: string, hostArch: string): 'expected' | 'if_installed' | 'not_expected' {
  if (memberArch === 'src' || memberArch === 'nosrc') return 'not_expected';
  if (memberArch === hostArch || memberArch === 'noarch') return 'expected';
  if (multilibArches[hostArch]?.includes(memberArch)) return 'if_installed';
  return 'not_expected';
}

export function compareInventory(
  setMembers: readonly PackageTuple[],
  installed: readonly PackageTuple[],
  options: ConformanceOptions,
): ConformanceResult {
  const strict = options.strict === true;
  const componentNames = new Set<string>();
  const expectedByKey = new Map<string, PackageTuple[]>();
  for (const member of setMembers) {
    const relevance = archRelevance(member.arch, options.arch);
    if (member.arch === 'src' || member.arch === 'nosrc') continue;
    // A name the set holds in any arch is a set component, not part of the OS, even where not expected.
    componentNames.add(member.name);
    if (relevance === 'not_expected') continue;
    const key = nameArch(member);
    const list = expectedByKey.get(key);
    if (list) {
      if (!list.some((other) => sameEvr(other, member))) list.push(member);
    } else expectedByKey.set(key, [member]);
  }

  const installedByKey = new Map<string, PackageTuple[]>();
  const foreign: PackageTuple[] = [];
  const different: PackageTuple[] = [];
  for (const pkg of installed) {
    if (!componentNames.has(pkg.name)) {
      foreign.push(pkg);
      continue;
    }
    const key = nameArch(pkg);
    if (!expectedByKey.has(key)) {
      different.push(pkg);
      continue;
    }
    const list = installedByKey.get(key);
    if (list) {
      if (!list.some((other) => sameEvr(other, pkg))) list.push(pkg);
    } else installedByKey.set(key, [pkg]);
  }

  const missing: PackageTuple[] = [];
  const older: VersionMismatch[] = [];
  const newer: VersionMismatch[] = [];
  let expected = 0;
  let matched = 0;
  for (const [key, members] of expectedByKey) {
    const present = installedByKey.get(key) ?? [];
    const multilibOnly = archRelevance(members[0]!.arch, options.arch) === 'if_installed';
    if (present.length === 0) {
      if (!multilibOnly) {
        expected += members.length;
        missing.push(...members);
      }
      continue;
    }
    expected += members.length;
    // Members found at their exact EVR are settled; the rest pair up in EVR order (the lowest expected
    // with the lowest installed), so that two kernels one step behind read as two "older", not a mix.
    const unmatchedMembers = members.filter((member) => !present.some((pkg) => sameEvr(pkg, member))).sort(byEvr);
    const unmatchedInstalled = present.filter((pkg) => !members.some((member) => sameEvr(pkg, member))).sort(byEvr);
    matched += members.length - unmatchedMembers.length;
    const pairs = Math.min(unmatchedMembers.length, unmatchedInstalled.length);
    for (let i = 0; i < pairs; i++) {
      const member = unmatchedMembers[i]!;
      const pkg = unmatchedInstalled[i]!;
      const mismatch: VersionMismatch = { name: member.name, arch: member.arch, expected: member, installed: pkg };
      if (compareEvr(pkg, member) < 0) older.push(mismatch);
      else newer.push(mismatch);
    }
    missing.push(...unmatchedMembers.slice(pairs));
    different.push(...unmatchedInstalled.slice(pairs));
  }

  missing.sort(byNevra);
  older.sort((a, b) => byNevra(a.expected, b.expected));
  newer.sort((a, b) => byNevra(a.expected, b.expected));
  different.sort(byNevra);
  foreign.sort(byNevra);
  const counts: ConformanceCounts = {
    expected,
    matched,
    missing: missing.length,
    older: older.length,
    newer: newer.length,
    different: different.length,
    foreign: foreign.length,
  };
  return { conforming: isConforming(counts, strict), strict, counts, missing, older, newer, different, foreign };
}

/** The verdict from counts alone (what the server stores per host). */
export function isConforming(counts: Omit<ConformanceCounts, 'expected' | 'matched'>, strict: boolean): boolean {
  return counts.missing + counts.older + counts.newer + counts.different === 0 && (!strict || counts.foreign === 0);
}

function nameArch(pkg: PackageTuple): string {
  return `${pkg.name}\0${pkg.arch}`;
}

function sameEvr(a: PackageTuple, b: PackageTuple): boolean {
  return compareEvr(a, b) === 0;
}

function byEvr(a: PackageTuple, b: PackageTuple): number {
  return compareEvr(a, b);
}

function byNevra(a: PackageTuple, b: PackageTuple): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : compareEvr(a, b);
}
