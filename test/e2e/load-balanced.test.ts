// Several rpmgate servers on one PostgreSQL and one package store, behind a real haproxy (round robin,
// health checks): a package uploaded through one server, a set created and promoted through another,
// and dnf installing through the balancer with gpgcheck and repo_gpgcheck; after kill -9 of one server
// the balancer's retries and the others keep dnf and uploads working, and no upload answered 201 is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../common/http-client.ts';
import type { Database } from '../../server/db/connect.ts';
import { createTestDatabase } from '../support/database.ts';
import { createDnfRoot, dnfAvailable } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { exited, freePort, portIsFree, startServeProcess, type ServeProcess } from '../support/serve-process.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

const dnf = await dnfAvailable();
const haproxyAvailable = existsSync('/usr/sbin/haproxy');
const ready = dnf.ok && haproxyAvailable;
if (!ready && toolsRequired) throw new Error(`the load-balanced tests need haproxy and dnf: ${dnf.reason}`);

const adminToken = `lb-admin-${randomBytes(12).toString('hex')}`;
let database: Database;
let work: string;
let lbPort: number;
let haproxy: ChildProcess;
const servers: ServeProcess[] = [];
const lb = () => `http://127.0.0.1:${lbPort}`;
let rpms: string[];

/** DATABASE_URL and, for a Unix socket (the test cluster's), PGHOST/PGPORT, which postgres.js reads when the URL names no host. */
function databaseEnv(db: Database): Record<string, string> {
  const options = db.sql.options as unknown as { host: string[]; port: number[]; user: string; pass: string | null; database: string };
  const host = options.host[0]!;
  const auth = `${encodeURIComponent(options.user)}${options.pass ? `:${encodeURIComponent(options.pass)}` : ''}`;
  return host.startsWith('/')
    ? { DATABASE_URL: `postgres:///${options.database}`, PGHOST: host, PGPORT: String(options.port[0]), PGUSER: options.user, ...(options.pass ? { PGPASSWORD: options.pass } : {}) }
    : { DATABASE_URL: `postgres://${auth}@${host}:${options.port[0]}/${options.database}` };
}

beforeAll(async () => {
  if (!ready) return;
  [database, rpms] = await Promise.all([createTestDatabase(), buildSmallRpms([{ name: 'rg-lb-lib' }, { name: 'rg-lb-app', requires: ['rg-lb-lib'] }, { name: 'rg-lb-late' }])]);
  work = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-lb-'));
  lbPort = await freePort();
  const ports = [await freePort(), await freePort(), await freePort()];
  const env = (extra: Record<string, string> = {}) => ({
    ...databaseEnv(database),
    RPMGATE_STORE_URL: `file://${path.join(work, 'store')}`,
    RPMGATE_ADMIN_TOKEN: adminToken,
    RPMGATE_ALLOWED_HOSTS: `127.0.0.1 127.0.0.1:${lbPort}`,
    // rpmlint is the entry checks' business (entry-checks.test.ts), not this test's.
    RPMGATE_RPMLINT: 'off',
    ...extra,
  });
  servers.push(await startServeProcess({ dataDir: path.join(work, 'a'), port: ports[0]!, env: env() }));
  const keyDir = path.join(work, 'a', 'keys');
  const keyFile = path.join(keyDir, (await readdir(keyDir)).find((name) => name.endsWith('.key.asc'))!);
  for (const [i, name] of ['b', 'c'].entries()) {
    servers.push(await startServeProcess({ dataDir: path.join(work, name), port: ports[i + 1]!, env: env({ RPMGATE_SIGNING_KEY_FILE: keyFile }) }));
  }
  const config = [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  retries 3',
    '  option redispatch',
    'frontend rpmgate',
    `  bind 127.0.0.1:${lbPort}`,
    '  default_backend servers',
    'backend servers',
    '  balance roundrobin',
    // With the Host header rpmgate allows (an HTTP/1.0 check without one would be refused).
    '  option httpchk',
    '  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1',
    ...ports.map((port, i) => `  server s${i} 127.0.0.1:${port} check inter 300 fall 2 rise 2`),
    '',
  ].join('\n');
  await writeFile(path.join(work, 'haproxy.cfg'), config);
  haproxy = spawn('/usr/sbin/haproxy', ['-f', path.join(work, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 100 && (await portIsFree(lbPort)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
}, 240_000);

afterAll(async () => {
  if (haproxy && haproxy.exitCode === null) {
    haproxy.kill('SIGTERM');
    await exited(haproxy);
  }
  for (const server of servers) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  }
  await database?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const client = (server: { url: string }) => new ApiClient({ server: server.url, token: adminToken });
const signed = () => ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${lb()}/keys/rpmgate.asc`];

describe.skipIf(!ready)('three servers behind haproxy', () => {
  it('upload through one, set and promotion through another, dnf install through the balancer', async () => {
    const [a, b, c] = servers;
    for (const file of rpms.slice(0, 2)) expect((await client(a!).request('POST', '/api/v1/packages', { body: await readFile(file) })).status).toBe(201);
    const nevras = ['rg-lb-lib-1.0-1.noarch', 'rg-lb-app-1.0-1.noarch'];
    expect((await client(b!).post('/api/v1/sets', { name: 'lb', version: '1', packages: nevras, noSources: true })).status).toBe(201);
    expect((await client(c!).post('/api/v1/sets/lb/1/promote', { level: 'qa_ready' })).status).toBe(200);
    // Every server answers the promoted level at once (generation notifications).
    for (const server of servers) {
      const primary = await fetch(`${server.url}/repo/level/qa_ready/repodata/repomd.xml`);
      expect(primary.status).toBe(200);
    }
    const root = await createDnfRoot();
    try {
      await root.dnf(['install', 'rg-lb-app'], { repoUrl: `${lb()}/repo/level/qa_ready/`, setopts: signed() });
      expect((await root.installed()).filter((line) => line.startsWith('rg-lb-'))).toEqual(nevras.slice().sort());
    } finally {
      await root.stopGpgAgents();
      await root.cleanup();
    }
  }, 180_000);

  it('after kill -9 of one server, uploads and dnf through the balancer still succeed and nothing answered 201 is lost', async () => {
    const victim = servers[1]!;
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    const through = client({ url: lb() });
    const answered = await through.request('POST', '/api/v1/packages', { body: await readFile(rpms[2]!) });
    expect(answered.status).toBe(201);
    const [row] = await database.sql`select nevra from packages where name = 'rg-lb-late'`;
    expect(row).toBeDefined();
    for (let attempt = 0; attempt < 3; attempt++) {
      const root = await createDnfRoot();
      try {
        await root.dnf(['install', 'rg-lb-app', 'rg-lb-late'], { repoUrl: `${lb()}/repo/level/integ/`, setopts: signed() });
        expect((await root.installed()).filter((line) => line.startsWith('rg-lb-'))).toHaveLength(3);
      } finally {
        await root.stopGpgAgents();
        await root.cleanup();
      }
    }
  }, 240_000);
});
