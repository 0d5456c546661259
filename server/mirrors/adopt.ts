// Adoption: an upstream package becomes an ordinary rpmgate package. Its bytes come from the proxy's
// cache (fetched and checked against the upstream checksum when not cached yet), its header signature
// must verify with one of the mirror's keys (when the mirror has keys), and it then goes through
// admitPackage, the one way into the store that uploads take: entry checks, rpmgate's signature,
// storage. A binary's SRPM (its SOURCERPM) is adopted with it when the mirror lists it.
import { RpmgateError } from '../../common/errors.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import type { ParsedRpm } from '../../common/rpm/reader.ts';
import type { AppContext } from '../context.ts';
import { findMirror, findMirrorPackagesByNevra, type MirrorPackageRow, type MirrorRow } from '../db/mirrors.ts';
import { findPackagesByNevra } from '../db/sets.ts';
import { admitPackage } from '../services/upload.ts';
import type { Principal } from '../services/tokens.ts';
import { cachedPackage } from './proxy.ts';
import { readPublicKeys, verifyDetachedSignature } from './repomd-signature.ts';

export interface AdoptedPackage {
  /** The stored package. */
  packageId: number;
  nevra: string;
  mirror: string;
  status: 'created' | 'exists';
  /** The SRPM adopted with it, or why not. */
  source?: { nevra: string; status: 'created' | 'exists' } | { missing: string };
}

export interface FetchReport {
  adopted: AdoptedPackage[];
  /** Named packages no mirror lists (and the store does not hold). */
  unknown: string[];
  /** Packages refused: upstream failure, bad signature, entry checks. */
  refused: { nevra: string; mirror: string; code: string; reason: string; findings?: unknown }[];
}

/** `rpmgate mirror fetch NEVRA...` and sets naming upstream packages: every NEVRA not stored yet is adopted. */
export async function fetchFromMirrors(ctx: AppContext, nevras: readonly string[], principal: Principal): Promise<FetchReport> {
  const report: FetchReport = { adopted: [], unknown: [], refused: [] };
  const unique = [...new Set(nevras)];
  const stored = new Set((await findPackagesByNevra(ctx.sql, unique)).map((row) => row.nevra));
  const wanted = unique.filter((nevra) => !stored.has(nevra));
  if (wanted.length === 0) return report;
  const candidates = await findMirrorPackagesByNevra(ctx.sql, wanted);
  const mirrors = new Map<string, MirrorRow>();
  for (const nevra of wanted) {
    // The first mirror by name that lists it: deterministic.
    const pkg = candidates.find((row) => row.nevra === nevra);
    if (!pkg) {
      report.unknown.push(nevra);
      continue;
    }
    let mirror = mirrors.get(pkg.mirror_name);
    if (!mirror) {
      mirror = (await findMirror(ctx.sql, pkg.mirror_name))!;
      mirrors.set(pkg.mirror_name, mirror);
    }
    try {
      report.adopted.push(await adoptWithSource(ctx, mirror, pkg, principal));
    } catch (error) {
      if (!(error instanceof RpmgateError)) throw error;
      report.refused.push({ nevra, mirror: mirror.name, code: error.code, reason: error.message, ...(error.extra.findings ? { findings: error.extra.findings } : {}) });
    }
  }
  return report;
}

async function adoptWithSource(ctx: AppContext, mirror: MirrorRow, pkg: MirrorPackageRow, principal: Principal): Promise<AdoptedPackage> {
  const adopted = await adoptMirrorPackage(ctx, mirror, pkg, principal);
  if (pkg.is_source || !pkg.sourcerpm) return adopted;
  const [srpm] = await ctx.sql<MirrorPackageRow[]>`
    select * from mirror_packages
    where mirror_id = ${mirror.id} and is_source and name || '-' || version || '-' || release || '.src.rpm' = ${pkg.sourcerpm}
    order by id limit 1`;
  if (!srpm) return { ...adopted, source: { missing: `${pkg.sourcerpm} is not listed by mirror ${mirror.name}` } };
  const source = await adoptMirrorPackage(ctx, mirror, srpm, principal);
  return { ...adopted, source: { nevra: source.nevra, status: source.status } };
}

/** One upstream package into the store (or the stored one, when these bytes are there already). */
export async function adoptMirrorPackage(ctx: AppContext, mirror: MirrorRow, pkg: MirrorPackageRow, principal: Principal): Promise<AdoptedPackage> {
  const sha256 = await cachedPackage(ctx, mirror, pkg);
  const written = await ctx.store.writeTemp(await ctx.store.read(sha256, { size: pkg.size }), ctx.config.maxUploadBytes);
  const entrant: Principal = { ...principal, name: `${principal.name} (mirror ${mirror.name})` };
  const keys = mirror.keys.length > 0 ? await readPublicKeys(mirror.keys) : null;
  const result = await admitPackage(ctx, written, entrant, {
    vet: keys ? (parsed) => verifyUpstreamSignature(parsed, keys, mirror.name) : undefined,
  });
  await ctx.sql`
    insert into mirror_adoptions (package_id, mirror_name, pkgid) values (${result.package.id}, ${mirror.name}, ${pkg.pkgid})
    on conflict on constraint mirror_adoptions_pkey do nothing`;
  return { packageId: result.package.id, nevra: result.package.nevra, mirror: mirror.name, status: result.status };
}

/** The upstream's own OpenPGP header signature must verify with one of the mirror's keys. */
async function verifyUpstreamSignature(parsed: ParsedRpm, keys: Awaited<ReturnType<typeof readPublicKeys>>, mirror: string): Promise<void> {
  const nevra = formatNevra(parsed.package);
  const headerSignatures = parsed.signatures.filter((sig) => sig.range === 'header');
  if (headerSignatures.length === 0) {
    throw new RpmgateError('unprocessable', `${nevra} from mirror ${mirror} carries no header signature, and the mirror has keys: refused`, { nevra });
  }
  const reasons: string[] = [];
  for (const sig of headerSignatures) {
    try {
      await verifyDetachedSignature(parsed.mainHeader.bytes, sig.packet, keys, `${nevra} ${sig.name}`);
      return;
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  throw new RpmgateError('unprocessable', `${nevra} from mirror ${mirror}: the upstream signature does not verify with the mirror's keys (${reasons.join('; ')})`, { nevra });
}
