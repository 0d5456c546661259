// Starts and stops a whole rpmgate server: database (embedded or external), migrations, package store,
// signer, HTTP listener. Used by `rpmgate serve` and by the integration tests alike. With several HTTP
// workers (server/ops/supervisor.ts) the supervisor opens the services as their owner (data-dir lock,
// database, migrations, background jobs) and each worker opens them as a sharer, then listens.
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { EntryChecks } from './checks/entry-checks.ts';
import { loadPolicy } from './checks/policy.ts';
import { RpmlintRunner } from './checks/rpmlint.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { openDatabase, type Database, type DatabaseTarget } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { RpmgateError } from '../common/errors.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { createApp } from './http/app.ts';
import { warmAnswers, warmPath, type FastPath } from './http/warm-path.ts';
import { installWarmSocket } from './http/warm-socket.ts';
import { PackageFileMemory, PublicKeyFile } from './http/warm-files.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './ops/metrics.ts';
import { accessLog, assignRequestId } from './ops/request-log.ts';
import { RepodataCache } from './repodata/cache.ts';
import { ensureInitialAdminToken } from './services/initial-admin-token.ts';
import { CleanupJob } from './retention/job.ts';
import { KeyRotationJob, type RotationControl } from './services/key-rotation.ts';
import { MirrorSyncSchedule } from './services/mirrors.ts';
import { SetAdoptionJob } from './mirrors/set-adoptions.ts';
import { RepoDirectory } from './services/repositories.ts';
import { claimKeyOfRecord } from './signing/key-of-record.ts';
import { Keyring } from './signing/keyring.ts';
import { createPackageSigner } from './signing/package-signer.ts';
import { createRepomdSigner } from './signing/repomd-signer.ts';
import { openBlobStore } from './store/open.ts';

export interface RunningServer {
  /** http://host:port of the listener. */
  url: string;
  context: AppContext;
  /** The warm repomd.xml path in front of the app (its count of answers shows it in tests). */
  fastPath: FastPath;
  /** The HTTP listener itself (tests watch what it answers). */
  httpServer: Server;
  /** DATA_DIR/initial-admin-token when this start wrote it (a first start without any admin), else null. */
  initialAdminTokenFile: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  /** An already open database (tests share one cluster); otherwise opened from the config. */
  database?: Database;
  /** The cleanup job's clock (tests run it as of a date); default the wall clock. */
  clock?: () => Date;
}

/**
 * 'owner': this process owns the data dir (lock, leftovers of a crash, migrations) and runs the
 * background jobs. 'sharer': an HTTP worker beside an owner that did all that; it runs no job and
 * asks the owner through `rotation` to start one.
 */
export type ServicesRole = { kind: 'owner' } | { kind: 'sharer'; rotation: RotationControl };

export interface OpenServices {
  context: AppContext;
  /** Where the workers connect (null for a database the caller opened without one). */
  databaseTarget: DatabaseTarget | null;
  /** DATA_DIR/initial-admin-token when this start wrote it (owner only), else null. */
  initialAdminTokenFile: string | null;
  close(): Promise<void>;
}

export async function openServices(config: Config, options: StartOptions & { role: ServicesRole }): Promise<OpenServices> {
  const { log, role } = options;
  const owner = role.kind === 'owner';
  const lock: DataDirLock | null = owner ? await lockDataDir(config.dataDir) : null;
  let database: Database;
  try {
    database = options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log }));
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const closeDatabase = async () => {
    if (!options.database) await database.close();
    await lock?.release();
  };
  try {
    if (owner) {
      const migrations = await migrate(database.sql);
      if (migrations.applied.length > 0) log.info('database migrated', { applied: migrations.applied });
    }
    // Only the owner clears what a crash left half-written: a worker starting (or restarted) beside
    // the others must not remove the files they are writing.
    const store = await openBlobStore(config, log, undefined, { clearTemp: owner });
    const keyring = await Keyring.open({
      dataDir: config.dataDir,
      keyFile: config.signingKeyFile,
      passphrase: config.signingKeyPassphrase,
      algorithm: config.signingAlgorithm,
    });
    let initialAdminTokenFile: string | null = null;
    if (owner) {
      await claimKeyOfRecord(database.sql, keyring, { takeover: config.signingKeyTakeover, log });
      initialAdminTokenFile = await ensureInitialAdminToken(database.sql, config, log);
    }
    const repomdSigner = createRepomdSigner(keyring);
    const policy = await loadPolicy(config.policyFile);
    const rpmlint = new RpmlintRunner({ enabled: config.rpmlintEnabled, policy, log });
    await rpmlint.open();
    const entryChecks = new EntryChecks(database.sql, policy, rpmlint);
    const repodata = new RepodataCache({
      sql: database.sql,
      storeDir: path.join(config.dataDir, 'repodata'),
      log,
      signRepomd: (xml) => repomdSigner.signRepomd(xml),
      gzipLevel: config.repodataGzipLevel,
      memoryBudget: config.repodataMemoryBytes,
      retentionMs: 6 * 3600 * 1000,
    });
    await repodata.open({ clearTemporaryFiles: owner });
    const repositories = new RepoDirectory(database.sql, log);
    await repositories.open();
    const base = {
      config,
      sql: database.sql,
      store,
      log,
      signer: createPackageSigner(keyring),
      keyring,
      publicKey: new PublicKeyFile(keyring),
      repodata,
      repositories,
      packageFiles: new PackageFileMemory(),
      entryChecks,
    };
    const cleanup = new CleanupJob(base, { clock: options.clock });
    // The policy file is read (and refused with one line when wrong) before the server listens; the
    // schedule runs in the owner only (a worker runs a cleanup asked of it, under the cleanup lock).
    if (owner) await cleanup.start();
    const rotation = role.kind === 'owner' ? new KeyRotationJob({ ...base, cleanup }) : role.rotation;
    const metrics = createMetrics({ sql: database.sql, repodata, rotation: owner ? rotation : undefined, fleet: owner });
    const setAdoptions = new SetAdoptionJob({ firstRetrySeconds: config.mirrorRetrySeconds, pollSeconds: Math.min(10, config.mirrorRetrySeconds) });
    const context: AppContext = { ...base, cleanup, rotation, metrics, setAdoptions };
    // Packages signed by another key (a new RPMGATE_SIGNING_KEY_FILE, an interrupted rotation) are
    // re-signed in the background while the server serves.
    if (owner) await context.rotation.start();
    // Scheduled mirror syncs run in the owner only (a sync asked through the API runs where it is asked).
    const mirrorSchedule = new MirrorSyncSchedule(context, owner ? config.mirrorSyncIntervalSeconds : 0);
    mirrorSchedule.start();
    // Every process adopts what its own `set create` recorded; the owner also retries and takes over.
    setAdoptions.start(context, { poll: owner });
    return {
      context,
      databaseTarget: database.target ?? null,
      initialAdminTokenFile,
      close: async () => {
        rpmlint.close();
        if (owner) await context.rotation.stop();
        context.cleanup.stop();
        await mirrorSchedule.stop();
        await setAdoptions.stop();
        await repositories.close();
        await store.close();
        await closeDatabase();
      },
    };
  } catch (error) {
    await closeDatabase();
    throw error;
  }
}

export interface HttpListener {
  url: string;
  server: Server;
  fastPath: FastPath;
  /** Stops taking connections and waits for the requests under way, at most `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export async function listenHttp(context: AppContext): Promise<HttpListener> {
  const { config, log } = context;
  const app = createApp(context);
  const answers = warmAnswers(context);
  const fastPath = warmPath(answers);
  const appListener = getRequestListener(app.fetch);
  // Warm repodata, package and key requests are answered before the app; everything else goes to it.
  const metrics = context.metrics;
  const access = accessLog(log);
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    assignRequestId(req, res);
    metrics.observe(req, res);
    if (fastPath(req, res)) {
      // Still before 'finish' (emitted once the socket took the bytes, never within end()).
      if (access.warmLines) access.observe(req, res, started);
    } else {
      access.observe(req, res, started);
      void appListener(req, res);
    }
  });
  // Long uploads must not be cut by Node's default 5-minute request timeout.
  server.requestTimeout = 0;
  // Plain warm GETs are answered off the connection before Node's server parses them (warm-socket.ts).
  const warmSocket = installWarmSocket(server, answers, metrics, access);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new RpmgateError('usage', `cannot listen on ${config.host}:${config.port}: the port is in use`)
          : error,
      ),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info('rpmgate listening', { url, dataDir: config.dataDir, pid: process.pid });
  return {
    url,
    server,
    fastPath,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections go at once; requests under way may finish within the grace.
        server.closeIdleConnections();
        warmSocket.endAll();
        const cutAll = () => {
          server.closeAllConnections();
          warmSocket.destroyAll();
        };
        if (graceMs <= 0) cutAll();
        else setTimeout(cutAll, graceMs).unref();
      }),
  };
}

/** One process serving everything (RPMGATE_WORKERS=1, and the integration tests). */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const services = await openServices(config, { ...options, role: { kind: 'owner' } });
  let listener: HttpListener;
  try {
    listener = await listenHttp(services.context);
  } catch (error) {
    await services.close();
    throw error;
  }
  return {
    url: listener.url,
    context: services.context,
    fastPath: listener.fastPath,
    httpServer: listener.server,
    initialAdminTokenFile: services.initialAdminTokenFile,
    close: async () => {
      await services.context.rotation.stop();
      await listener.close();
      await services.close();
    },
  };
}
