// The package model: everything rpmgate needs to know about one RPM file, read once at upload.
// Field names keep rpm's and createrepo_c's vocabulary (nevra, evr, sourcerpm, header-range).

/** A dependency entry as rpm stores it: name, RPMSENSE_* flags, and the EVR string ("" when unversioned). */
export interface Dependency {
  name: string;
  /** Raw RPMSENSE_* bits (LESS=2, GREATER=4, EQUAL=8, PREREQ=64, SCRIPT_PRE=512, RPMLIB=1<<24, ...). */
  flags: number;
  /** As stored in the header: "[epoch:]version[-release]", or "" for an unversioned dependency. */
  evr: string;
}

export type FileType = 'file' | 'dir' | 'ghost';

export interface PackageFile {
  /** Absolute path: dirnames[dirindex] + basename. */
  path: string;
  type: FileType;
}

export interface ChangelogEntry {
  author: string;
  /** Seconds since the epoch (CHANGELOGTIME). */
  time: number;
  text: string;
}

export interface Evr {
  /** null when the package has no EPOCH tag. */
  epoch: number | null;
  version: string;
  release: string;
}

export interface RpmPackage extends Evr {
  name: string;
  /** "src" for a source package, whatever its ARCH tag says (SRPMs are recognised by an absent SOURCERPM). */
  arch: string;
  isSource: boolean;
  /** The SOURCERPM tag of a binary package ("hello-1.0-1.src.rpm"); null for a source package. */
  sourcerpm: string | null;

  summary: string;
  description: string;
  url: string;
  license: string;
  vendor: string;
  group: string;
  packager: string;
  buildhost: string;
  /** BUILDTIME, seconds since the epoch (0 when absent). */
  buildtime: number;

  /** Sizes as createrepo_c writes them: package = file bytes, installed = (LONG)SIZE, archive = (LONG)ARCHIVESIZE. */
  sizes: { package: number; installed: number; archive: number };
  /** Byte offsets of the main header within the file: createrepo_c's rpm:header-range start and end. */
  headerRange: { start: number; end: number };

  provides: Dependency[];
  requires: Dependency[];
  conflicts: Dependency[];
  obsoletes: Dependency[];
  recommends: Dependency[];
  suggests: Dependency[];
  supplements: Dependency[];
  enhances: Dependency[];

  /** Every file in header order (BASENAMES order). */
  files: PackageFile[];
  /** Newest first, as stored in the header. */
  changelogs: ChangelogEntry[];
}
