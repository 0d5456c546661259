// Maps checked headers to the package model: the fields createrepo_c reads in cr_package_from_header
// (src/parsehdr.c), with the same choices (sizes, file types, source detection), and the parallel
// arrays (dependency names/flags/versions, file names/modes/flags, changelog times/names/texts)
// checked against each other so that a damaged header cannot silently lose or shift entries.
import { RpmFormatError } from '../errors.ts';
import type { RpmLead } from './lead.ts';
import type { RpmHeader } from './header.ts';
import type { ChangelogEntry, Dependency, FileType, PackageFile, RpmPackage } from './package.ts';
import * as T from './tags.ts';

/** Tags whose text must be valid UTF-8: they name the package, and a repaired name would not be rpm's. */
const identityTags = [T.RPMTAG_NAME, T.RPMTAG_VERSION, T.RPMTAG_RELEASE, T.RPMTAG_ARCH] as const;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

export function packageFromHeaders(lead: RpmLead, signature: RpmHeader, main: RpmHeader, packageSize: number): RpmPackage {
  const name = requiredText(main, T.RPMTAG_NAME);
  const version = requiredText(main, T.RPMTAG_VERSION);
  const release = requiredText(main, T.RPMTAG_RELEASE);
  const epoch = main.number(T.RPMTAG_EPOCH) ?? null;
  const sourcerpm = main.string(T.RPMTAG_SOURCERPM) || null;
  // The corpus README's rule: a source package has lead type 1 or no SOURCERPM (rpm's own
  // headerIsSource), or says so in SOURCEPACKAGE (what createrepo_c reads after rpm's retrofits).
  const isSource = lead.type === 1 || sourcerpm === null || (main.number(T.RPMTAG_SOURCEPACKAGE) ?? 0) !== 0;
  const arch = isSource ? 'src' : requiredText(main, T.RPMTAG_ARCH);
  for (const tag of identityTags) {
    if (main.repairedTags.includes(tag)) throw new RpmFormatError(`${main.describe(tag)} is not valid UTF-8`);
  }

  const provides = readDependencies(main, T.RPMTAG_PROVIDENAME, T.RPMTAG_PROVIDEFLAGS, T.RPMTAG_PROVIDEVERSION);
  if (main.regionTag === null && !isSource) retrofitPackageProvide(provides, name, epoch, version, release);

  return {
    name,
    epoch,
    version,
    release,
    arch,
    isSource,
    sourcerpm: isSource ? null : sourcerpm,
    summary: main.string(T.RPMTAG_SUMMARY) ?? '',
    description: main.string(T.RPMTAG_DESCRIPTION) ?? '',
    url: main.string(T.RPMTAG_URL) ?? '',
    license: main.string(T.RPMTAG_LICENSE) ?? '',
    vendor: main.string(T.RPMTAG_VENDOR) ?? '',
    group: main.string(T.RPMTAG_GROUP) ?? '',
    packager: main.string(T.RPMTAG_PACKAGER) ?? '',
    buildhost: main.string(T.RPMTAG_BUILDHOST) ?? '',
    buildtime: main.number(T.RPMTAG_BUILDTIME) ?? 0,
    sizes: {
      package: packageSize,
      // createrepo_c asks for RPMTAG_LONGSIZE, which rpm's tag extension falls back to SIZE for.
      installed: main.number(T.RPMTAG_LONGSIZE) ?? main.number(T.RPMTAG_SIZE) ?? 0,
      archive: archiveSize(signature, main),
    },
    headerRange: { start: main.offset, end: main.offset + main.intro.size },
    provides,
    requires: readDependencies(main, T.RPMTAG_REQUIRENAME, T.RPMTAG_REQUIREFLAGS, T.RPMTAG_REQUIREVERSION),
    conflicts: readDependencies(main, T.RPMTAG_CONFLICTNAME, T.RPMTAG_CONFLICTFLAGS, T.RPMTAG_CONFLICTVERSION),
    obsoletes: readDependencies(main, T.RPMTAG_OBSOLETENAME, T.RPMTAG_OBSOLETEFLAGS, T.RPMTAG_OBSOLETEVERSION),
    recommends: readDependencies(main, T.RPMTAG_RECOMMENDNAME, T.RPMTAG_RECOMMENDFLAGS, T.RPMTAG_RECOMMENDVERSION),
    suggests: readDependencies(main, T.RPMTAG_SUGGESTNAME, T.RPMTAG_SUGGESTFLAGS, T.RPMTAG_SUGGESTVERSION),
    supplements: readDependencies(main, T.RPMTAG_SUPPLEMENTNAME, T.RPMTAG_SUPPLEMENTFLAGS, T.RPMTAG_SUPPLEMENTVERSION),
    enhances: readDependencies(main, T.RPMTAG_ENHANCENAME, T.RPMTAG_ENHANCEFLAGS, T.RPMTAG_ENHANCEVERSION),
    files: readFiles(main),
    changelogs: readChangelogs(main),
  };
}

/**
 * The uncompressed payload (cpio archive) size createrepo_c writes: its RPMTAG_LONGARCHIVESIZE,
 * which rpm's tag extension (lib/tagexts.c longarchivesizeTag) falls back to ARCHIVESIZE for, read
 * from a header into which rpm has merged the signature header (headerMergeLegacySigs:
 * LONGARCHIVESIZE 271 keeps its number, PAYLOADSIZE 1007 becomes ARCHIVESIZE 1046, a tag already in
 * the main header wins). v6 packages record the size only as PAYLOADSIZEALT (5113), which neither
 * rpm 4.18 nor rpm 6 maps there: createrepo_c writes 0 for them, and so do we.
 */
function archiveSize(signature: RpmHeader, main: RpmHeader): number {
  return (
    main.number(T.RPMSIGTAG_LONGARCHIVESIZE) ??
    signature.number(T.RPMSIGTAG_LONGARCHIVESIZE) ??
    main.number(T.RPMTAG_ARCHIVESIZE) ??
    signature.number(T.RPMSIGTAG_PAYLOADSIZE) ??
    0
  );
}

function requiredText(main: RpmHeader, tag: number): string {
  const value = main.string(tag);
  if (value === undefined) throw new RpmFormatError(`the main header has no ${T.describeTag(tag)} tag`);
  if (value === '') throw new RpmFormatError(`${main.describe(tag)} is empty`);
  return value;
}

/**
 * One dependency kind from its three parallel arrays. Flags and versions may be absent (ancient
 * packages), in which case they read as 0 and ""; when present they must match the names one to
 * one: rpm's rpmdsNew silently drops the whole list otherwise.
 */
function readDependencies(main: RpmHeader, nameTag: number, flagsTag: number, versionTag: number): Dependency[] {
  const names = main.strings(nameTag);
  const flags = main.numbers(flagsTag);
  const versions = main.strings(versionTag);
  if (!names) {
    if (flags || versions) {
      throw new RpmFormatError(`the main header has ${T.describeTag(flags ? flagsTag : versionTag)} but no ${T.describeTag(nameTag)}`);
    }
    return [];
  }
  requireSameCount(main, nameTag, names.length, flagsTag, flags?.length);
  requireSameCount(main, nameTag, names.length, versionTag, versions?.length);
  return names.map((name, i) => ({ name, flags: flags?.[i] ?? 0, evr: versions?.[i] ?? '' }));
}

/**
 * rpm's providePackageNVR (lib/legacy.c), applied by rpm to v3 headers (no immutable region) of
 * binary packages: append "Provides: name = [epoch:]version-release". The code means to skip it when
 * the provide exists, but rpm 4.18 appends it regardless: `rpm -qp` and createrepo_c 0.17 list it
 * twice for the corpus's hello v3 package, and synthetic v3 headers behave the same. Since
 * createrepo_c sees the retrofitted header, its repodata lists this provide too.
 */
function retrofitPackageProvide(provides: Dependency[], name: string, epoch: number | null, version: string, release: string): void {
  provides.push({ name, flags: T.RPMSENSE_EQUAL, evr: `${epoch === null ? '' : `${epoch}:`}${version}-${release}` });
}

/**
 * Files in header order: DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or OLDFILENAMES in packages built
 * without dirtokens (v3). Type as createrepo_c decides it: a directory by its mode first, then a
 * %ghost by RPMFILE_GHOST, else a file.
 */
function readFiles(main: RpmHeader): PackageFile[] {
  let paths: string[];
  const basenames = main.strings(T.RPMTAG_BASENAMES);
  if (basenames) {
    const dirindexes = main.numbers(T.RPMTAG_DIRINDEXES);
    const dirnames = main.strings(T.RPMTAG_DIRNAMES);
    if (!dirindexes || !dirnames) {
      throw new RpmFormatError(`the main header has BASENAMES but no ${dirindexes ? 'DIRNAMES' : 'DIRINDEXES'}`);
    }
    requireSameCount(main, T.RPMTAG_BASENAMES, basenames.length, T.RPMTAG_DIRINDEXES, dirindexes.length);
    paths = new Array<string>(basenames.length);
    for (let i = 0; i < basenames.length; i++) {
      const dir = dirnames[dirindexes[i]!];
      if (dir === undefined) {
        throw new RpmFormatError(`DIRINDEXES[${i}] is ${dirindexes[i]}, outside the ${dirnames.length} DIRNAMES`);
      }
      paths[i] = dir + basenames[i]!;
    }
  } else {
    paths = main.strings(T.RPMTAG_OLDFILENAMES) ?? [];
    const countTag = [T.RPMTAG_DIRINDEXES, T.RPMTAG_DIRNAMES].find((tag) => main.has(tag));
    if (countTag !== undefined) throw new RpmFormatError(`the main header has ${T.describeTag(countTag)} but no BASENAMES`);
  }
  const countTag = basenames ? T.RPMTAG_BASENAMES : T.RPMTAG_OLDFILENAMES;
  const modes = main.numbers(T.RPMTAG_FILEMODES);
  const flags = main.numbers(T.RPMTAG_FILEFLAGS);
  requireSameCount(main, countTag, paths.length, T.RPMTAG_FILEMODES, modes?.length);
  requireSameCount(main, countTag, paths.length, T.RPMTAG_FILEFLAGS, flags?.length);
  return paths.map((path, i) => ({ path, type: fileType(modes?.[i] ?? 0, flags?.[i] ?? 0) }));
}

function fileType(mode: number, flags: number): FileType {
  if ((mode & S_IFMT) === S_IFDIR) return 'dir';
  if (flags & T.RPMFILE_GHOST) return 'ghost';
  return 'file';
}

/** CHANGELOGTIME/NAME/TEXT: all three or none, of equal length; newest first as stored. */
function readChangelogs(main: RpmHeader): ChangelogEntry[] {
  const times = main.numbers(T.RPMTAG_CHANGELOGTIME);
  const names = main.strings(T.RPMTAG_CHANGELOGNAME);
  const texts = main.strings(T.RPMTAG_CHANGELOGTEXT);
  if (!times && !names && !texts) return [];
  if (!times || !names || !texts) {
    const missing = !times ? T.RPMTAG_CHANGELOGTIME : !names ? T.RPMTAG_CHANGELOGNAME : T.RPMTAG_CHANGELOGTEXT;
    throw new RpmFormatError(`the main header has a changelog without ${T.describeTag(missing)}`);
  }
  requireSameCount(main, T.RPMTAG_CHANGELOGTIME, times.length, T.RPMTAG_CHANGELOGNAME, names.length);
  requireSameCount(main, T.RPMTAG_CHANGELOGTIME, times.length, T.RPMTAG_CHANGELOGTEXT, texts.length);
  return times.map((time, i) => ({ author: names[i]!, time, text: texts[i]! }));
}

function requireSameCount(main: RpmHeader, tag: number, count: number, otherTag: number, otherCount: number | undefined): void {
  if (otherCount !== undefined && otherCount !== count) {
    throw new RpmFormatError(
      `${main.describe(otherTag)} has ${otherCount} entries but ${T.describeTag(tag)} has ${count}`,
    );
  }
}
