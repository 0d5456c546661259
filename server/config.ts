// The server's configuration: read from the environment once, failing fast with a readable message.
import os from 'node:os';
import path from 'node:path';
import { RpmgateError } from '../common/errors.ts';
import { logFormats, logLevels, type LogFormat, type LogLevel } from './log.ts';
import { readRetentionSettings, type RetentionSettings } from './retention/settings.ts';
import { readSigningAlgorithm, type SigningAlgorithm } from './signing/keyring.ts';
import { readStoreConfig, type StoreConfig } from './store/store-config.ts';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** An external PostgreSQL; null starts the embedded one under dataDir. */
  databaseUrl: string | null;
  adminToken: string | null;
  /** Public URL written into .repo files; null derives it from each request. */
  baseUrl: string | null;
  /**
   * Host headers the server answers (RPMGATE_ALLOWED_HOSTS), as host or host:port, lowercase; '*' any.
   * null: the listen address, localhost and the machine's host names (server/http/host-check.ts).
   */
  allowedHosts: string[] | null;
  /** Largest accepted package upload, in bytes. */
  maxUploadBytes: number;
  /** Largest accepted JSON body, in bytes. */
  maxJsonBytes: number;
  /** When true, repositories need HTTP basic auth with a token as the password. */
  repoAuth: boolean;
  /** gzip level of generated repodata (1 fastest .. 9 smallest). */
  repodataGzipLevel: number;
  /** Bytes of generated metadata files kept in memory for fast answers. */
  repodataMemoryBytes: number;
  signingKeyFile: string | null;
  /** Algorithm of a key rpmgate generates (RPMGATE_SIGNING_ALGORITHM). */
  signingAlgorithm: SigningAlgorithm;
  signingKeyPassphrase: string | null;
  /** HTTP worker processes (RPMGATE_WORKERS, default the number of cores); 1 serves in one process. */
  workers: number;
  /** Bearer token /metrics asks for (RPMGATE_METRICS_TOKEN); null leaves it open. */
  metricsToken: string | null;
  /** RPMGATE_SIGNING_KEY_TAKEOVER=1: this server's key becomes the database's even if another one signs. */
  signingKeyTakeover: boolean;
  /** RPMGATE_POLICY_FILE: the entry-check policy (YAML or JSON); null: the defaults. */
  policyFile: string | null;
  /** RPMGATE_RPMLINT=off turns rpmlint off explicitly (every finding then says it was skipped). */
  rpmlintEnabled: boolean;
  /** Cleanup: policy file, SMTP, schedule (server/retention/settings.ts). */
  retention: RetentionSettings;
  /** Where package blobs live (server/store/store-config.ts). */
  store: StoreConfig;
  /** RPMGATE_MIRROR_SYNC_INTERVAL: seconds between scheduled syncs of every mirror; 0 (default): only on request. */
  mirrorSyncIntervalSeconds: number;
  /** First retry of a set member whose upstream failed (then doubling, at most an hour). */
  mirrorRetrySeconds: number;
  /** RPMGATE_LOG_LEVEL: the lowest level written (default info; debug adds the warm path's access lines). */
  logLevel: LogLevel;
  /** RPMGATE_LOG_FORMAT: json (one object per line, default) or pretty (one text line, for a terminal). */
  logFormat: LogFormat;
}

type Env = Record<string, string | undefined>;

export function readConfig(env: Env = process.env): Config {
  return {
    port: readInteger(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: path.resolve(env.RPMGATE_DATA_DIR || './var'),
    databaseUrl: readDatabaseUrl(env),
    adminToken: readAdminToken(env),
    baseUrl: readBaseUrl(env),
    allowedHosts: readAllowedHosts(env),
    maxUploadBytes: readInteger(env, 'RPMGATE_MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    maxJsonBytes: readInteger(env, 'RPMGATE_MAX_JSON_BYTES', 64 * 1024 ** 2, 1024, Number.MAX_SAFE_INTEGER),
    repoAuth: env.RPMGATE_REPO_AUTH === '1',
    repodataGzipLevel: readInteger(env, 'RPMGATE_REPODATA_GZIP_LEVEL', 6, 1, 9),
    repodataMemoryBytes: readInteger(env, 'RPMGATE_REPODATA_MEMORY_MB', 128, 0, 1 << 20) * 1024 * 1024,
    signingKeyFile: env.RPMGATE_SIGNING_KEY_FILE || null,
    signingKeyPassphrase: env.RPMGATE_SIGNING_KEY_PASSPHRASE ?? null,
    signingAlgorithm: readSigningAlgorithm(env),
    workers: readInteger(env, 'RPMGATE_WORKERS', os.availableParallelism(), 1, 256),
    metricsToken: env.RPMGATE_METRICS_TOKEN || null,
    signingKeyTakeover: env.RPMGATE_SIGNING_KEY_TAKEOVER === '1',
    policyFile: env.RPMGATE_POLICY_FILE ? path.resolve(env.RPMGATE_POLICY_FILE) : null,
    rpmlintEnabled: env.RPMGATE_RPMLINT !== 'off',
    retention: readRetentionSettings(env),
    store: readStoreConfig(env),
    mirrorSyncIntervalSeconds: readInteger(env, 'RPMGATE_MIRROR_SYNC_INTERVAL', 0, 0, 366 * 86400),
    mirrorRetrySeconds: readInteger(env, 'RPMGATE_MIRROR_RETRY_SECONDS', 15, 1, 3600),
    logLevel: readChoice(env, 'RPMGATE_LOG_LEVEL', logLevels, 'info'),
    logFormat: readChoice(env, 'RPMGATE_LOG_FORMAT', logFormats, 'json'),
  };
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new RpmgateError('usage', `${name} must be one of ${choices.join(', ')}, not "${raw}"`);
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RpmgateError('usage', `${name} must be an integer between ${min} and ${max}, not "${raw}"`);
  }
  return value;
}

function readAdminToken(env: Env): string | null {
  const token = env.RPMGATE_ADMIN_TOKEN;
  if (!token) return null;
  // A short bootstrap token would be guessable: refuse it rather than run insecurely.
  if (token.length < 16) throw new RpmgateError('usage', 'RPMGATE_ADMIN_TOKEN must be at least 16 characters');
  // It is sent as "Authorization: Bearer TOKEN", whose grammar (RFC 6750's b64token) allows no more.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new RpmgateError('usage', 'RPMGATE_ADMIN_TOKEN may hold only letters, digits and - . _ ~ + / (and = at the end)');
  }
  return token;
}

function readDatabaseUrl(env: Env): string | null {
  const raw = env.DATABASE_URL;
  if (!raw) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    // The URL itself may hold a password: name its form, not its text.
    throw new RpmgateError('usage', 'DATABASE_URL must be a postgres:// URL, e.g. postgres://user:password@host:5432/rpmgate');
  }
  return raw;
}

function readBaseUrl(env: Env): string | null {
  const raw = env.RPMGATE_BASE_URL;
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RpmgateError('usage', `RPMGATE_BASE_URL is not a URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RpmgateError('usage', `RPMGATE_BASE_URL must be http or https: "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/** host, host:port, [v6] or [v6]:port: the forms of a Host header (RFC 9110), without userinfo. */
const hostEntry = /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

function readAllowedHosts(env: Env): string[] | null {
  const raw = env.RPMGATE_ALLOWED_HOSTS?.trim();
  if (!raw) return null;
  const entries = raw.toLowerCase().split(/[\s,]+/).filter(Boolean);
  for (const entry of entries) {
    if (entry === '*') {
      // Without a base URL, .repo files are written with the Host header's name: any host would do.
      if (!env.RPMGATE_BASE_URL) throw new RpmgateError('usage', 'RPMGATE_ALLOWED_HOSTS=* needs RPMGATE_BASE_URL: .repo files take their URLs from the Host header otherwise');
      continue;
    }
    const match = hostEntry.exec(entry);
    if (!match || (match[1] !== undefined && (Number(match[1]) < 1 || Number(match[1]) > 65535))) {
      throw new RpmgateError('usage', `RPMGATE_ALLOWED_HOSTS: "${entry}" is not a host name, address or host:port`);
    }
  }
  return entries;
}
