// A real S3 store for tests: OpenStack Swift with its s3api middleware from Debian's packages, started
// by ../shared/s3/start-swift-s3.sh in a temporary directory on five free ports, and stopped by its
// stop script (exactly the daemons it started). AWS_* variables are set in this process for the SDK.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const run = promisify(execFile);
const scripts = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/s3');

export const swiftAvailable = existsSync('/usr/bin/swift-proxy-server') && existsSync(path.join(scripts, 'start-swift-s3.sh')) && existsSync('/etc/swift/swift.conf');

export interface SwiftS3 {
  endpoint: string;
  region: string;
  /** The environment a server needs for s3://BUCKET/PREFIX on this store (credentials included). */
  env(bucket: string, prefix: string): Record<string, string>;
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Stops the daemons (the store is then unreachable); start() brings them back on the same ports and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwiftS3(): Promise<SwiftS3> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-swift-'));
  // As root the daemons run as user swift (the start script), who must reach their configuration.
  await chmod(dir, 0o755);
  const port = await freePortRange(5);
  const start = async () => {
    await run(path.join(scripts, 'start-swift-s3.sh'), [dir, String(port)], { timeout: 120_000 });
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test:tester';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const client = () =>
    new S3Client({
      region,
      endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'test:tester', secretAccessKey: 'testing' },
    });
  const stop = async () => {
    await run(path.join(scripts, 'stop-swift-s3.sh'), [dir], { timeout: 60_000 });
  };
  return {
    endpoint,
    region,
    env: (bucket, prefix) => ({
      RPMGATE_STORE_URL: `s3://${bucket}/${prefix}`,
      RPMGATE_S3_ENDPOINT: endpoint,
      RPMGATE_S3_REGION: region,
      AWS_ACCESS_KEY_ID: 'test:tester',
      AWS_SECRET_ACCESS_KEY: 'testing',
    }),
    client,
    async createBucket(name) {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        s3.destroy();
      }
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The first of `count` consecutive free ports in 20000-40000 (start-swift-s3.sh needs PORT..PORT+4). */
async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20000 + Math.floor(Math.random() * 20000);
    let free = true;
    for (let p = first; p < first + count && free; p++) free = await portFree(p);
    if (free) return first;
  }
  throw new Error('no five consecutive free ports');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
