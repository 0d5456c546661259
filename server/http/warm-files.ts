// Warm answers for package files and the public key, in front of the app (beside the warm repodata
// answers of repomd-fast-path.ts). A package URL costs the app two queries and a promise chain before
// its first byte; once the app has answered it, what the URL names (a blob, its size and headers) is
// kept here for as long as the repository generations it was read in are the current ones, and the
// next request for it opens the blob and streams it without the framework. The key is armored once per
// change of the keyring, not on every request.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';
import type { Keyring } from '../signing/keyring.ts';
import { answerFile, type FileAnswer, type FileSource } from './file-response.ts';

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

export class PackageFileMemory {
  private readonly byUrl = new Map<string, Remembered>();

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
}

/**
 * Answers a package request from its remembered facts and the blob's local file, or returns false
 * having written nothing (no local file, the blob missing or short: the app then answers, and
 * reports the damaged store as it does).
 */
export function answerWarmPackage(req: IncomingMessage, res: ServerResponse, facts: PackageFileFacts, blobFile: string): boolean {
  let fd: number;
  try {
    // Synchronous, as nginx's open: a local open is microseconds, and the answer can still fall back
    // to the app only while nothing has been written.
    fd = openSync(blobFile, 'r');
  } catch {
    return false;
  }
  let reply: FileAnswer;
  try {
    if (fstatSync(fd).size !== facts.size) throw new Error('damaged');
    reply = answerFile({ method: req.method ?? 'GET', header: (name) => headerOf(req, name) }, packageFileSource(facts, blobFile));
  } catch {
    // A damaged blob, or a range outside the file: the app's answer (a problem document) is the answer.
    closeSync(fd);
    return false;
  }
  if (reply.body === null || Buffer.isBuffer(reply.body)) {
    closeSync(fd);
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? undefined);
    return true;
  }
  const length = reply.body.end - reply.body.start + 1;
  if (length <= smallAnswerBytes) {
    // Most packages are small: one read beats a stream's set-up, as nginx's sendfile beats its buffers.
    const bytes = Buffer.allocUnsafe(length);
    let read = 0;
    try {
      while (read < length) {
        const got = readSync(fd, bytes, read, length - read, reply.body.start + read);
        if (got === 0) throw new Error('short');
        read += got;
      }
    } catch {
      closeSync(fd);
      return false;
    }
    closeSync(fd);
    res.writeHead(reply.status, reply.headers);
    res.end(bytes);
    return true;
  }
  res.writeHead(reply.status, reply.headers);
  const stream = createReadStream('', { fd, start: reply.body.start, end: reply.body.end, highWaterMark: 256 * 1024, autoClose: true });
  // pipeline destroys the file stream (closing the descriptor) when the client goes away mid-answer.
  pipeline(stream, res, () => {});
  return true;
}

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
