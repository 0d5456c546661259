// HTTP answers for files: conditional requests (ETag / If-None-Match, Last-Modified /
// If-Modified-Since), single byte ranges, HEAD, and streaming from disk or bytes from memory.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { RpmgateError } from '../../common/errors.ts';

export interface FileSource {
  /** The file's bytes in memory, or a path on disk to stream from. */
  body: { bytes: Buffer } | { path: string };
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

export function fileResponse(request: Request, file: FileSource): Response {
  // A plain record, not a Headers object: @hono/node-server writes it straight to the socket, where
  // undici's Headers would cost more than the rest of a warm repomd.xml answer (profiled).
  const headers: Record<string, string> = {
    'content-type': file.contentType,
    etag: file.etag,
    'cache-control': file.cacheControl,
    'accept-ranges': 'bytes',
  };
  if (file.lastModified) headers['last-modified'] = file.lastModified.toUTCString();
  if (isNotModified(request, file)) return new Response(null, { status: 304, headers });

  const range = parseRange(request.headers.get('range'), file.size, request.headers.get('if-range'), file.etag);
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
  const status = range ? 206 : 200;
  if (request.method === 'HEAD' || length === 0) return new Response(null, { status, headers });

  if ('bytes' in file.body) {
    const slice = range ? file.body.bytes.subarray(start, end + 1) : file.body.bytes;
    return new Response(slice as Uint8Array<ArrayBuffer>, { status, headers });
  }
  const stream = createReadStream(file.body.path, { start, end, highWaterMark: 256 * 1024 });
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
}

function isNotModified(request: Request, file: FileSource): boolean {
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag);
  }
  const ifModifiedSince = request.headers.get('if-modified-since');
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
