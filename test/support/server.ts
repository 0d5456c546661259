// A real rpmgate server for integration tests: its own database and data dir, a real HTTP listener on
// a free port, an admin token, and clients for each role.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../../common/http-client.ts';
import type { Role } from '../../common/roles.ts';
import { readConfig, type Config } from '../../server/config.ts';
import type { Database } from '../../server/db/connect.ts';
import { createLogger, type Logger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/runtime.ts';
import { createTestDatabase } from './database.ts';

export interface TestServer {
  url: string;
  dataDir: string;
  adminToken: string;
  server: RunningServer;
  database: Database;
  admin: ApiClient;
  /** A client holding a fresh token of that role. */
  clientFor(role: Role, name?: string): Promise<ApiClient>;
  tokenFor(role: Role, name?: string): Promise<string>;
  /** Stops the HTTP server and starts it again on the same database and data dir. */
  restart(): Promise<void>;
  /** Stops the HTTP server only (an outage); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** The cleanup job's clock. */
  clock?: () => Date;
  /** The server's logger (default: silent unless RPMGATE_LOG is set). */
  log?: Logger;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-test-data-'));
  const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;
  // rpmlint costs half a second per upload run: tests about other things leave it off (every finding
  // then says so); the entry-check tests turn it on with RPMGATE_RPMLINT.
  const config: Config = readConfig({ PORT: '0', RPMGATE_DATA_DIR: dataDir, RPMGATE_ADMIN_TOKEN: adminToken, RPMGATE_RPMLINT: 'off', ...options.env });
  const database = await createTestDatabase();
  const log = options.log ?? createLogger(Boolean(process.env.RPMGATE_LOG));
  let server = await startServer(config, { log, database, clock: options.clock });
  let running = true;
  const port = () => Number(new URL(server.url).port);

  const test: TestServer = {
    get url() {
      return server.url;
    },
    dataDir,
    adminToken,
    get server() {
      return server;
    },
    database,
    get admin() {
      return new ApiClient({ server: server.url, token: adminToken });
    },
    async tokenFor(role, name = `${role}-${randomBytes(3).toString('hex')}`) {
      const { body } = await test.admin.post<{ token: string }>('/api/v1/tokens', { role, name });
      return body.token;
    },
    async clientFor(role, name) {
      return new ApiClient({ server: server.url, token: await test.tokenFor(role, name) });
    },
    async restart() {
      await test.stop();
      await test.start();
    },
    async stop() {
      if (running) await server.close();
      running = false;
    },
    async start() {
      if (running) return;
      server = await startServer({ ...config, port: port() }, { log, database, clock: options.clock });
      running = true;
    },
    async close() {
      if (running) await server.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return test;
}
