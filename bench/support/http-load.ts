// Warm-serving measurements: wrk against a URL, and nginx serving the same bytes statically from a
// temporary directory (a minimal configuration, access log off, sendfile on) for comparison.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkSettings {
  threads: number;
  connections: number;
  seconds: number;
}

export interface WrkResult {
  requestsPerSecond: number;
  /** Body and header bytes per second, as wrk reports it. */
  bytesPerSecond: number;
  errors: number;
}

export async function runWrk(url: string, settings: WrkSettings): Promise<WrkResult> {
  // A generous timeout: a large file over 32 connections takes longer than wrk's default 2 s per answer.
  const { stdout } = await run('wrk', [`-t${settings.threads}`, `-c${settings.connections}`, `-d${settings.seconds}s`, '--timeout', '30s', url], {
    maxBuffer: 1 << 20,
  });
  const requests = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const transfer = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(stdout);
  if (!requests || !transfer) throw new Error(`cannot read wrk's output:\n${stdout}`);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[transfer[2] as 'B'] ?? 1;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { requestsPerSecond: Number(requests[1]), bytesPerSecond: Number(transfer[1]) * unit, errors };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface StaticServer {
  url: string;
  /** The server's main process (nginx's master; its workers are below it). */
  pid: number;
  stop(): Promise<void>;
}

/** nginx serving `files` (relative path → bytes) from dir/www on a free loopback port. */
export async function startNginx(dir: string, files: Map<string, Buffer>, workers: number | 'auto'): Promise<StaticServer> {
  const www = path.join(dir, 'www');
  for (const [relative, bytes] of files) {
    const target = path.join(www, relative);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
  // nginx started as root serves as nobody: everything on the way must be readable.
  for (let current = www; current.startsWith(dir); current = path.dirname(current)) await chmod(current, 0o755);
  for (const relative of files.keys()) {
    for (let current = path.dirname(path.join(www, relative)); current !== www; current = path.dirname(current)) await chmod(current, 0o755);
  }
  const port = await freePort();
  const temp = (name: string) => path.join(dir, `nginx-${name}`);
  const conf = `
worker_processes ${workers};
daemon off;
pid ${temp('pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  types { application/xml xml; application/gzip gz; }
  server {
    listen 127.0.0.1:${port};
    root ${www};
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  await writeFile(confFile, conf);
  const child = spawn('nginx', ['-c', confFile, '-p', dir, '-e', temp('error.log')], { stdio: 'ignore' });
  return serveFrom(child, port, `nginx did not start (see ${temp('error.log')})`, 'SIGQUIT');
}

/** A server process on a loopback port, once it answers; stopped by `signal`. */
async function serveFrom(child: ChildProcess, port: number, failure: string, signal: NodeJS.Signals): Promise<StaticServer> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const ok = await fetch(`${url}/`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (attempt > 100 || child.exitCode !== null) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function startNodeStatic(dir: string, files: Map<string, Buffer>): Promise<StaticServer> {
  await mkdir(dir, { recursive: true });
  const manifest = path.join(dir, 'node-static.json');
  await writeFile(manifest, JSON.stringify([...files].map(([relative, bytes]) => [`/${relative}`, bytes.toString('base64')])));
  const port = await freePort();
  const script = `
const http = require('node:http');
const files = new Map(JSON.parse(require('node:fs').readFileSync(${JSON.stringify(manifest)}, 'utf8')).map(([p, b]) => [p, Buffer.from(b, 'base64')]));
http.createServer((req, res) => {
  const body = files.get(req.url);
  if (!body) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, etag: '"x"', 'cache-control': 'no-cache' });
  res.end(body);
}).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return serveFrom(child, port, 'the node:http reference server did not start', 'SIGTERM');
}
