// Renders a package's three repodata fragments for the file rpmgate serves: once at upload, and again
// whenever the served file changes (re-signing).
import type { RpmPackage } from '../../common/rpm/package.ts';
import { renderFilelistsPackage } from '../../common/repodata/filelists.ts';
import { renderOtherPackage } from '../../common/repodata/other.ts';
import { renderPrimaryPackage } from '../../common/repodata/primary.ts';

export interface ServedPackageFile {
  sha256: string;
  size: number;
  headerRange: { start: number; end: number };
  filename: string;
  uploadedAt: Date;
}

/** Hex digits of the served file's sha256 in its href: 64 bits, unique among one package's files. */
export const hrefDigestLength = 16;

/**
 * Where every repository (level or set) places a package, relative to its base URL:
 * Packages/<first 16 hex of the served sha256>/<NVRA>.rpm. The href names the bytes, so what a URL
 * serves never changes: a host whose dnf cached primary.xml before a re-signing still finds the file
 * that primary.xml describes (sql/0010). dnf and createrepo_c take any relative path as href, and
 * download into their cache under its last segment.
 */
export function locationHref(filename: string, sha256: string): string {
  return `Packages/${sha256.slice(0, hrefDigestLength)}/${filename}`;
}

export function renderPackageRepodata(pkg: RpmPackage, served: ServedPackageFile) {
  const servedPkg: RpmPackage = {
    ...pkg,
    sizes: { ...pkg.sizes, package: served.size },
    headerRange: served.headerRange,
  };
  return {
    primary: renderPrimaryPackage(servedPkg, {
      pkgid: served.sha256,
      locationHref: locationHref(served.filename, served.sha256),
      fileTime: Math.floor(served.uploadedAt.getTime() / 1000),
    }),
    filelists: renderFilelistsPackage(servedPkg, served.sha256),
    other: renderOtherPackage(servedPkg, served.sha256),
  };
}
