// The package blob store's interface: content-addressed blobs (named by their sha256) behind two
// backends, the local file system (fs.ts, the default) and S3 (s3.ts). Uploads and signing work on
// local temporary files (local-temp.ts); adopt() makes a verified temporary file a blob. A blob is
// visible under its content address only once it is complete, so a database row never names a
// partial object.
import type { Readable } from 'node:stream';
import { RpmgateError } from '../../common/errors.ts';

export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
}

export interface BlobStat {
  size: number;
  modifiedAt: Date;
}

export interface ListedBlob extends BlobStat {
  sha256: string;
}

/** A blob as a local file for readers that need one (the RPM reader, the signer). */
export interface LocalBlob {
  path: string;
  /** Removes the local copy, if one was made (a file system blob is its own path). */
  release(): Promise<void>;
}

export interface ReadRequest {
  /** The size the database records: anything else is a damaged blob, refused before any byte. */
  size: number;
  /** Inclusive byte range; the whole blob when omitted. */
  start?: number;
  end?: number;
}

export interface BlobStore {
  /** Where the blobs are, for logs: a directory or s3://bucket/prefix. */
  readonly location: string;
  /**
   * Prepares the store (directories, a reachable bucket). The owner of the data dir (`clearTemp`)
   * also removes temporary files a crash left; a worker starting beside others must not remove the
   * files they are writing.
   */
  open(options?: { clearTemp?: boolean }): Promise<void>;
  close(): Promise<void>;
  /** A fresh local temporary path, adopted or removed by its user. */
  tempPath(suffix?: string): string;
  /** Streams `source` into a local temporary file (fsynced), hashing it, refusing more than `limit` bytes. */
  writeTemp(source: Readable, limit: number): Promise<WrittenFile>;
  /** Writes bytes to a local temporary file (fsynced) and returns its path. */
  writeTempBytes(bytes: Uint8Array, suffix?: string): Promise<string>;
  /** Makes the durable local file `tempFile`, whose content is `sha256`, the blob of that digest; idempotent. */
  adopt(tempFile: string, sha256: string): Promise<void>;
  stat(sha256: string): Promise<BlobStat | null>;
  has(sha256: string): Promise<boolean>;
  /** The blob's bytes; throws blobDamaged (before any byte) when it is missing or not of the recorded size. */
  read(sha256: string, request: ReadRequest): Promise<Readable>;
  localCopy(sha256: string): Promise<LocalBlob>;
  remove(sha256: string): Promise<void>;
  /** Every blob, in no particular order. */
  list(): AsyncIterable<ListedBlob>;
  /**
   * The blob's own file on this machine, for the warm path (server/http/warm-files.ts), which opens it
   * without waiting on a promise; null where blobs are not local files (S3).
   */
  localFile(sha256: string): string | null;
  /** A time-limited URL that serves the blob directly (S3 with RPMGATE_S3_REDIRECT=1), or null. */
  redirectUrl(sha256: string, filename: string, contentType: string): Promise<string | null>;
}

const sha256Pattern = /^[0-9a-f]{64}$/;

export function assertSha256(sha256: string): void {
  if (!sha256Pattern.test(sha256)) throw new RpmgateError('internal', `not a sha256 digest: ${sha256}`);
}

export function isSha256(name: string): boolean {
  return sha256Pattern.test(name);
}

/** A blob that a row names and that is missing or of another size: the store was damaged. */
export function blobDamaged(sha256: string, expected: number, found: number | null, location: string): RpmgateError {
  const what = found === null ? 'is missing' : `holds ${found} bytes instead of ${expected}`;
  return new RpmgateError(
    'internal',
    `the stored file ${sha256} ${what} in the package store (${location}); run \`rpmgate store fsck\`, then upload the package again or restore the store`,
    { sha256, expectedSize: expected, foundSize: found, reason: found === null ? 'blob_missing' : 'blob_size_mismatch' },
  );
}

export function isBlobDamaged(error: unknown): error is RpmgateError {
  return error instanceof RpmgateError && typeof error.extra.reason === 'string' && error.extra.reason.startsWith('blob_');
}
