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
import { ResponseConformance } from './openapi-conformance.ts';

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
  /** What checks its /api/v1 answers against the OpenAPI document (null when turned off). */
  conformance: ResponseConformance | null;
  /** Stops the HTTP server and starts it again on the same database and data dir. */
  restart(): Promise<void>;
  /** Stops the HTTP server only (an outage); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** The server's log (default: quiet unless RPMGATE_LOG is set). */
  log?: Logger;
  /** Another server's database (several servers on one database); closed by its own owner. */
  database?: Database;
  /** The cleanup job's clock. */
  clock?: () => Date;
  /** Check every /api/v1 answer against the OpenAPI document (default on; close() fails on a mismatch). */
  checkResponses?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-test-data-'));
  const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;
  // rpmlint costs half a second per upload run: tests about other things leave it off (every finding
  // then says so); the entry-check tests turn it on with RPMGATE_RPMLINT.
  const config: Config = readConfig({ PORT: '0', RPMGATE_DATA_DIR: dataDir, RPMGATE_ADMIN_TOKEN: adminToken, RPMGATE_RPMLINT: 'off', ...options.env });
  const database = options.database ?? (await createTestDatabase());
  const ownsDatabase = !options.database;
  const log = options.log ?? createLogger(Boolean(process.env.RPMGATE_LOG));
  let server = await startServer(config, { log, database, clock: options.clock });
  let running = true;
  const conformance = options.checkResponses === false ? null : ResponseConformance.of(server.context);
  conformance?.watch(server.httpServer);
  const port = () => Number(new URL(server.url).port);

  const test: TestServer = {
    get url() {
      return server.url;
    },
    dataDir,
    adminToken,
    conformance,
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
      conformance?.watch(server.httpServer);
      running = true;
    },
    async close() {
      if (running) await server.close();
      if (ownsDatabase) await database.close();
      await rm(dataDir, { recursive: true, force: true });
      if (conformance && conformance.violations.length > 0) {
        throw new Error(`answers that do not fit the OpenAPI document (test/support/openapi-conformance.ts):\n${conformance.report()}`);
      }
    },
  };
  return test;
}
