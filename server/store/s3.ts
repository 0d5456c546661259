// The S3 backend of the package store (RPMGATE_STORE_URL=s3://BUCKET/PREFIX): blobs at
// PREFIX/blobs/<first two hex>/<sha256>. adopt() uploads the local file to a temporary key
// (PREFIX/tmp/...; multipart above 64 MiB, every part with its Content-MD5, aborted on failure), checks
// the object's size and ETag against the local file's, then copies it to its content address and
// removes the temporary key: a content address only ever names a complete, verified object. Failures
// to reach the store are `unavailable` (503), never a 500.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { RpmgateError } from '../../common/errors.ts';
import type { Logger } from '../log.ts';
import { LocalTemp } from './local-temp.ts';
import type { S3StoreConfig } from './store-config.ts';
import { assertSha256, blobDamaged, isSha256, type BlobStat, type BlobStore, type ListedBlob, type LocalBlob, type ReadRequest, type WrittenFile } from './store.ts';

/** Files above this size are uploaded in parts of partSize (S3 allows 5 MiB .. 5 GiB per part but the last). */
export interface MultipartTuning {
  multipartThreshold: number;
  partSize: number;
}
const defaultTuning: MultipartTuning = { multipartThreshold: 64 * 1024 * 1024, partSize: 16 * 1024 * 1024 };
/** Temporary keys and multipart uploads older than this were left by a crash: removed at open. */
const staleAfterMs = 6 * 3600 * 1000;
const presignSeconds = 300;

export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly temp: LocalTemp;
  private readonly root: string;

  constructor(
    private readonly config: S3StoreConfig,
    tempDir: string,
    private readonly log: Logger,
    private readonly tuning: MultipartTuning = defaultTuning,
  ) {
    this.location = `s3://${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`;
    this.root = config.prefix ? `${config.prefix}/` : '';
    this.temp = new LocalTemp(tempDir);
    // The SDK's multi-line notice about Node 22 would break rpmgate's one-JSON-line-per-record log
    // and the CLI's one-line errors; package-lock.json pins a release that runs on Node 20.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
      // Stream bodies stay plain (not aws-chunked, which S3-compatible stores such as Swift refuse);
      // integrity is checked with Content-MD5 and the ETag instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A store that does not answer must become a fast 503, not a request that hangs.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 60_000 },
    });
  }

  async open(options: { clearTemp?: boolean } = {}): Promise<void> {
    const clearTemp = options.clearTemp ?? true;
    await this.temp.prepare(clearTemp);
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (error) {
      if (statusOf(error) === 404) throw new RpmgateError('usage', `RPMGATE_STORE_URL: the bucket ${this.config.bucket} does not exist`);
      if (statusOf(error) === 403) throw new RpmgateError('usage', `RPMGATE_STORE_URL: access to the bucket ${this.config.bucket} is denied (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
      throw this.unavailable(error);
    }
    if (clearTemp) await this.removeStaleUploads().catch((error: unknown) => this.log.warn('could not remove stale temporary objects', { store: this.location, error: String(error) }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  tempPath(suffix = ''): string {
    return this.temp.path(suffix);
  }

  writeTemp(source: Readable, limit: number): Promise<WrittenFile> {
    return this.temp.write(source, limit);
  }

  writeTempBytes(bytes: Uint8Array, suffix = '.rpm'): Promise<string> {
    return this.temp.writeBytes(bytes, suffix);
  }

  blobKey(sha256: string): string {
    assertSha256(sha256);
    return `${this.root}blobs/${sha256.slice(0, 2)}/${sha256}`;
  }

  async adopt(tempFile: string, sha256: string): Promise<void> {
    const { size } = await fs.stat(tempFile);
    const present = await this.stat(sha256);
    if (present?.size === size) {
      await fs.rm(tempFile, { force: true });
      return;
    }
    const tmpKey = `${this.root}tmp/${Date.now()}-${randomBytes(8).toString('hex')}`;
    try {
      const expectedEtag = size > this.tuning.multipartThreshold ? await this.putMultipart(tempFile, tmpKey, size, sha256) : await this.putSingle(tempFile, tmpKey, size, sha256);
      const head = await this.call(() => this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: tmpKey })));
      const etag = unquote(head.ETag);
      if (head.ContentLength !== size || etag !== expectedEtag) {
        throw new RpmgateError('unavailable', `the package store stored ${head.ContentLength ?? '?'} bytes (ETag ${etag}) for ${sha256} instead of ${size} (ETag ${expectedEtag}); the upload was discarded`);
      }
      await this.call(() =>
        this.client.send(
          new CopyObjectCommand({ Bucket: this.config.bucket, Key: this.blobKey(sha256), CopySource: `${this.config.bucket}/${encodeKey(tmpKey)}`, MetadataDirective: 'COPY' }),
        ),
      );
      const copied = await this.stat(sha256);
      if (copied?.size !== size) throw new RpmgateError('unavailable', `the package store's copy of ${sha256} holds ${copied?.size ?? 'no'} bytes instead of ${size}`);
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: tmpKey })).catch(() => undefined);
    }
    await fs.rm(tempFile, { force: true });
  }

  /** One PUT with Content-MD5 (the store refuses a body that differs); returns the expected ETag. */
  private async putSingle(file: string, key: string, size: number, sha256: string): Promise<string> {
    const md5 = await md5Of(file, 0, size);
    await this.call(() =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.config.bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentMD5: md5.toString('base64'),
          ContentType: 'application/x-rpm',
          Metadata: { sha256 },
        }),
      ),
    );
    return md5.toString('hex');
  }

  /** A multipart upload, aborted on any failure; returns the expected ETag (md5 of the parts' md5s, "-N"). */
  private async putMultipart(file: string, key: string, size: number, sha256: string): Promise<string> {
    const created = await this.call(() =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, ContentType: 'application/x-rpm', Metadata: { sha256 } })),
    );
    const uploadId = created.UploadId!;
    const parts: { PartNumber: number; ETag: string }[] = [];
    const digests: Buffer[] = [];
    try {
      for (let start = 0, number = 1; start < size; start += this.tuning.partSize, number++) {
        const end = Math.min(size, start + this.tuning.partSize) - 1;
        const md5 = await md5Of(file, start, end + 1);
        digests.push(md5);
        const answer = await this.call(() =>
          this.client.send(
            new UploadPartCommand({
              Bucket: this.config.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: number,
              Body: createReadStream(file, { start, end }),
              ContentLength: end - start + 1,
              ContentMD5: md5.toString('base64'),
            }),
          ),
        );
        parts.push({ PartNumber: number, ETag: answer.ETag ?? `"${md5.toString('hex')}"` });
      }
      await this.call(() =>
        this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
      );
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
    return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async stat(sha256: string): Promise<BlobStat | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.blobKey(sha256) }));
      return { size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw this.unavailable(error);
    }
  }

  async read(sha256: string, request: ReadRequest): Promise<Readable> {
    const ranged = request.start !== undefined || request.end !== undefined;
    const range = ranged ? `bytes=${request.start ?? 0}-${request.end ?? ''}` : undefined;
    let answer;
    try {
      answer = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.blobKey(sha256), Range: range }));
    } catch (error) {
      if (statusOf(error) === 404) throw blobDamaged(sha256, request.size, null, this.location);
      // A range beyond a short object: the object is not what the row records.
      if (statusOf(error) === 416) throw blobDamaged(sha256, request.size, (await this.stat(sha256))?.size ?? null, this.location);
      throw this.unavailable(error);
    }
    const body = answer.Body as Readable;
    const total = totalSize(answer.ContentRange) ?? answer.ContentLength;
    if (total !== request.size) {
      body.destroy();
      throw blobDamaged(sha256, request.size, total ?? null, this.location);
    }
    return body;
  }

  async localCopy(sha256: string): Promise<LocalBlob> {
    const target = this.temp.path('.rpm');
    const stat = await this.stat(sha256);
    if (!stat) throw blobDamaged(sha256, 0, null, this.location);
    const hash = createHash('sha256');
    try {
      const body = await this.read(sha256, { size: stat.size });
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(body, hasher, createWriteStream(target)).catch((error: unknown) => {
        throw this.unavailable(error);
      });
      const digest = hash.digest('hex');
      if (digest !== sha256) throw new RpmgateError('internal', `the stored object ${sha256} in ${this.location} has the content of ${digest}: the store is damaged`);
    } catch (error) {
      await fs.rm(target, { force: true });
      throw error;
    }
    return { path: target, release: () => fs.rm(target, { force: true }) };
  }

  async remove(sha256: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.blobKey(sha256) })));
  }

  async *list(): AsyncIterable<ListedBlob> {
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: `${this.root}blobs/`, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(object.Key.lastIndexOf('/') + 1) ?? '';
        if (isSha256(name)) yield { sha256: name, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  localFile(): null {
    return null;
  }

  async redirectUrl(sha256: string, filename: string, contentType: string): Promise<string | null> {
    if (!this.config.redirect) return null;
    const command = new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: this.blobKey(sha256),
      ResponseContentType: contentType,
      ResponseContentDisposition: `attachment; filename="${filename.replace(/["\\]/g, '_')}"`,
    });
    return getSignedUrl(this.client, command, { expiresIn: presignSeconds });
  }

  /** Temporary objects and multipart uploads a crash left behind (older than a few hours: not in flight). */
  private async removeStaleUploads(): Promise<void> {
    const before = Date.now() - staleAfterMs;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: `${this.root}tmp/`, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key && (object.LastModified?.getTime() ?? 0) < before) await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: object.Key }));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const uploads = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.config.bucket, Prefix: `${this.root}tmp/` }));
    for (const upload of uploads.Uploads ?? []) {
      if ((upload.Initiated?.getTime() ?? 0) < before) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: upload.Key, UploadId: upload.UploadId }));
      }
    }
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Any failure to talk to the store, as a 503 that names it; rpmgate's own errors pass through. */
  private unavailable(error: unknown): RpmgateError {
    if (error instanceof RpmgateError) return error;
    const detail = error instanceof S3ServiceException ? `${error.name} (${statusOf(error) ?? '?'})` : error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
    this.log.error('package store unavailable', { store: this.location, error: detail });
    return new RpmgateError('unavailable', `the package store ${this.location} is unavailable (${detail}); try again shortly`);
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** The total of a Content-Range "bytes a-b/total". */
function totalSize(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /\/(\d+)$/.exec(contentRange) : null;
  return match ? Number(match[1]) : undefined;
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

async function md5Of(file: string, start: number, endExclusive: number): Promise<Buffer> {
  const hash = createHash('md5');
  if (endExclusive > start) {
    for await (const chunk of createReadStream(file, { start, end: endExclusive - 1, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  }
  return hash.digest();
}
