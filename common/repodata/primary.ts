// One package's <package> element of primary.xml, rendered once at upload and served by concatenation.
// Two halves, both from createrepo_c 0.17: which dependencies and files the package lists
// (src/parsehdr.c cr_package_from_header, src/misc.c cr_flag_to_str / cr_str_to_evr, src/misc.h
// cr_is_primary) and how libxml2 lays the element out (src/xml_dump_primary.c, src/xml_dump.c).
import type { Dependency, PackageFile, RpmPackage } from '../rpm/package.ts';
import { isPreRequire, RPMSENSE, senseToOperator } from '../rpm/depmatch.ts';
import { rpmvercmp } from '../rpm/vercmp.ts';
import { escapeXmlAttribute as attr, escapeXmlText as text } from './xml-escape.ts';

export interface PrimaryContext {
  /** sha256 hex of the served file: `<checksum type="sha256" pkgid="YES">`. */
  pkgid: string;
  /** `<location href>`, relative to the repository base URL. */
  locationHref: string;
  /** `<time file>`: the file's mtime in seconds (createrepo_c uses st_mtime). */
  fileTime: number;
}

/** The weak and strong dependency lists of primary.xml, in the order createrepo_c writes them. */
export const primaryDependencyKinds = [
  'provides',
  'requires',
  'conflicts',
  'obsoletes',
  'suggests',
  'enhances',
  'recommends',
  'supplements',
] as const;

export type PrimaryDependencyKind = (typeof primaryDependencyKinds)[number];

/** A `<rpm:entry>` as createrepo_c fills it: null attributes are not written. */
export interface PrimaryDependency {
  name: string;
  /** cr_flag_to_str: EQ, LT, LE, GT, GE, or null (unversioned or a combination without a name). */
  flags: string | null;
  epoch: string | null;
  ver: string | null;
  rel: string | null;
  /** Requires only: pre="1". */
  pre: boolean;
}

export type PrimaryDependencies = Record<PrimaryDependencyKind, PrimaryDependency[]>;

/**
 * cr_is_primary (src/misc.h): the files primary.xml lists, so that file requires resolve without
 * filelists.xml. "bin/" anywhere in the path is deliberate: yum expected it (see the comment in src/misc.c).
 */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith('/etc/') || path === '/usr/lib/sendmail' || path.includes('bin/');
}

interface SplitEvr {
  epoch: string | null;
  version: string | null;
  release: string | null;
}

// strtol's view of a number: optional white space, an optional sign, at least one digit.
const STRTOL_NUMBER = /^[ \t\n\v\f\r]*[+-]?[0-9]+$/;

/**
 * cr_str_to_evr (src/misc.c): "" gives nothing; an epoch before the first ':' must be numeric
 * (null = bad epoch: createrepo_c warns and skips the dependency); a missing or empty epoch becomes
 * "0"; the version runs to the FIRST '-' after it, the release is the rest (absent when empty).
 */
function splitDependencyEvr(evr: string): SplitEvr | null {
  if (evr === '') return { epoch: null, version: null, release: null };
  let epoch = '0';
  let rest = evr;
  const colon = evr.indexOf(':');
  if (colon >= 0) {
    const prefix = evr.slice(0, colon);
    if (prefix !== '' && !STRTOL_NUMBER.test(prefix)) return null;
    if (prefix !== '') epoch = prefix;
    rest = evr.slice(colon + 1);
  }
  const dash = rest.indexOf('-');
  if (dash < 0) return { epoch, version: rest, release: null };
  const release = rest.slice(dash + 1);
  return { epoch, version: rest.slice(0, dash), release: release === '' ? null : release };
}

/**
 * cr_compare_dependency (src/parsehdr.c) for two "libc.so.6..." names: 0 same, 1 first is bigger,
 * 2 second is bigger. It compares the text inside the first parentheses from its first digit on, with
 * rpmvercmp; a name without parentheses, or with empty ones, is the smallest.
 */
function compareLibcDependency(dep1: string, dep2: string): 0 | 1 | 2 | -1 {
  let v1 = dep1.indexOf('(');
  let v2 = dep2.indexOf('(');
  if (v1 < 0 && v2 < 0) return 0;
  if (v1 < 0) return 2;
  if (v2 < 0) return 1;
  const e1 = dep1.indexOf(')', v1);
  const e2 = dep2.indexOf(')', v2);
  if (e1 < 0 && e2 < 0) return -1;
  if (e1 < 0) return 2;
  if (e2 < 0) return 1;
  v1++;
  v2++;
  if (v1 === e1 && v2 === e2) return 0;
  if (v1 === e1) return 2;
  if (v2 === e2) return 1;
  v1 = firstDigit(dep1, v1);
  v2 = firstDigit(dep2, v2);
  if (v1 > e1 && v2 > e2) return 0;
  if (v1 > e1) return 2;
  if (v2 > e2) return 1;
  const result = rpmvercmp(dep1.slice(v1, e1), dep2.slice(v2, e2));
  return result === -1 ? 2 : result;
}

function firstDigit(s: string, from: number): number {
  let i = from;
  while (i < s.length && (s.charCodeAt(i) < 0x30 || s.charCodeAt(i) > 0x39)) i++;
  return i;
}

function toPrimaryDependency(dep: Dependency, pre: boolean): PrimaryDependency | null {
  const evr = splitDependencyEvr(dep.evr);
  if (evr === null) return null;
  return { name: dep.name, flags: senseToOperator(dep.flags), epoch: evr.epoch, ver: evr.version, rel: evr.release, pre };
}

/**
 * createrepo_c's key for "is this require one of the package's own provides": name, flags name and raw
 * EVR concatenated without a separator (parsehdr.c `depnfv`), kept as is so that the same pairs match.
 */
function dependencyKey(dep: Dependency): string {
  return `${dep.name}${senseToOperator(dep.flags) ?? ''}${dep.evr}`;
}

/**
 * The dependency lists primary.xml carries, following cr_package_from_header (src/parsehdr.c) in a
 * createrepo_c built with ENABLE_LEGACY_WEAKDEPS (Debian's and Fedora's builds):
 * - any dependency whose EVR has a non-numeric epoch is skipped;
 * - requires: `rpmlib(...)` names are dropped; so is a path that is one of the package's own files and a
 *   primary file; so is a require equal (name, flags name, EVR) to one of the package's provides; so is a
 *   require identical (flags name, EVR, pre) to the last one kept with the same name; a require with
 *   RPMSENSE_MISSINGOK is an old-style weak dependency and goes to recommends (ahead of the real ones);
 *   of the `libc.so.6*` requires only the highest version is kept, and it goes last;
 * - pre="1" when PREREQ, SCRIPT_PRE or SCRIPT_POST is set.
 */
export function selectPrimaryDependencies(pkg: RpmPackage): PrimaryDependencies {
  const result: PrimaryDependencies = {
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    suggests: [],
    enhances: [],
    recommends: [],
    supplements: [],
  };

  const provided = new Set<string>();
  for (const dep of pkg.provides) {
    const entry = toPrimaryDependency(dep, false);
    if (entry === null) continue;
    provided.add(dependencyKey(dep));
    result.provides.push(entry);
  }

  for (const kind of ['conflicts', 'obsoletes'] as const) {
    for (const dep of pkg[kind]) {
      const entry = toPrimaryDependency(dep, false);
      if (entry !== null) result[kind].push(entry);
    }
  }

  const ownFiles = new Set(pkg.files.map((file) => file.path));
  const lastKept = new Map<string, { flags: string | null; evr: string; pre: boolean }>();
  let highestLibc: PrimaryDependency | null = null;
  for (const dep of pkg.requires) {
    if (dep.name.startsWith('rpmlib(')) continue;
    if (dep.name.startsWith('/') && ownFiles.has(dep.name) && isPrimaryFile(dep.name)) continue;
    if (provided.has(dependencyKey(dep))) continue;
    const pre = isPreRequire(dep.flags);
    const flags = senseToOperator(dep.flags);
    const previous = lastKept.get(dep.name);
    if (previous && previous.flags === flags && previous.evr === dep.evr && previous.pre === pre) continue;

    const entry = toPrimaryDependency(dep, pre);
    if (entry === null) continue;
    if (dep.flags & RPMSENSE.MISSINGOK) {
      result.recommends.push({ ...entry, pre: false });
      continue;
    }
    if (dep.name.startsWith('libc.so.6')) {
      if (highestLibc === null || compareLibcDependency(highestLibc.name, dep.name) === 2) highestLibc = entry;
      continue;
    }
    result.requires.push(entry);
    lastKept.set(dep.name, { flags, evr: dep.evr, pre });
  }
  if (highestLibc !== null) result.requires.push(highestLibc);

  for (const kind of ['suggests', 'enhances', 'recommends', 'supplements'] as const) {
    for (const dep of pkg[kind]) {
      const entry = toPrimaryDependency(dep, false);
      if (entry !== null) result[kind].push(entry);
    }
  }
  return result;
}

function renderDependencyList(kind: PrimaryDependencyKind, deps: PrimaryDependency[]): string {
  if (deps.length === 0) return '';
  let entries = '';
  for (const dep of deps) {
    // cr_xml_dump_primary_dump_pco: nameless entries are skipped; epoch/ver/rel only with flags.
    if (dep.name === '') continue;
    entries += `      <rpm:entry name="${attr(dep.name)}"`;
    if (dep.flags) {
      entries += ` flags="${dep.flags}"`;
      if (dep.epoch) entries += ` epoch="${attr(dep.epoch)}"`;
      if (dep.ver) entries += ` ver="${attr(dep.ver)}"`;
      if (dep.rel) entries += ` rel="${attr(dep.rel)}"`;
    }
    if (kind === 'requires' && dep.pre) entries += ' pre="1"';
    entries += '/>\n';
  }
  // libxml2 closes an element without children as <x/>.
  if (entries === '') return `    <rpm:${kind}/>\n`;
  return `    <rpm:${kind}>\n${entries}    </rpm:${kind}>\n`;
}

/** A `<file>` line (cr_xml_dump_files, src/xml_dump.c): type only for dir and ghost. */
export function renderFileLine(file: PackageFile, indent: string): string {
  const type = file.type === 'file' ? '' : ` type="${file.type}"`;
  return `${indent}<file${type}>${text(file.path)}</file>\n`;
}

function textElement(indent: string, name: string, value: string): string {
  return `${indent}<${name}>${text(value)}</${name}>\n`;
}

function integer(value: number, what: string): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be an integer, got ${value}`);
  return String(value);
}

/** The `<package type="rpm">...</package>\n` element of primary.xml, byte for byte as createrepo_c 0.17 writes it. */
export function renderPrimaryPackage(pkg: RpmPackage, ctx: PrimaryContext): string {
  const deps = selectPrimaryDependencies(pkg);
  let out =
    '<package type="rpm">\n' +
    textElement('  ', 'name', pkg.name) +
    textElement('  ', 'arch', pkg.arch) +
    `  <version epoch="${pkg.epoch ?? 0}" ver="${attr(pkg.version)}" rel="${attr(pkg.release)}"/>\n` +
    `  <checksum type="sha256" pkgid="YES">${text(ctx.pkgid)}</checksum>\n` +
    textElement('  ', 'summary', pkg.summary) +
    textElement('  ', 'description', pkg.description) +
    textElement('  ', 'packager', pkg.packager) +
    textElement('  ', 'url', pkg.url) +
    `  <time file="${integer(ctx.fileTime, 'fileTime')}" build="${integer(pkg.buildtime, 'buildtime')}"/>\n` +
    `  <size package="${integer(pkg.sizes.package, 'sizes.package')}" installed="${integer(pkg.sizes.installed, 'sizes.installed')}" archive="${integer(pkg.sizes.archive, 'sizes.archive')}"/>\n` +
    `  <location href="${attr(ctx.locationHref)}"/>\n` +
    '  <format>\n' +
    textElement('    ', 'rpm:license', pkg.license) +
    textElement('    ', 'rpm:vendor', pkg.vendor) +
    textElement('    ', 'rpm:group', pkg.group) +
    textElement('    ', 'rpm:buildhost', pkg.buildhost) +
    textElement('    ', 'rpm:sourcerpm', pkg.sourcerpm ?? '') +
    `    <rpm:header-range start="${integer(pkg.headerRange.start, 'headerRange.start')}" end="${integer(pkg.headerRange.end, 'headerRange.end')}"/>\n`;
  for (const kind of primaryDependencyKinds) out += renderDependencyList(kind, deps[kind]);
  for (const file of pkg.files) {
    if (isPrimaryFile(file.path)) out += renderFileLine(file, '    ');
  }
  return `${out}  </format>\n</package>\n`;
}
