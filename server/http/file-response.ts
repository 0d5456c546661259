// HTTP answers for files: conditional requests (ETag / If-None-Match, Last-Modified /
// If-Modified-Since), single byte ranges, HEAD, and streaming from disk or bytes from memory.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { RpmgateError } from '../../common/errors.ts';

/**
 * A file the database names is missing or shorter than recorded on disk (disk damage, a bad restore).
 * Found before the status line is sent: a 200 with a Content-Length and then a cut body would make dnf
 * retry and blame the network.
 */
export class MissingStoredFile extends Error {
  constructor(
    readonly path: string,
    readonly expectedSize: number,
    readonly foundSize: number | null,
  ) {
    super(`stored file ${path} is ${foundSize === null ? 'missing' : `${foundSize} bytes, not ${expectedSize}`}`);
  }
}

export interface FileSource {
  /**
   * The file's bytes in memory, a path on disk to stream from, or a stream opened for the byte range
   * answered (a package store's blob: opening it checks the blob before any byte of the answer).
   */
  body: { bytes: Buffer } | { path: string } | { open: BlobOpener };
  size: number;
  contentType: string;
  etag: string;
  lastModified?: Date;
  cacheControl: string;
  /**
   * Answer 304 on If-None-Match only, never on If-Modified-Since alone: for files whose content can
   * change twice within the second that Last-Modified resolves (repomd.xml after two promotions),
   * where a date would call a newer file unmodified.
   */
  etagOnly?: boolean;
}

export type BlobOpener = (range: { start: number; end: number }) => Promise<Readable>;

/** What a request is asked with: its method and its headers by (lowercase) name. */
export interface FileRequest {
  method: string;
  header(name: string): string | null;
}

/** The answer to a file request, before any transport: Hono's Response, or Node's own response. */
export interface FileAnswer {
  status: number;
  headers: Record<string, string>;
  /** Bytes from memory, a byte range of a file on disk, or nothing (HEAD, 304, empty). */
  body: Buffer | { path: string; start: number; end: number } | { open: BlobOpener; start: number; end: number } | null;
}

export function answerFile(request: FileRequest, file: FileSource): FileAnswer {
  const headers: Record<string, string> = {
    'content-type': file.contentType,
    etag: file.etag,
    'cache-control': file.cacheControl,
    'accept-ranges': 'bytes',
  };
  if (file.lastModified) headers['last-modified'] = file.lastModified.toUTCString();
  if (isNotModified(request, file)) return { status: 304, headers, body: null };

  const range = parseRange(request.header('range'), file.size, request.header('if-range'), file.etag);
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
  const status = range ? 206 : 200;
  if (request.method === 'HEAD' || length === 0) return { status, headers, body: null };
  if ('bytes' in file.body) return { status, headers, body: range ? file.body.bytes.subarray(start, end + 1) : file.body.bytes };
  if ('open' in file.body) return { status, headers, body: { open: file.body.open, start, end } };
  return { status, headers, body: { path: file.body.path, start, end } };
}

/** The answer; a stored file or blob is opened (and checked) before any byte of it is sent. */
export async function fileResponse(request: Request, file: FileSource): Promise<Response> {
  const answer = answerFile({ method: request.method, header: (name) => request.headers.get(name) }, file);
  // A plain record, not a Headers object: @hono/node-server writes it straight to the socket, where
  // undici's Headers would cost more than the rest of a warm repomd.xml answer (profiled).
  const init = { status: answer.status, headers: answer.headers };
  if (answer.body === null) {
    // HEAD and 304 promise a file too: check that it is there.
    if ('path' in file.body && answer.status !== 304) await (await openStoredFile(file.body.path, file.size)).close();
    return new Response(null, init);
  }
  if (Buffer.isBuffer(answer.body)) return new Response(answer.body as Uint8Array<ArrayBuffer>, init);
  if ('open' in answer.body) {
    const blob = await answer.body.open({ start: answer.body.start, end: answer.body.end });
    return new Response(Readable.toWeb(blob) as ReadableStream<Uint8Array>, init);
  }
  const handle = await openStoredFile(answer.body.path, file.size);
  const stream = handle.createReadStream({ start: answer.body.start, end: answer.body.end, highWaterMark: 256 * 1024, autoClose: true });
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, init);
}

/** Opens a stored file and checks it holds the recorded size, before any byte of the answer is sent. */
async function openStoredFile(path: string, size: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingStoredFile(path, size, null);
    throw error;
  }
  const found = (await handle.stat()).size;
  if (found < size) {
    await handle.close();
    throw new MissingStoredFile(path, size, found);
  }
  return handle;
}

function isNotModified(request: FileRequest, file: FileSource): boolean {
  const ifNoneMatch = request.header('if-none-match');
  if (ifNoneMatch !== null) {
    return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag);
  }
  const ifModifiedSince = request.header('if-modified-since');
  if (ifModifiedSince !== null && file.lastModified && !file.etagOnly) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(file.lastModified.getTime() / 1000) * 1000 <= since;
  }
  return false;
}

/**
 * One byte range (RFC 9110 §14.1.2); null for "the whole file". Several ranges are answered with the
 * whole file, which the RFC allows and every package client handles.
 */
function parseRange(header: string | null, size: number, ifRange: string | null, etag: string): { start: number; end: number } | null {
  if (header === null) return null;
  if (ifRange !== null && ifRange.trim() !== etag) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match;
  let start: number;
  let end: number;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): RpmgateError {
  return new RpmgateError('range_not_satisfiable', `the range is outside the file of ${size} bytes`, { size });
}
