// A mirror's sync: read the upstream's repomd.xml (and, when the mirror has keys, verify
// repomd.xml.asc, refusing an unsigned or badly signed repository), download every metadata file it
// names into the blob store's temporary area, each checked against the checksum repomd.xml states, then
// in ONE transaction stream primary.xml (gz, xz, zstd or plain) cut into its packages, in batches,
// parsing and inserting only the packages not recorded yet and deleting those the upstream no longer
// lists. Unchanged packages are untouched (not even parsed); memory is bounded by the batch; a failure anywhere rolls everything back and
// the previous sync's state stays as it was (what hosts and the proxy see meanwhile).
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { RpmgateError } from '../../common/errors.ts';
import { iterateRepodata, parseRepomd, type ParsedRepomd } from '../../common/repodata/parse.ts';
import type { AppContext } from '../context.ts';
import { findKnownPkgids, insertMirrorPackages, recordSyncFailure, type MirrorPart, type MirrorRow } from '../db/mirrors.ts';
import type { Queryable } from '../db/queryable.ts';
import { collectionBudget } from '../ops/full-gc.ts';
import { decompressStream } from './decompress.ts';
import { mirrorPackageRecord, type MirrorPackageRecord } from './primary-record.ts';
import { splitPrimary, wrapPackages, type PrimaryDocumentHead, type PrimaryPackageText } from './primary-split.ts';
import { readPublicKeys, verifyDetachedSignature } from './repomd-signature.ts';
import { downloadVerified, fetchUpstreamBytes, upstreamUrl } from './upstream.ts';

const repomdLimit = 16 * 1024 * 1024;
const metadataLimit = 4 * 1024 * 1024 * 1024;
const batchSize = 500;
/** How long the metadata files of the previous sync stay answerable (a dnf run takes seconds; caches, hours). */
const supersededHoldHours = 6;
/**
 * A full collection after this many packages seen (a package parsed and inserted counts four) keeps
 * the sync's peak RSS near the server's own (ops/full-gc.ts); each costs a few milliseconds.
 */
const packagesPerCollection = 5000;
const parsedWeight = 4;
/** Record types the proxy serves and a sync fetches; sqlite databases and zchunk files are skipped (dnf uses neither from a plain baseurl). */
const skippedTypes = /(_db|_zck)$/;

export interface SyncResult {
  mirror: string;
  status: 'synced' | 'unchanged';
  revision: string | null;
  packages: number;
  added: number;
  removed: number;
  seconds: number;
}

interface FetchedPart {
  part: MirrorPart;
  repomdXml: Buffer;
  repomdAsc: Buffer | null;
  repomd: ParsedRepomd;
  files: { href: string; type: string; path: string; sha256: string; size: number }[];
}

const running = new Set<string>();

export async function syncMirror(ctx: AppContext, mirror: MirrorRow): Promise<SyncResult> {
  if (running.has(mirror.name)) throw new RpmgateError('conflict', `a sync of mirror ${mirror.name} is already running`);
  running.add(mirror.name);
  const started = Date.now();
  const parts: FetchedPart[] = [];
  try {
    parts.push(await fetchPart(ctx, mirror, 'binary', mirror.baseurl));
    if (mirror.source_baseurl) parts.push(await fetchPart(ctx, mirror, 'source', mirror.source_baseurl));
    const unchanged =
      mirror.repomd_xml !== null &&
      parts[0]!.repomdXml.equals(mirror.repomd_xml) &&
      (!mirror.source_baseurl || (mirror.source_repomd_xml !== null && parts[1]?.repomdXml.equals(mirror.source_repomd_xml)));
    const counts = await ctx.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtextextended(${'mirror-sync:' + mirror.name}, 0))`;
      // The mirror may have been removed (or removed and added again) while the files downloaded.
      const [current] = await tx<{ id: number }[]>`select id from mirrors where id = ${mirror.id} for update`;
      if (!current) throw new RpmgateError('not_found', `mirror ${mirror.name} was removed during its sync`);
      if (unchanged) {
        await tx`update mirrors set last_attempt_at = now(), last_error = null, synced_at = now() where id = ${mirror.id}`;
        const [row] = await tx<{ n: number }[]>`select count(*)::int as n from mirror_packages where mirror_id = ${mirror.id}`;
        return { packages: row!.n, added: 0, removed: 0 };
      }
      await tx`create temporary table mirror_sync_seen (pkgid text primary key) on commit drop`;
      let added = 0;
      for (const part of parts) added += await recordPackages(tx, mirror, part);
      const removed = await tx`
        delete from mirror_packages where mirror_id = ${mirror.id} and pkgid not in (select pkgid from mirror_sync_seen)`;
      for (const part of parts) for (const file of part.files) await ctx.store.adopt(file.path, file.sha256);
      await replaceMetadataFiles(tx, mirror.id, parts);
      const source = parts.find((part) => part.part === 'source');
      await tx`
        update mirrors set revision = ${parts[0]!.repomd.revision}, repomd_xml = ${parts[0]!.repomdXml}, repomd_asc = ${parts[0]!.repomdAsc},
               source_repomd_xml = ${source?.repomdXml ?? null}, source_repomd_asc = ${source?.repomdAsc ?? null},
               synced_at = now(), last_attempt_at = now(), last_error = null
        where id = ${mirror.id}`;
      const [row] = await tx<{ n: number }[]>`select count(*)::int as n from mirror_sync_seen`;
      return { packages: row!.n, added, removed: removed.count };
    });
    const result: SyncResult = {
      mirror: mirror.name,
      status: unchanged ? 'unchanged' : 'synced',
      revision: parts[0]!.repomd.revision || null,
      ...counts,
      seconds: (Date.now() - started) / 1000,
    };
    ctx.log.info('mirror synced', { ...result });
    return result;
  } catch (error) {
    const message = error instanceof RpmgateError ? error.message : `malformed upstream metadata: ${(error as Error).message}`;
    await recordSyncFailure(ctx.sql, mirror.id, message).catch(() => undefined);
    ctx.log.warn('mirror sync failed', { mirror: mirror.name, error: message });
    if (error instanceof RpmgateError) throw error;
    throw new RpmgateError('upstream', `mirror ${mirror.name}: ${message}`);
  } finally {
    running.delete(mirror.name);
    await Promise.all(parts.flatMap((part) => part.files.map((file) => fs.rm(file.path, { force: true }))));
  }
}

/**
 * The files the new repomd.xml names become the mirror's; the previous ones stay answerable for
 * `supersededHoldHours` (a host that read the previous repomd.xml is still asking for them), then go.
 */
async function replaceMetadataFiles(tx: Queryable, mirrorId: number, parts: FetchedPart[]): Promise<void> {
  await tx`update mirror_metadata_files set superseded_at = now() where mirror_id = ${mirrorId} and superseded_at is null`;
  const files = parts.flatMap((part) => part.files.map((file) => ({ mirror_id: mirrorId, part: part.part, href: file.href, sha256: file.sha256, size: file.size })));
  if (files.length > 0) {
    await tx`
      insert into mirror_metadata_files ${tx(files)}
      on conflict on constraint mirror_metadata_files_pkey do update set sha256 = excluded.sha256, size = excluded.size, superseded_at = null`;
  }
  await tx`
    delete from mirror_metadata_files
    where mirror_id = ${mirrorId} and superseded_at < now() - make_interval(hours => ${supersededHoldHours})`;
}

/** repomd.xml (verified when the mirror has keys) and every file it names, downloaded and checked. */
async function fetchPart(ctx: AppContext, mirror: MirrorRow, part: MirrorPart, baseurl: string): Promise<FetchedPart> {
  const repomdUrl = upstreamUrl(baseurl, 'repodata/repomd.xml');
  const repomdXml = (await fetchUpstreamBytes(repomdUrl, repomdLimit))!;
  let repomdAsc: Buffer | null = null;
  if (mirror.keys.length > 0) {
    repomdAsc = await fetchUpstreamBytes(`${repomdUrl}.asc`, 1024 * 1024, { allowMissing: true });
    if (!repomdAsc) throw new RpmgateError('upstream', `${repomdUrl}.asc: the upstream is not signed (404), and mirror ${mirror.name} has keys: refusing it`);
    await verifyDetachedSignature(repomdXml, repomdAsc, await readPublicKeys(mirror.keys), `${repomdUrl}.asc`);
  } else {
    // Kept when present so the proxy serves it unchanged.
    repomdAsc = await fetchUpstreamBytes(`${repomdUrl}.asc`, 1024 * 1024, { allowMissing: true }).catch(() => null);
  }
  let repomd: ParsedRepomd;
  try {
    repomd = await parseRepomd(repomdXml);
  } catch (error) {
    throw new RpmgateError('upstream', `${repomdUrl}: malformed repomd.xml (${(error as Error).message})`);
  }
  if (!repomd.records.some((record) => record.type === 'primary')) throw new RpmgateError('upstream', `${repomdUrl}: names no primary metadata`);
  const fetched: FetchedPart = { part, repomdXml, repomdAsc, repomd, files: [] };
  try {
    for (const record of repomd.records) {
      if (skippedTypes.test(record.type)) continue;
      if (!record.href || record.href.includes('..') || record.href.startsWith('/') || /^[a-z]+:/i.test(record.href)) {
        throw new RpmgateError('upstream', `${repomdUrl}: record ${record.type} has an unusable location "${record.href}"`);
      }
      const written = await downloadVerified(ctx.store, upstreamUrl(baseurl, record.href), { type: record.checksumType, value: record.checksum }, metadataLimit);
      fetched.files.push({ href: record.href, type: record.type, ...written });
    }
  } catch (error) {
    await Promise.all(fetched.files.map((file) => fs.rm(file.path, { force: true })));
    throw error;
  }
  return fetched;
}

/**
 * Streams one part's primary.xml in batches: every listed pkgid the mirror keeps is marked seen, and
 * only the packages it does not record yet are parsed and inserted (primary-split.ts).
 */
async function recordPackages(tx: Queryable, mirror: MirrorRow, part: FetchedPart): Promise<number> {
  const primary = part.files.find((file) => file.type === 'primary')!;
  const source = decompressStream(primary.href, createReadStream(primary.path, { highWaterMark: 256 * 1024 }));
  let head: PrimaryDocumentHead | null = null;
  let batch: PrimaryPackageText[] = [];
  let added = 0;
  const spend = collectionBudget(packagesPerCollection);
  const flush = async () => {
    const pkgids = [...new Set(batch.map((pkg) => pkg.pkgid))];
    const fresh = await tx<{ pkgid: string }[]>`
      insert into mirror_sync_seen (pkgid) select unnest(${pkgids}::text[]) on conflict do nothing returning pkgid`;
    const freshSet = new Set(fresh.map((row) => row.pkgid));
    const known = await findKnownPkgids(tx, mirror.id, [...freshSet]);
    // A pkgid listed twice in one document is recorded once.
    const unknown = [...new Map(batch.filter((pkg) => freshSet.has(pkg.pkgid) && !known.has(pkg.pkgid)).map((pkg) => [pkg.pkgid, pkg])).values()];
    batch = [];
    if (unknown.length === 0) return;
    const records: MirrorPackageRecord[] = [];
    for await (const entry of iterateRepodata('primary', wrapPackages(head!, unknown))) records.push(mirrorPackageRecord(entry));
    await insertMirrorPackages(tx, mirror.id, records);
    added += records.length;
    spend(records.length * (parsedWeight - 1));
  };
  for await (const pkg of splitPrimary(source, (found) => (head = found))) {
    const isSource = pkg.arch === 'src' || pkg.arch === 'nosrc';
    if (part.part === 'binary' && isSource && mirror.source_baseurl) continue;
    if (part.part === 'source' && !isSource) continue;
    if (!isSource && mirror.arches && pkg.arch !== 'noarch' && !mirror.arches.includes(pkg.arch)) continue;
    batch.push(pkg);
    if (batch.length >= batchSize) await flush();
    spend();
  }
  if (batch.length > 0) await flush();
  return added;
}
