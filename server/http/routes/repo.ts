// /repo/...: dnf repositories generated on the fly. One handler parses the path itself (segments are
// percent-decoded: dnf asks for `2.0%5egit1`), because level, set, channel and source repositories
// share their tails (repodata/..., Packages/...) and a set version may look like anything.
import { Hono, type Context } from 'hono';
import { RpmgateError } from '../../../common/errors.ts';
import type { AppContext } from '../../context.ts';
import { findServedFile } from '../../db/served-files.ts';
import { findRepoPackage } from '../../repodata/queries.ts';
import { hrefDigestLength } from '../../services/package-repodata.ts';
import { renderRepoFileFor } from '../../services/repo-file.ts';
import type { RepoAddress, ResolvedRepo } from '../../services/repositories.ts';
import type { RepodataSnapshot } from '../../repodata/cache.ts';
import { blobDamaged, isBlobDamaged } from '../../store/store.ts';
import { requireRoles } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { fileResponse, MissingStoredFile, type FileSource } from '../file-response.ts';
import type { PackageFileFacts } from '../warm-files.ts';
import { serveMirrorPath } from '../../mirrors/proxy.ts';

type RepoTarget =
  | { kind: 'repo-file'; address: Exclude<RepoAddress, { kind: 'agent' }> }
  | { kind: 'index'; address: RepoAddress }
  | { kind: 'repomd' | 'repomd-asc'; address: RepoAddress }
  | { kind: 'metadata'; address: RepoAddress; file: string }
  /** digest: the href's directory (Packages/<digest>/<file>), or null for the alias Packages/<file>. */
  | { kind: 'package'; address: RepoAddress; filename: string; digest: string | null };

const immutable = 'public, max-age=31536000, immutable';
const hrefDigest = new RegExp(`^[0-9a-f]{${hrefDigestLength}}$`);
// What dnf needs, said where a person sees it (dnf prints the detail of a 401 it cannot use).
const repoAuthHelp =
  'repositories need a token here (RPMGATE_REPO_AUTH=1): dnf sends it as HTTP basic auth, with username=<any name> and password=<token> in the .repo file (rpmgate-agent configure writes them)';
const anyRole = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] as const;

export function repoRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.on(['GET', 'HEAD'], '/*', async (c) => {
    // The agent's repository stays public, like the key: a new host installs the agent before it holds
    // any token (the bootstrap script), and the agent is no secret.
    if (ctx.config.repoAuth && !c.req.path.startsWith('/repo/agent/')) {
      if (!c.get('principal')) throw new RpmgateError('unauthorized', repoAuthHelp);
      requireRoles(c.get('principal'), anyRole);
    }
    if (c.req.path.startsWith('/repo/mirror/')) return serveMirrorPath(ctx, c, c.req.path);
    const target = parseRepoPath(c.req.path);
    switch (target.kind) {
      case 'repo-file':
        return serveRepoFile(ctx, c, target.address);
      case 'index':
        return serveIndex(ctx, target.address);
      case 'repomd':
      case 'repomd-asc':
        return serveRepomd(ctx, c, target.address, target.kind === 'repomd-asc');
      case 'metadata':
        return serveMetadata(ctx, c, target.address, target.file);
      case 'package':
        return servePackage(ctx, c, target.address, target.filename, target.digest);
    }
  });
  return routes;
}

/** Parses what follows /repo/. Throws not_found for anything that names no repository file. */
export function parseRepoPath(path: string): RepoTarget {
  const segments = path
    .replace(/^\/repo\//, '')
    .split('/')
    .map(decodeSegment);
  const notFound = () => new RpmgateError('not_found', `no repository file at ${path}`);
  const [family, ...rest] = segments;
  let address: RepoAddress;
  let tail: string[];
  if (family === 'level') {
    const [level, ...after] = rest;
    if (!level) throw notFound();
    if (after.length === 0 && level.endsWith('.repo')) {
      return { kind: 'repo-file', address: { kind: 'level', level: level.slice(0, -5), source: false } };
    }
    address = { kind: 'level', level, source: false };
    tail = after;
  } else if (family === 'set') {
    const [name, version, ...after] = rest;
    if (!name || !version) throw notFound();
    if (version === 'latest') {
      const [level, ...channelTail] = after;
      if (!level) throw notFound();
      if (channelTail.length === 0 && level.endsWith('.repo')) {
        return { kind: 'repo-file', address: { kind: 'channel', name, level: level.slice(0, -5), source: false } };
      }
      address = { kind: 'channel', name, level, source: false };
      tail = channelTail;
    } else {
      if (after.length === 0 && version.endsWith('.repo')) {
        return { kind: 'repo-file', address: { kind: 'set', name, version: version.slice(0, -5), source: false } };
      }
      address = { kind: 'set', name, version, source: false };
      tail = after;
    }
  } else if (family === 'agent') {
    address = { kind: 'agent', source: false };
    tail = rest;
  } else {
    throw notFound();
  }
  if (tail[0] === 'source' && address.kind !== 'agent') {
    address = { ...address, source: true };
    tail = tail.slice(1);
  }
  if (tail.length === 0 || (tail.length === 1 && tail[0] === '')) return { kind: 'index', address };
  if (tail.length === 2 && tail[0] === 'repodata') {
    if (tail[1] === 'repomd.xml') return { kind: 'repomd', address };
    if (tail[1] === 'repomd.xml.asc') return { kind: 'repomd-asc', address };
    return { kind: 'metadata', address, file: tail[1]! };
  }
  if (tail.length === 2 && tail[0] === 'Packages' && tail[1]!.endsWith('.rpm')) {
    return { kind: 'package', address, filename: tail[1]!, digest: null };
  }
  if (tail.length === 3 && tail[0] === 'Packages' && hrefDigest.test(tail[1]!) && tail[2]!.endsWith('.rpm')) {
    return { kind: 'package', address, filename: tail[2]!, digest: tail[1]! };
  }
  throw notFound();
}

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new RpmgateError('bad_request', 'malformed percent-encoding in the path');
  }
  // A decoded segment never reaches the file system, but keep separators and traversal out anyway.
  if (decoded.includes('/') || decoded.includes('\0') || decoded === '..') {
    throw new RpmgateError('bad_request', 'invalid path segment');
  }
  return decoded;
}

async function serveRepomd(ctx: AppContext, c: Context<HttpEnv>, address: RepoAddress, signature: boolean) {
  const repo = await ctx.repositories.resolve(address);
  const file = repomdFile(await ctx.repodata.snapshot(repo.request), repo, signature);
  if (!file) throw new RpmgateError('not_found', 'this server does not sign repository metadata');
  return fileResponse(c.req.raw, file);
}

/** repomd.xml or its signature as a file answer (also for the warm path, repomd-fast-path.ts); null: no signature. */
export function repomdFile(snapshot: RepodataSnapshot, repo: ResolvedRepo, signature: boolean): FileSource | null {
  const body = signature ? snapshot.repomdAsc : snapshot.repomd;
  if (!body) return null;
  return {
    body: { bytes: body },
    size: body.length,
    contentType: signature ? 'application/pgp-signature' : 'application/xml',
    etag: signature ? snapshot.ascEtag : snapshot.quotedEtag,
    lastModified: new Date(repo.request.timestamp * 1000),
    // repomd.xml moves with its repository: always revalidate, and by ETag only, since two changes
    // within one second share a Last-Modified.
    cacheControl: 'no-cache',
    etagOnly: true,
  };
}

async function serveMetadata(ctx: AppContext, c: Context<HttpEnv>, address: RepoAddress, file: string) {
  // Files are shared between repositories and outlive the repomd.xml that named them, so any existing
  // repository may serve any of them; but a URL that names no repository is a 404, as for repomd.xml.
  // Warm, resolve() answers from memory.
  await ctx.repositories.resolve(address);
  const found = await ctx.repodata.readFile(file);
  if (!found) throw new RpmgateError('not_found', `no metadata file ${file}`);
  return fileResponse(c.req.raw, metadataFile(file, 'bytes' in found ? { bytes: found.bytes } : { path: found.path }, 'bytes' in found ? found.bytes.length : found.size));
}

/** A metadata file as a file answer (also for the warm path, repomd-fast-path.ts). */
export function metadataFile(file: string, body: FileSource['body'], size: number): FileSource {
  return {
    body,
    size,
    contentType: 'application/gzip',
    // Named by checksum: the name is the version.
    etag: `"${file.slice(0, 64)}"`,
    cacheControl: immutable,
  };
}

/**
 * A package file. At its href (Packages/<digest>/<file>, what primary.xml names) a URL always serves
 * the same bytes: the current file, or one re-signing replaced, which a host's cached primary.xml may
 * still name. The alias Packages/<file> (scripts, people) serves the current file, which re-signing
 * changes: revalidated, with a Last-Modified that moves with it.
 */
async function servePackage(ctx: AppContext, c: Context<HttpEnv>, address: RepoAddress, filename: string, digest: string | null) {
  const { generations, repo, pkg, facts } = await findPackageFile(ctx, address, filename, digest);
  // Fleets that should not pull bytes through the servers get the store's own URL (S3, presigned).
  if (c.req.method === 'GET') {
    const redirect = await ctx.store.redirectUrl(facts.sha256, filename, facts.contentType);
    if (redirect) return c.redirect(redirect, 302);
  }
  const label = `${pkg.filename} (${repo.title})`;
  // A row whose blob is missing or short is a damaged store: refused before the answer starts (a 200
  // with a Content-Length and a cut body would leave dnf retrying a mirror that can never succeed).
  if (c.req.method === 'HEAD') await checkBlob(ctx, facts.sha256, facts.size, label);
  const response = await fileResponse(c.req.raw, {
    body: { open: (range) => ctx.store.read(facts.sha256, { size: facts.size, ...range }).catch((error: unknown) => logDamage(ctx, error, label)) },
    size: facts.size,
    contentType: facts.contentType,
    etag: `"${facts.sha256}"`,
    lastModified: facts.lastModified,
    cacheControl: facts.cacheControl,
  });
  // The next request for this URL, in the generations this one was read in, is answered warm. Only a
  // URL the warm path would see as it is (no percent-encoding, no query) is worth remembering.
  const asked = new URL(c.req.url);
  if (asked.search === '' && !asked.pathname.includes('%')) ctx.packageFiles.remember(asked.pathname, generations, facts);
  return response;
}

/**
 * What a package URL names: the repository, the package, and the facts of the file served (the current
 * one, or at an href the one a re-signing replaced), with the repository generations they were read in
 * (read before the queries: a change committed meanwhile replaces that object, so nothing read here is
 * remembered past it). Throws not_found. Also for the warm socket's warm-up (http/warm-up.ts).
 */
export async function findPackageFile(ctx: AppContext, address: RepoAddress, filename: string, digest: string | null) {
  const generations = ctx.repositories.generationsInMemory();
  const repo = await ctx.repositories.resolve(address);
  const pkg = await findRepoPackage(ctx.sql, repo.request.selector, filename);
  if (!pkg) throw new RpmgateError('not_found', `${repo.title} has no package ${filename}`);
  const file = digest === null ? pkg : await findServedFile(ctx.sql, pkg, digest);
  if (!file) throw new RpmgateError('not_found', `${repo.title} has no file ${digest}/${filename}`);
  const facts: PackageFileFacts = {
    sha256: file.sha256,
    size: file.size,
    contentType: pkg.is_source ? 'application/x-source-rpm' : 'application/x-rpm',
    lastModified: file.served_since,
    cacheControl: digest === null ? 'no-cache' : immutable,
  };
  return { generations, repo, pkg, facts };
}

async function checkBlob(ctx: AppContext, sha256: string, size: number, label: string): Promise<void> {
  const found = await ctx.store.stat(sha256);
  if (found?.size !== size) logDamage(ctx, blobDamaged(sha256, size, found?.size ?? null, ctx.store.location), label);
}

/** A damaged blob becomes the stored-file problem (problem.ts logs it as one JSON line and answers a 500). */
function logDamage(ctx: AppContext, error: unknown, _label: string): never {
  if (isBlobDamaged(error)) {
    const { sha256, expectedSize, foundSize } = error.extra as { sha256: string; expectedSize: number; foundSize: number | null };
    throw new MissingStoredFile(`${ctx.store.location}/${sha256.slice(0, 2)}/${sha256}`, expectedSize, foundSize);
  }
  throw error;
}

async function serveRepoFile(ctx: AppContext, c: Context<HttpEnv>, address: Exclude<RepoAddress, { kind: 'agent' }>) {
  const repo = await ctx.repositories.resolve(address);
  const base = ctx.config.baseUrl ?? new URL(c.req.url).origin;
  const text = renderRepoFileFor(address, { base, title: repo.title, needsAuth: ctx.config.repoAuth });
  return c.body(text, 200, repoFileHeaders(Buffer.byteLength(text)));
}

/** A .repo file's headers (also for the warm path, warm-path.ts). */
export function repoFileHeaders(length: number): Record<string, string> {
  // Without RPMGATE_BASE_URL the text names the host asked for: a cache must keep one per host.
  return { 'content-type': 'text/plain; charset=utf-8', vary: 'Host', 'content-length': String(length) };
}

async function serveIndex(ctx: AppContext, address: RepoAddress) {
  const repo = await ctx.repositories.resolve(address);
  const text = `rpmgate ${repo.title}\nrepodata/repomd.xml\n`;
  return new Response(text, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
