// `rpmgate-agent download --set NAME/VERSION --dest DIR [--source]`: every package of the set's
// repository (binary, or source with --source), found as dnf finds them: repomd.xml → primary.xml.gz
// (verified against repomd's checksum) → each package at its location href, verified against its
// primary.xml checksum. Files already present with the right checksum are kept; others are written
// through a temporary file and a rename, so DIR never holds a partial or unverified package.
// Exit 1 when any package fails verification, 2 when one cannot be fetched at all.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RpmgateError } from '../../common/errors.ts';
import { startTransferProgress } from '../../common/transfer-progress.ts';
import { iterateRepodata, parseRepomd } from '../../common/repodata/parse.ts';
import type { AgentContext } from '../context.ts';
import { temporaryPath } from '../fs-atomic.ts';
import { fetchBytesFromServer, fetchFromServer } from '../http.ts';
import { formatSetReference, parseSetReference, setRepoPath } from '../set-api.ts';

export interface DownloadOptions {
  set: string;
  dest: string;
  source?: boolean;
  jobs?: string;
}

interface PackageLocation {
  href: string;
  /** xml:base of the location, when the package lives elsewhere (createrepo_c --baseurl). */
  base: string | null;
  checksumType: string;
  checksum: string;
  size: number;
}

export type DownloadStatus = 'downloaded' | 'replaced' | 'present' | 'checksum_mismatch' | 'failed';

export interface DownloadedFile {
  file: string;
  status: DownloadStatus;
  detail?: string;
}

export async function downloadCommand(ctx: AgentContext, options: DownloadOptions): Promise<number> {
  const ref = parseSetReference(options.set);
  const jobs = Number(options.jobs ?? '4');
  if (!Number.isInteger(jobs) || jobs < 1) throw new RpmgateError('usage', `--jobs takes a positive whole number, not "${options.jobs}"`);
  const base = setRepoPath(ref, Boolean(options.source));
  const dest = path.resolve(options.dest);
  const packages = await readPrimary(ctx, base);
  await mkdir(dest, { recursive: true });

  const results: DownloadedFile[] = new Array(packages.length);
  // Sizes from primary.xml: a bar with bytes and rate on a terminal, plain lines otherwise.
  const progress = startTransferProgress({ verb: 'downloading', totalBytes: packages.reduce((sum, pkg) => sum + pkg.size, 0), files: packages.length });
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < packages.length) {
      const index = next++;
      const pkg = packages[index]!;
      let moved = 0;
      const result = await downloadOne(ctx, base, dest, pkg, (bytes) => {
        moved += bytes;
        progress.add(bytes);
      });
      // A file already present (or failed) counts as done, whatever was read of it.
      progress.add(Math.max(0, pkg.size - moved));
      results[index] = result;
      done++;
      progress.fileDone();
      progress.log(`[${done}/${packages.length}] ${result.file}: ${result.status.replace('_', ' ')}${result.detail ? ` (${result.detail})` : ''}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, packages.length)) }, worker));
  } finally {
    progress.stop();
  }

  const count = (status: DownloadStatus) => results.filter((r) => r.status === status).length;
  const failed = results.filter((r) => r.status === 'checksum_mismatch' || r.status === 'failed');
  ctx.out.result({ set: formatSetReference(ref), source: Boolean(options.source), dest, files: results }, () => {
    const lines = [
      `${formatSetReference(ref)}${options.source ? ' (sources)' : ''} → ${dest}: ${count('downloaded')} downloaded, ${count('replaced')} replaced, ${count('present')} already present, ${failed.length} failed`,
    ];
    for (const f of failed) lines.push(`  ${f.status === 'checksum_mismatch' ? 'checksum mismatch' : 'failed'}: ${f.file}${f.detail ? ` (${f.detail})` : ''}`);
    return lines.join('\n');
  });
  const broken = results.filter((r) => r.status === 'failed');
  if (broken.length > 0) throw new RpmgateError('connection', `${broken.length} package(s) could not be downloaded: ${broken[0]!.file}: ${broken[0]!.detail}`);
  return failed.length > 0 ? 1 : 0;
}

/** repomd.xml → primary.xml.gz (checked against repomd) → one location per package. */
async function readPrimary(ctx: AgentContext, base: string): Promise<PackageLocation[]> {
  const repomd = await parseRepomd(await fetchBytesFromServer(ctx, `${base}repodata/repomd.xml`)).catch((error: unknown) => {
    if (error instanceof RpmgateError) throw error;
    throw new RpmgateError('internal', `repomd.xml is not readable: ${(error as Error).message}`);
  });
  const record = repomd.records.find((r) => r.type === 'primary');
  if (!record) throw new RpmgateError('internal', 'repomd.xml names no primary metadata');
  const primary = await fetchBytesFromServer(ctx, base + encodeHref(record.href));
  const actual = createHash(hashName(record.checksumType)).update(primary).digest('hex');
  if (actual !== record.checksum) {
    throw new RpmgateError('internal', `${record.href} does not match the checksum in repomd.xml (${record.checksumType} ${actual}, expected ${record.checksum})`);
  }
  const packages: PackageLocation[] = [];
  for await (const entry of iterateRepodata('primary', primary)) {
    const href = entry.location.href;
    if (!href) throw new RpmgateError('internal', `primary.xml entry ${entry.name} has no location href`);
    packages.push({
      href,
      base: entry.location['xml:base'] ?? null,
      checksumType: entry.checksum.attrs.type ?? 'sha256',
      checksum: entry.checksum.value,
      size: Number(entry.size.package ?? 0),
    });
  }
  return packages;
}

async function downloadOne(ctx: AgentContext, base: string, dest: string, pkg: PackageLocation, onBytes: (bytes: number) => void): Promise<DownloadedFile> {
  const file = path.posix.basename(pkg.href);
  if (!file.endsWith('.rpm') || file.startsWith('.')) return { file: pkg.href, status: 'failed', detail: 'not an .rpm location' };
  const target = path.join(dest, file);
  const algorithm = hashName(pkg.checksumType);
  const existing = await hashFile(target, algorithm);
  if (existing === pkg.checksum) return { file, status: 'present' };

  const temp = temporaryPath(target);
  try {
    const url = pkg.base ? new URL(pkg.href, pkg.base.endsWith('/') ? pkg.base : `${pkg.base}/`).href : base + encodeHref(pkg.href);
    const response = await fetchFromServer(ctx, url);
    const hash = createHash(algorithm);
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), hashing, createWriteStream(temp, { flags: 'wx' }));
    const actual = hash.digest('hex');
    if (actual !== pkg.checksum) {
      await rm(temp, { force: true });
      return { file, status: 'checksum_mismatch', detail: `${pkg.checksumType} ${actual}, primary.xml says ${pkg.checksum}` };
    }
    await rename(temp, target);
    return { file, status: existing === null ? 'downloaded' : 'replaced' };
  } catch (error) {
    await rm(temp, { force: true });
    return { file, status: 'failed', detail: (error as Error).message };
  }
}

/** createrepo_c's checksum type names → node's hash names ("sha" is SHA-1 in old repodata). */
function hashName(type: string): string {
  const name = type === 'sha' ? 'sha1' : type.toLowerCase();
  if (!['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(name)) {
    throw new RpmgateError('internal', `unsupported checksum type "${type}" in repodata`);
  }
  return name;
}

/** A location href as a URL path: each segment percent-encoded (`^` in `2.0^git1` must be). */
function encodeHref(href: string): string {
  return href.split('/').map(encodeURIComponent).join('/');
}

async function hashFile(file: string, algorithm: string): Promise<string | null> {
  const hash = createHash(algorithm);
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch {
    return null;
  }
  return hash.digest('hex');
}
