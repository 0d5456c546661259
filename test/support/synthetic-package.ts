// Synthetic packages for database tests: a complete RpmPackage from a name plus overrides, dependencies
// written as spec-file text ("foo >= 1.2", "(a or b)"), and insertion through server/db/packages.ts.
// The repodata fragments are placeholders: these packages are never served.
import { createHash } from 'node:crypto';
import { symbolToSense } from '../../common/rpm/depmatch.ts';
import { formatNevra, formatRpmFileName } from '../../common/rpm/nevra.ts';
import type { Dependency, FileType, RpmPackage } from '../../common/rpm/package.ts';
import { insertPackage, type PackageRow } from '../../server/db/packages.ts';
import type { Queryable } from '../../server/db/queryable.ts';

type DependencyKind = 'provides' | 'requires' | 'conflicts' | 'obsoletes' | 'recommends' | 'suggests' | 'supplements' | 'enhances';

/** Overrides for a synthetic package; dependencies may be given as text, files as paths. */
export type SyntheticPackageSpec = Partial<Omit<RpmPackage, DependencyKind | 'files'>> & {
  name: string;
} & Partial<Record<DependencyKind, (string | Dependency)[]>> & {
    files?: (string | { path: string; type: FileType })[];
  };

/**
 * "name", "name op evr" or a rich dependency "(...)" as a Dependency (rich ones keep the whole text
 * as the name, with no flags, as rpm stores them).
 */
export function dependency(text: string): Dependency {
  const trimmed = text.trim();
  if (trimmed.startsWith('(')) return { name: trimmed, flags: 0, evr: '' };
  const [name, op, evr, ...rest] = trimmed.split(/\s+/);
  if (!name || rest.length > 0 || (op !== undefined && evr === undefined)) throw new Error(`cannot read dependency "${text}"`);
  if (op === undefined) return { name, flags: 0, evr: '' };
  const flags = symbolToSense(op);
  if (flags === null) throw new Error(`unknown operator in "${text}"`);
  return { name, flags, evr: evr! };
}

/** A full RpmPackage: version 1.0, release 1, x86_64, no epoch, no dependencies or files unless given. */
export function syntheticPackage(spec: SyntheticPackageSpec): RpmPackage {
  const deps = (list: (string | Dependency)[] | undefined): Dependency[] =>
    (list ?? []).map((item) => (typeof item === 'string' ? dependency(item) : item));
  const isSource = spec.isSource ?? spec.arch === 'src';
  const version = spec.version ?? '1.0';
  const release = spec.release ?? '1';
  return {
    name: spec.name,
    epoch: spec.epoch ?? null,
    version,
    release,
    arch: isSource ? 'src' : (spec.arch ?? 'x86_64'),
    isSource,
    sourcerpm: isSource ? null : (spec.sourcerpm ?? `${spec.name}-${version}-${release}.src.rpm`),
    summary: spec.summary ?? `${spec.name} summary`,
    description: spec.description ?? `${spec.name} description`,
    url: spec.url ?? '',
    license: spec.license ?? 'MIT',
    vendor: spec.vendor ?? '',
    group: spec.group ?? 'Unspecified',
    packager: spec.packager ?? '',
    buildhost: spec.buildhost ?? 'localhost',
    buildtime: spec.buildtime ?? 1_700_000_000,
    sizes: spec.sizes ?? { package: 1000, installed: 2000, archive: 2100 },
    headerRange: spec.headerRange ?? { start: 4504, end: 5000 },
    provides: deps(spec.provides),
    requires: deps(spec.requires),
    conflicts: deps(spec.conflicts),
    obsoletes: deps(spec.obsoletes),
    recommends: deps(spec.recommends),
    suggests: deps(spec.suggests),
    supplements: deps(spec.supplements),
    enhances: deps(spec.enhances),
    files: (spec.files ?? []).map((file) => (typeof file === 'string' ? { path: file, type: 'file' as const } : file)),
    changelogs: spec.changelogs ?? [],
  };
}

/** Insert a synthetic package as an upload would (fake but unique digests, dummy repodata fragments). */
export async function insertSyntheticPackage(sql: Queryable, spec: SyntheticPackageSpec): Promise<PackageRow> {
  const pkg = syntheticPackage(spec);
  const nevra = formatNevra(pkg);
  const digest = (salt: string): string => createHash('sha256').update(`${salt}:${nevra}`).digest('hex');
  return insertPackage(sql, {
    nevra,
    filename: formatRpmFileName(pkg),
    pkg,
    originalSha256: digest('original'),
    originalSize: pkg.sizes.package,
    sha256: digest('served'),
    size: pkg.sizes.package,
    headerRange: pkg.headerRange,
    signedBy: null,
    uploadedAt: new Date(0),
    uploadedBy: 'test',
    repodata: { primary: '<package/>', filelists: '<package/>', other: '<package/>' },
  });
}
