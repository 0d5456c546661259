// Package upload: stream to disk, read and verify the RPM, store it once, insert its metadata and its
// pre-rendered repodata in one transaction. Same bytes again: the stored package (200). Same NEVRA with
// other bytes: conflict (409), and so is another epoch of a stored name-version-release.arch, which
// would take its file name. Uploads of one file name (which every NEVRA implies) are serialised by an
// advisory lock, so twenty concurrent uploads of one file make exactly one row and one blob, and
// twenty epochs of one file name one row and nineteen 409s. A refused upload adopts no blob.
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { agentPackageName } from '../../common/agent-package.ts';
import { RpmgateError } from '../../common/errors.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import { readRpmFile, type ParsedRpm } from '../../common/rpm/reader.ts';
import { assertInstallable } from '../../common/rpm/installable.ts';
import { refusalSummary, type Finding } from '../checks/findings.ts';
import type { AppContext } from '../context.ts';
import {
  findPackageByFilename,
  findPackageByNevra,
  findPackageByAnyFileSha256,
  insertPackage,
  type PackageRow,
} from '../db/packages.ts';
import { insertFindings } from '../db/package-findings.ts';
import { lockBlobs } from '../db/blob-locks.ts';
import { bumpRepoGeneration } from '../db/repo-generations.ts';
import { refreshPackageLevels } from '../db/sets.ts';
import type { WrittenFile } from '../store/store.ts';
import { renderPackageRepodata } from './package-repodata.ts';
import type { Principal } from './tokens.ts';

export interface UploadResult {
  /** created: a new package; exists: these exact bytes were already stored. */
  status: 'created' | 'exists';
  package: PackageRow;
}

export async function uploadPackage(ctx: AppContext, body: Readable, uploader: Principal): Promise<UploadResult> {
  const written = await ctx.store.writeTemp(body, ctx.config.maxUploadBytes);
  return admitPackage(ctx, written, uploader);
}

export interface AdmitOptions {
  /** Checks of the caller's own, run on the parsed package before the entry checks (a mirror: the upstream's signature). */
  vet?: (parsed: ParsedRpm) => Promise<void>;
}

/**
 * THE way into the store, for uploads and for packages adopted from a mirror alike: a durable temporary
 * file (the store's tmp/, removed here whatever happens) is read and verified, checked on entry (the
 * entry checks, with a refusal recorded and reported as a 422), signed by rpmgate and stored.
 */
export async function admitPackage(ctx: AppContext, written: WrittenFile, uploader: Principal, options: AdmitOptions = {}): Promise<UploadResult> {
  const temporary = [written.path];
  try {
    // The bytes as uploaded, or as rpmgate served them (signed): the same package either way.
    const known = await findPackageByAnyFileSha256(ctx.sql, written.sha256);
    if (known) {
      await restoreDamagedBlob(ctx, written);
      return { status: 'exists', package: known };
    }
    const parsed = await readRpmFile(written.path);
    assertInstallable(parsed);
    refuseAgentFromNonAdmin(parsed, uploader);
    await options.vet?.(parsed);
    const verdict = await ctx.entryChecks.check(written.path, parsed);
    ctx.metrics.countFindings(verdict.findings);
    if (verdict.refused) await refuseOnEntry(ctx, parsed, verdict.findings, uploader);
    const stored = await storePackage(ctx, written, parsed, uploader, temporary, verdict.findings);
    if (stored.status === 'created') await ctx.repositories.changed();
    return stored;
  } finally {
    await Promise.all(temporary.map((file) => fs.rm(file, { force: true })));
  }
}

/** The same bytes uploaded again restore their blob when the store lost or cut it (`rpmgate store fsck`). */
async function restoreDamagedBlob(ctx: AppContext, written: WrittenFile): Promise<void> {
  const found = await ctx.store.stat(written.sha256);
  if (found?.size === written.size) return;
  await ctx.store.adopt(written.path, written.sha256);
  ctx.log.warn('damaged blob restored by an upload of the same bytes', { sha256: written.sha256, size: written.size, foundSize: found?.size ?? null });
}

/**
 * Every enrolled host installs and upgrades rpmgate-agent from /repo/agent/, as root and outside any
 * set's qualification: only an admin may put a package of that name in the store.
 */
function refuseAgentFromNonAdmin(parsed: ParsedRpm, uploader: Principal): void {
  if (parsed.package.name === agentPackageName && uploader.role !== 'admin') {
    throw new RpmgateError('forbidden', `only an admin may upload ${agentPackageName}: every enrolled host installs it from /repo/agent/`);
  }
}

/** A 422 with every finding; the refusal is recorded (the console lists them), the file is not kept. */
async function refuseOnEntry(ctx: AppContext, parsed: ParsedRpm, findings: Finding[], uploader: Principal): Promise<never> {
  const nevra = formatNevra(parsed.package);
  await ctx.sql`insert into entry_refusals (nevra, uploaded_by, findings) values (${nevra}, ${uploader.name}, ${ctx.sql.json(findings as never)})`;
  throw new RpmgateError('unprocessable', refusalSummary(nevra, findings), { nevra, findings });
}

/** The file name a package has in every repository: NVRA, as createrepo_c users expect. */
export function packageFilename(pkg: ParsedRpm['package']): string {
  return `${pkg.name}-${pkg.version}-${pkg.release}.${pkg.arch}.rpm`;
}

async function storePackage(
  ctx: AppContext,
  written: WrittenFile,
  parsed: ParsedRpm,
  uploader: Principal,
  temporary: string[],
  findings: Finding[],
): Promise<UploadResult> {
  const pkg = parsed.package;
  const nevra = formatNevra(pkg);
  const filename = packageFilename(pkg);
  return ctx.sql.begin(async (tx) => {
    // Locked by file name, not NEVRA: two epochs of one name-version-release.arch are two NEVRAs
    // that would both pass the checks below unlocked, and the second insert would break the unique
    // file name (a 500, and its blobs left behind). One NEVRA has one file name, so this lock
    // serialises the same NEVRA too.
    await tx`select pg_advisory_xact_lock(hashtextextended(${'package-file:' + filename}, 0))`;
    const sameNevra = await findPackageByNevra(tx, nevra);
    if (sameNevra) {
      if (sameNevra.original_sha256 === written.sha256 || sameNevra.sha256 === written.sha256) return { status: 'exists' as const, package: sameNevra };
      throw new RpmgateError('conflict', `${nevra} is already stored with other content (sha256 ${sameNevra.original_sha256})`, {
        nevra,
        storedSha256: sameNevra.original_sha256,
      });
    }
    const sameFile = await findPackageByFilename(tx, filename);
    if (sameFile) {
      throw new RpmgateError('conflict', `${sameFile.nevra} already uses the file name ${filename}`, { nevra, filename });
    }
    const served = await ctx.signer.prepareServedFile(written, parsed);
    if (served.path !== written.path) temporary.push(served.path);
    const uploadedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const row = await insertPackage(tx, {
      nevra,
      filename,
      pkg,
      originalSha256: written.sha256,
      originalSize: written.size,
      sha256: served.sha256,
      size: served.size,
      headerRange: served.headerRange,
      signedBy: served.signedBy,
      uploadedAt,
      uploadedBy: uploader.name,
      repodata: renderPackageRepodata(pkg, { ...served, filename, uploadedAt }),
    });
    // Blobs become durable before the row that names them commits (the reverse order could leave a
    // row pointing at nothing after a crash), and after the insert: a row refused leaves no blob.
    // Before the generation bump, whose row lock every upload and promotion waits for. Under the
    // blobs' locks until commit: the cleanup never removes a blob between its adoption and its row.
    await lockBlobs(tx, [written.sha256, served.sha256]);
    await ctx.store.adopt(written.path, written.sha256);
    if (served.sha256 !== written.sha256) await ctx.store.adopt(served.path, served.sha256);
    await insertFindings(tx, row.id, findings);
    // A new package is at integ, or inherits its binaries' level if it is their source.
    await refreshPackageLevels(tx, [row.id]);
    await bumpRepoGeneration(tx, 'levels');
    return { status: 'created' as const, package: row };
  });
}
