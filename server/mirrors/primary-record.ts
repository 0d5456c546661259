// One upstream <package> of primary.xml as rpmgate records it: identity, location, checksum, and the
// dependency entries and files that resolution needs, with createrepo_c's flags ("GE") turned back into
// rpm's RPMSENSE bits and the entry's epoch/ver/rel into rpm's EVR text.
import { RPMSENSE } from '../../common/rpm/depmatch.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import type { DependencyEntry, PrimaryEntry } from '../../common/repodata/parse.ts';
import { primaryDependencyKinds, type PrimaryDependencyKind } from '../../common/repodata/primary.ts';

export interface MirrorPackageRecord {
  pkgid: string;
  checksumType: string;
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  isSource: boolean;
  sourcerpm: string | null;
  locationHref: string;
  size: number;
  dependencies: { kind: PrimaryDependencyKind; name: string; flags: number; evr: string }[];
  files: string[];
}

const operatorSense: Record<string, number> = {
  LT: RPMSENSE.LESS,
  GT: RPMSENSE.GREATER,
  EQ: RPMSENSE.EQUAL,
  LE: RPMSENSE.LESS | RPMSENSE.EQUAL,
  GE: RPMSENSE.GREATER | RPMSENSE.EQUAL,
};

export function mirrorPackageRecord(entry: PrimaryEntry): MirrorPackageRecord {
  const epochText = entry.version.epoch ?? '0';
  const epoch = /^\d+$/.test(epochText) && Number(epochText) !== 0 ? Number(epochText) : null;
  const isSource = entry.arch === 'src' || entry.arch === 'nosrc';
  const arch = isSource ? 'src' : entry.arch;
  const identity = { name: entry.name, epoch, version: entry.version.ver ?? '', release: entry.version.rel ?? '', arch };
  const href = entry.location.href ?? '';
  if (!identity.name || !identity.version || !identity.release || !href) {
    throw new Error(`primary <package> ${entry.name || '(no name)'} lacks a version, release or location`);
  }
  return {
    pkgid: entry.pkgid.toLowerCase(),
    checksumType: entry.checksum.attrs.type ?? 'sha256',
    nevra: formatNevra(identity),
    ...identity,
    isSource,
    sourcerpm: isSource || entry.format.sourcerpm === '' ? null : entry.format.sourcerpm,
    locationHref: href,
    size: Number(entry.size.package ?? 0),
    dependencies: primaryDependencyKinds.flatMap((kind) => entry.format[kind].map((dep) => ({ kind, ...dependency(dep) }))),
    files: entry.format.files.map((file) => file.path),
  };
}

function dependency(entry: DependencyEntry): { name: string; flags: number; evr: string } {
  let flags = entry.flags ? (operatorSense[entry.flags] ?? 0) : 0;
  if (entry.pre === '1' || entry.pre === 'true') flags |= RPMSENSE.PREREQ;
  if (!entry.ver) return { name: entry.name, flags, evr: '' };
  const epoch = entry.epoch && entry.epoch !== '0' ? `${entry.epoch}:` : '';
  const release = entry.rel ? `-${entry.rel}` : '';
  return { name: entry.name, flags, evr: `${epoch}${entry.ver}${release}` };
}
