// Warm answers for package files and the public key, in front of the app (beside the warm repodata
// answers of repomd-fast-path.ts). A package URL costs the app two queries and a promise chain before
// its first byte; once the app has answered it, what the URL names (a blob, its size and headers) is
// kept here for as long as the repository generations it was read in are the current ones, and the
// next request for it opens the blob and answers it without the framework. The key is armored once per
// change of the keyring, not on every request.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import type { Keyring } from '../signing/keyring.ts';
import { answerFile, type FileAnswer, type FileSource } from './file-response.ts';
import { isPlainGet, type WarmReply, type WarmRequest } from './warm-answer.ts';

/** What a package URL was answered with, from the database, in one generation of the repositories. */
export interface PackageFileFacts {
  sha256: string;
  size: number;
  contentType: string;
  lastModified: Date;
  cacheControl: string;
}

interface Remembered extends PackageFileFacts {
  generations: object;
}

/** Answers up to this size are read in one go; larger ones are streamed. */
const smallAnswerBytes = 256 * 1024;

/** URLs remembered at most; a crawl of random URLs starts the map over rather than grow it. */
const maxRemembered = 20_000;

/**
 * Bytes of small package files kept in memory, by sha256, per process: the packages every host of a
 * fleet fetches after an update are answered without touching the disk (open, stat, read and close
 * cost more than the answer). Verified against their sha256 when they enter, so memory never holds
 * what the store does not name; the oldest go first past the budget.
 */
const maxKeptBytes = 32 * 1024 * 1024;

export class PackageFileMemory {
  private readonly byUrl = new Map<string, Remembered>();
  private readonly bytesBySha256 = new Map<string, Buffer>();
  private keptBytes = 0;

  /** Called by the app's package route once it has found what `url` names in `generations`. */
  remember(url: string, generations: object | null, facts: PackageFileFacts): void {
    if (!generations) return;
    if (this.byUrl.size >= maxRemembered) this.byUrl.clear();
    this.byUrl.set(url, { ...facts, generations });
  }

  /** What `url` named, if it was read in exactly these generations (any change since may have moved it). */
  find(url: string, generations: object | null): PackageFileFacts | null {
    const found = this.byUrl.get(url);
    if (!found || found.generations !== generations) return null;
    return found;
  }

  /** A package file's bytes, when memory holds them. */
  bytes(sha256: string): Buffer | null {
    return this.bytesBySha256.get(sha256) ?? null;
  }

  /** Keeps a small package file's bytes read from the store, if they are the ones `sha256` names. */
  keepBytes(sha256: string, bytes: Buffer): void {
    if (bytes.length > smallAnswerBytes || this.bytesBySha256.has(sha256)) return;
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) return;
    for (const [oldest, kept] of this.bytesBySha256) {
      if (this.keptBytes + bytes.length <= maxKeptBytes) break;
      this.bytesBySha256.delete(oldest);
      this.keptBytes -= kept.length;
    }
    this.bytesBySha256.set(sha256, bytes);
    this.keptBytes += bytes.length;
  }
}

/**
 * The answer to a package request from its remembered facts and the blob's local file, or null having
 * kept nothing open (no local file, the blob missing or short: the app then answers, and reports the
 * damaged store as it does; or a file too large for a transport that cannot stream).
 */
export function answerWarmPackage(request: WarmRequest, facts: PackageFileFacts, blobFile: string, memory: PackageFileMemory): WarmReply | null {
  const kept = memory.bytes(facts.sha256);
  if (kept) {
    // A plain GET's answer is made once per URL and generation (the facts), as repomd.xml's is.
    const plain = isPlainGet(request);
    const made = plain ? plainReplies.get(facts) : undefined;
    if (made && made.body === kept) return made;
    let fromMemory: FileAnswer;
    try {
      fromMemory = answerFile(request, { ...packageFileSource(facts, blobFile), body: { bytes: kept } });
    } catch {
      return null;
    }
    const reply = { status: fromMemory.status, headers: fromMemory.headers, body: Buffer.isBuffer(fromMemory.body) ? fromMemory.body : null };
    if (plain) plainReplies.set(facts, reply);
    return reply;
  }
  let fd: number;
  try {
    // Synchronous, as nginx's open: a local open is microseconds, and the answer can still fall back
    // to the app only while nothing has been written.
    fd = openSync(blobFile, 'r');
  } catch {
    return null;
  }
  let reply: FileAnswer;
  try {
    if (fstatSync(fd).size !== facts.size) throw new Error('damaged');
    reply = answerFile(request, packageFileSource(facts, blobFile));
  } catch {
    // A damaged blob, or a range outside the file: the app's answer (a problem document) is the answer.
    closeSync(fd);
    return null;
  }
  if (reply.body === null || Buffer.isBuffer(reply.body)) {
    closeSync(fd);
    return { status: reply.status, headers: reply.headers, body: reply.body };
  }
  const { start, end } = reply.body;
  const length = end - start + 1;
  if (length > smallAnswerBytes) {
    if (request.streams) return { status: reply.status, headers: reply.headers, body: { fd, start, end } };
    closeSync(fd);
    return null;
  }
  // Most packages are small: one read beats a stream's set-up, as nginx's sendfile beats its buffers.
  const bytes = Buffer.allocUnsafe(length);
  let read = 0;
  try {
    while (read < length) {
      const got = readSync(fd, bytes, read, length - read, start + read);
      if (got === 0) throw new Error('short');
      read += got;
    }
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
  if (length === facts.size) memory.keepBytes(facts.sha256, bytes);
  return { status: reply.status, headers: reply.headers, body: bytes };
}

/** Answers to plain GETs of package files held in memory, by the facts they were made from. */
const plainReplies = new WeakMap<PackageFileFacts, WarmReply>();

function packageFileSource(facts: PackageFileFacts, path: string): FileSource {
  return {
    body: { path },
    size: facts.size,
    contentType: facts.contentType,
    etag: `"${facts.sha256}"`,
    lastModified: facts.lastModified,
    cacheControl: facts.cacheControl,
  };
}

/** /keys/rpmgate.asc as a file answer, armored again only when the published keys change. */
export class PublicKeyFile {
  private kept: { armored: string; file: FileSource } | null = null;

  constructor(private readonly keyring: Keyring) {}

  file(): FileSource {
    const armored = this.keyring.publicKeysArmored();
    if (this.kept?.armored !== armored) {
      const bytes = Buffer.from(armored, 'utf8');
      this.kept = {
        armored,
        file: {
          body: { bytes },
          size: bytes.length,
          contentType: 'application/pgp-keys',
          etag: `"${createHash('sha256').update(bytes).digest('hex')}"`,
          // The published keys change with a rotation: always revalidate, by ETag.
          cacheControl: 'no-cache',
          etagOnly: true,
        },
      };
    }
    return this.kept.file;
  }
}

export function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}
