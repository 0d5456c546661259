// Talking to an upstream repository: one GET with a time limit, its errors turned into clear
// `upstream` / `upstream_timeout` errors naming the URL, and downloads into the blob store's temporary
// area checked against the checksum the upstream's metadata states (any algorithm repomd.xml and
// primary.xml use: sha256, sha512, sha1...), hashed as they stream.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { RpmgateError } from '../../common/errors.ts';
import type { BlobStore, WrittenFile } from '../store/store.ts';

const defaultTimeoutMs = 60_000;
const supportedDigests = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'md5']);

export interface ExpectedChecksum {
  type: string;
  value: string;
}

/** The base URL with the relative href resolved against it (a base without a final slash gets one). */
export function upstreamUrl(baseurl: string, href: string): string {
  const base = baseurl.endsWith('/') ? baseurl : `${baseurl}/`;
  return new URL(href, base).toString();
}

/** GET url; a status other than 200 is an `upstream` error naming it. Null for a 404 when `allowMissing`. */
export async function fetchUpstream(url: string, options: { timeoutMs?: number; allowMissing?: boolean } = {}): Promise<Readable | null> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (error) {
    throw upstreamFailure(url, error, timeoutMs);
  }
  if (response.status === 404 && options.allowMissing) {
    await response.body?.cancel();
    return null;
  }
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    throw new RpmgateError('upstream', `${url}: the upstream answered ${response.status} ${response.statusText}`.trim(), { url, upstreamStatus: response.status });
  }
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  return body;
}

/** The whole body, at most `limit` bytes (repomd.xml and its signature are small). */
export async function fetchUpstreamBytes(url: string, limit: number, options: { allowMissing?: boolean; timeoutMs?: number } = {}): Promise<Buffer | null> {
  const body = await fetchUpstream(url, options);
  if (!body) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        throw new RpmgateError('upstream', `${url}: larger than ${limit} bytes`, { url });
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw upstreamFailure(url, error, options.timeoutMs ?? defaultTimeoutMs);
  }
  return Buffer.concat(chunks);
}

/**
 * Streams url into a temporary file of the store, refusing more than `limit` bytes and bytes whose
 * digest is not `expected` (the temporary file is then removed). The caller adopts or removes it.
 */
export async function downloadVerified(store: BlobStore, url: string, expected: ExpectedChecksum, limit: number, options: { timeoutMs?: number } = {}): Promise<WrittenFile> {
  const type = normalizeChecksumType(expected.type, url);
  const body = (await fetchUpstream(url, options))!;
  const hash = createHash(type);
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  let written: WrittenFile;
  try {
    written = await store.writeTemp(body.pipe(tee), limit);
  } catch (error) {
    body.destroy();
    if (error instanceof RpmgateError && error.code === 'payload_too_large') throw new RpmgateError('upstream', `${url}: larger than ${limit} bytes`, { url });
    throw upstreamFailure(url, error, options.timeoutMs ?? defaultTimeoutMs);
  }
  const actual = type === 'sha256' ? written.sha256 : hash.digest('hex');
  if (actual !== expected.value.toLowerCase()) {
    await import('node:fs/promises').then((fs) => fs.rm(written.path, { force: true }));
    throw new RpmgateError('upstream', `${url}: checksum mismatch: the upstream states ${type} ${expected.value}, the bytes served have ${actual}`, { url });
  }
  return written;
}

/** repomd.xml and primary.xml say "sha" for sha1 (yum's old name) and "sha256" etc. */
export function normalizeChecksumType(type: string, what: string): string {
  const name = type.toLowerCase() === 'sha' ? 'sha1' : type.toLowerCase();
  if (!supportedDigests.has(name)) throw new RpmgateError('upstream', `${what}: unsupported checksum type "${type}"`);
  return name;
}

function upstreamFailure(url: string, error: unknown, timeoutMs: number): RpmgateError {
  if (error instanceof RpmgateError) return error;
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new RpmgateError('upstream_timeout', `${url}: no answer within ${Math.round(timeoutMs / 1000)} s`, { url });
  }
  const reason = err.cause?.code ?? err.cause?.message ?? err.message;
  return new RpmgateError('upstream', `${url}: cannot reach the upstream (${reason})`, { url });
}
