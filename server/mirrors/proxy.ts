// /repo/mirror/{name}/: an upstream as it is, through a pull-through cache. Metadata is what the last
// good sync stored, byte for byte (repomd.xml, its .asc, the files it names); a package is fetched from
// the upstream on its first request, checked against the upstream checksum primary.xml states, stored
// content-addressed, and from then on served from the store, unmodified (upstream signatures: hosts
// trust the upstream's key). Concurrent first requests share one fetch; with the upstream down,
// everything cached is still served and a package not yet cached is a 502 (504 on a time-out) problem.
// /repo/mirror/{name}/source/ is the mirror's source repository, when it has one.
import type { Context } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { findMetadataFile, findMirror, findMirrorPackageByHref, markMirrorPackageCached, type MirrorPackageRow, type MirrorPart, type MirrorRow } from '../db/mirrors.ts';
import type { HttpEnv } from '../http/env.ts';
import { fileResponse, type FileSource } from '../http/file-response.ts';
import { downloadVerified, upstreamUrl } from './upstream.ts';

const immutable = 'public, max-age=31536000, immutable';

/** Answers GET/HEAD /repo/mirror/... */
export async function serveMirrorPath(ctx: AppContext, c: Context<HttpEnv>, path: string): Promise<Response> {
  const segments = path.replace(/^\/repo\/mirror\//, '').split('/').map(decodeSegment);
  const [name, ...rest] = segments;
  const notFound = () => new RpmgateError('not_found', `no repository file at ${path}`);
  if (!name || rest.length === 0) throw notFound();
  const mirror = await findMirror(ctx.sql, name);
  if (!mirror) throw new RpmgateError('not_found', `no mirror ${name}`);
  let part: MirrorPart = 'binary';
  if (rest[0] === 'source' && mirror.source_baseurl) {
    part = 'source';
    rest.shift();
  }
  if (rest.some((segment) => segment === '' || segment === '.' || segment === '..')) throw notFound();
  const href = rest.join('/');
  if (href === 'repodata/repomd.xml' || href === 'repodata/repomd.xml.asc') {
    const bytes = repomdBytes(mirror, part, href.endsWith('.asc'));
    if (!bytes) throw new RpmgateError('not_found', href.endsWith('.asc') ? `the upstream of mirror ${name} is not signed` : `mirror ${name} has not been synced yet`);
    return fileResponse(c.req.raw, {
      body: { bytes },
      size: bytes.length,
      contentType: href.endsWith('.asc') ? 'application/pgp-signature' : 'application/xml',
      etag: `"${(await import('node:crypto')).createHash('sha256').update(bytes).digest('hex')}"`,
      lastModified: mirror.synced_at ?? undefined,
      cacheControl: 'no-cache',
      etagOnly: true,
    });
  }
  if (rest[0] === 'repodata') {
    const file = await findMetadataFile(ctx.sql, mirror.id, part, href);
    if (!file) throw notFound();
    return fileResponse(c.req.raw, blobSource(ctx, file.sha256, file.size, 'application/octet-stream'));
  }
  const pkg = await findMirrorPackageByHref(ctx.sql, mirror.id, href);
  if (!pkg || (part === 'source') !== (pkg.is_source && mirror.source_baseurl !== null)) throw notFound();
  const sha256 = await cachedPackage(ctx, mirror, pkg);
  return fileResponse(c.req.raw, blobSource(ctx, sha256, pkg.size, pkg.is_source ? 'application/x-source-rpm' : 'application/x-rpm'));
}

function repomdBytes(mirror: MirrorRow, part: MirrorPart, signature: boolean): Buffer | null {
  if (part === 'source') return signature ? mirror.source_repomd_asc : mirror.source_repomd_xml;
  return signature ? mirror.repomd_asc : mirror.repomd_xml;
}

function blobSource(ctx: AppContext, sha256: string, size: number, contentType: string): FileSource {
  return { body: { open: (range) => ctx.store.read(sha256, { size, ...range }) }, size, contentType, etag: `"${sha256}"`, cacheControl: immutable };
}

const inFlight = new Map<string, Promise<string>>();

/**
 * The sha256 of the package's cached blob: fetched and verified once (concurrent callers share the
 * fetch), then read from the store. Also what adoption uses to get an upstream package's bytes.
 */
export async function cachedPackage(ctx: AppContext, mirror: MirrorRow, pkg: MirrorPackageRow): Promise<string> {
  if (pkg.cached_sha256 && (await ctx.store.has(pkg.cached_sha256))) return pkg.cached_sha256;
  const key = `${mirror.id}:${pkg.pkgid}`;
  let fetching = inFlight.get(key);
  if (!fetching) {
    fetching = fetchIntoStore(ctx, mirror, pkg).finally(() => inFlight.delete(key));
    inFlight.set(key, fetching);
  }
  return fetching;
}

async function fetchIntoStore(ctx: AppContext, mirror: MirrorRow, pkg: MirrorPackageRow): Promise<string> {
  const base = pkg.is_source && mirror.source_baseurl ? mirror.source_baseurl : mirror.baseurl;
  const written = await downloadVerified(ctx.store, upstreamUrl(base, pkg.location_href), { type: pkg.checksum_type, value: pkg.pkgid }, Math.max(pkg.size, 1));
  await ctx.store.adopt(written.path, written.sha256);
  await markMirrorPackageCached(ctx.sql, pkg.id, written.sha256);
  ctx.log.info('mirror package cached', { mirror: mirror.name, href: pkg.location_href, sha256: written.sha256 });
  return written.sha256;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RpmgateError('not_found', 'malformed path');
  }
}
