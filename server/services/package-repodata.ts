// Renders a package's three repodata fragments once, at upload, for the file rpmgate serves.
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

/** Where every repository (level or set) places a package, relative to its base URL. */
export function locationHref(filename: string): string {
  return `Packages/${filename}`;
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
      locationHref: locationHref(served.filename),
      fileTime: Math.floor(served.uploadedAt.getTime() / 1000),
    }),
    filelists: renderFilelistsPackage(servedPkg, served.sha256),
    other: renderOtherPackage(servedPkg, served.sha256),
  };
}
