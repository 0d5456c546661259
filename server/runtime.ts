// Starts and stops a whole rpmgate server: database (embedded or external), migrations, package store,
// signer, HTTP listener. Used by `rpmgate serve` and by the integration tests alike.
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { EntryChecks } from './checks/entry-checks.ts';
import { loadPolicy } from './checks/policy.ts';
import { RpmlintRunner } from './checks/rpmlint.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { openDatabase, type Database } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { RpmgateError } from '../common/errors.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { createApp } from './http/app.ts';
import { repomdFastPath, type FastPath } from './http/repomd-fast-path.ts';
import type { Logger } from './log.ts';
import { RepodataCache } from './repodata/cache.ts';
import { ensureInitialAdminToken } from './services/initial-admin-token.ts';
import { CleanupJob } from './retention/job.ts';
import { KeyRotationJob } from './services/key-rotation.ts';
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

export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { log } = options;
  const lock = await lockDataDir(config.dataDir);
  let database: Database;
  try {
    database = options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log }));
  } catch (error) {
    await lock.release();
    throw error;
  }
  try {
    const migrations = await migrate(database.sql);
    if (migrations.applied.length > 0) log.info('database migrated', { applied: migrations.applied });
    const store = await openBlobStore(config, log);
    const keyring = await Keyring.open({
      dataDir: config.dataDir,
      keyFile: config.signingKeyFile,
      passphrase: config.signingKeyPassphrase,
      algorithm: config.signingAlgorithm,
    });
    await claimKeyOfRecord(database.sql, keyring, { takeover: config.signingKeyTakeover, log });
    const initialAdminTokenFile = await ensureInitialAdminToken(database.sql, config, log);
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
    await repodata.open();
    const repositories = new RepoDirectory(database.sql, log);
    await repositories.open();
    const base = { config, sql: database.sql, store, log, signer: createPackageSigner(keyring), keyring, repodata, repositories, entryChecks };
    const cleanup = new CleanupJob(base, { clock: options.clock });
    // The policy file is read (and refused with one line when wrong) before the server listens.
    await cleanup.start();
    const context: AppContext = { ...base, cleanup, rotation: new KeyRotationJob({ ...base, cleanup }) };
    // Packages signed by another key (a new RPMGATE_SIGNING_KEY_FILE, an interrupted rotation) are
    // re-signed in the background while the server serves.
    await context.rotation.start();
    const app = createApp(context);
    const fastPath = repomdFastPath(context);
    const appListener = getRequestListener(app.fetch);
    // Warm repomd.xml requests are answered before the app; everything else goes to it.
    const server: Server = createServer((req, res) => {
      if (!fastPath(req, res)) void appListener(req, res);
    });
    // Long uploads must not be cut by Node's default 5-minute request timeout.
    server.requestTimeout = 0;
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
    log.info('rpmgate listening', { url, dataDir: config.dataDir });
    return {
      url,
      context,
      fastPath,
      initialAdminTokenFile,
      close: async () => {
        await context.rotation.stop();
        context.cleanup.stop();
        await repositories.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (!options.database) await database.close();
        await lock.release();
      },
    };
  } catch (error) {
    if (!options.database) await database.close();
    await lock.release();
    throw error;
  }
}
