// The package store's configuration: RPMGATE_STORE_URL (unset: the file system under the data dir;
// s3://BUCKET/PREFIX: S3), RPMGATE_S3_ENDPOINT (S3-compatible stores: path-style addressing),
// RPMGATE_S3_REGION, RPMGATE_S3_REDIRECT=1 (package downloads answered with a 302 to a presigned URL).
// Credentials come from the AWS SDK's standard sources (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE, instance roles), never from rpmgate's own variables.
import { RpmgateError } from '../../common/errors.ts';

/** root: a directory shared by several servers (file:///PATH, e.g. NFS); null: DATA_DIR. */
export type StoreConfig = { kind: 'fs'; root: string | null } | S3StoreConfig;

export interface S3StoreConfig {
  kind: 's3';
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
  endpoint: string | null;
  region: string;
  redirect: boolean;
}

type Env = Record<string, string | undefined>;

export function readStoreConfig(env: Env): StoreConfig {
  const raw = env.RPMGATE_STORE_URL;
  if (!raw) return { kind: 'fs', root: null };
  if (raw.startsWith('file://')) {
    const root = decodeURIComponent(new URL(raw).pathname);
    if (!root.startsWith('/') || root === '/') throw new RpmgateError('usage', `RPMGATE_STORE_URL: file:// needs an absolute directory, not "${raw}"`);
    return { kind: 'fs', root };
  }
  return parseStoreUrl(raw, env);
}

/** s3://BUCKET/PREFIX with the S3 variables of `env`. */
export function parseStoreUrl(raw: string, env: Env): S3StoreConfig {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw);
  if (!match) throw new RpmgateError('usage', `RPMGATE_STORE_URL must be s3://BUCKET/PREFIX (a bucket name in lowercase letters, digits, dots and dashes), not "${raw}"`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.')) throw new RpmgateError('usage', `RPMGATE_STORE_URL: the prefix may not hold . or .. segments: "${raw}"`);
  const endpoint = env.RPMGATE_S3_ENDPOINT || null;
  if (endpoint) {
    let url: URL | null = null;
    try {
      url = new URL(endpoint);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new RpmgateError('usage', `RPMGATE_S3_ENDPOINT must be an http(s) URL, not "${endpoint}"`);
  }
  return {
    kind: 's3',
    bucket: match[1]!,
    prefix,
    endpoint,
    region: env.RPMGATE_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    redirect: env.RPMGATE_S3_REDIRECT === '1',
  };
}
