// npm run bench:mirror [-- --packages 60000]: a synthetic upstream of N packages (primary, filelists and
// other as createrepo_c writes them, rendered by rpmgate's createrepo_c-exact renderers from the bench
// corpus, gzip), served by nginx on loopback; an `rpmgate serve` process (one worker, embedded database)
// syncs it (first, then incremental after 1% of the packages changed), with the server process's peak
// RSS during each (VmHWM, reset through /proc/PID/clear_refs before each); dnf makecache of the same upstream for the
// comparison the issue asks for; then `set create --resolve` of 200 upstream packages against the synced
// metadata (the answer: resolution across store and mirror, the set recorded with its members pending;
// the synthetic upstream has metadata only, so their adoption is not part of the measure).
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { documentHead, documentTail, type RepodataKind } from '../common/repodata/document.ts';
import { renderRepomd, type RepomdRecord } from '../common/repodata/repomd.ts';
import { renderPackageRepodata } from '../server/services/package-repodata.ts';
import { benchPackage } from './support/corpus.ts';
import { formatNevra } from '../common/rpm/nevra.ts';
import { ApiClient } from '../common/http-client.ts';
import { exited, freePort, startServeProcess, stopLeftoverPostgres } from '../test/support/serve-process.ts';
import { createDnfRoot } from '../test/support/dnf-root.ts';

const exec = promisify(execFile);
const count = Number(process.argv[process.argv.indexOf('--packages') + 1] || 60_000) || 60_000;

async function writeUpstream(dir: string, changedFrom: number): Promise<void> {
  await rm(path.join(dir, 'repodata'), { recursive: true, force: true });
  await mkdir(path.join(dir, 'repodata'), { recursive: true });
  const records: RepomdRecord[] = [];
  for (const kind of ['primary', 'filelists', 'other'] as RepodataKind[]) {
    const tmp = path.join(dir, 'repodata', `${kind}.tmp`);
    const open = createHash('sha256');
    const closed = createHash('sha256');
    let openSize = 0;
    let size = 0;
    async function* text() {
      const head = documentHead(kind, count);
      yield head;
      for (let i = 0; i < count; i++) {
        const pkg = benchPackage(i);
        // 1% changed: a new release of the last packages.
        if (i >= changedFrom) pkg.release = `${pkg.release}.1`;
        const sha256 = createHash('sha256').update(`${pkg.name}-${pkg.release}`).digest('hex');
        const fragments = renderPackageRepodata(pkg, { sha256, size: 50_000, headerRange: { start: 4504, end: 20_000 }, filename: `${pkg.name}-${pkg.version}-${pkg.release}.x86_64.rpm`, uploadedAt: new Date(1_700_000_000_000) });
        yield fragments[kind];
      }
      yield documentTail(kind);
    }
    const meterOpen = new Transform({
      transform(chunk: Buffer | string, _e, done) {
        const b = Buffer.from(chunk);
        open.update(b);
        openSize += b.length;
        done(null, b);
      },
    });
    const meterClosed = new Transform({
      transform(chunk: Buffer, _e, done) {
        closed.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(text, meterOpen, createGzip({ level: 1 }), meterClosed, createWriteStream(tmp));
    const checksum = closed.digest('hex');
    const href = `repodata/${checksum}-${kind}.xml.gz`;
    await exec('mv', [tmp, path.join(dir, href)]);
    records.push({ type: kind, checksum, openChecksum: open.digest('hex'), size, openSize, timestamp: 1_700_000_000, href } as RepomdRecord);
  }
  await writeFile(path.join(dir, 'repodata/repomd.xml'), renderRepomd({ revision: String(changedFrom), records }));
}

async function startNginx(dir: string, work: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const conf = path.join(work, 'nginx.conf');
  await writeFile(conf, `worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; server { listen 127.0.0.1:${port}; root ${dir}; } }\n`);
  const child = spawn('nginx', ['-c', conf, '-p', work], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { url: `http://127.0.0.1:${port}/`, stop: async () => void child.kill('SIGTERM') };
}

function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* not Linux: the peak covers the whole run */
  }
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-mirror-'));
  await chmod(work, 0o755);
  const dir = path.join(work, 'upstream');
  await mkdir(dir);
  const rows: string[][] = [];
  try {
    let t = Date.now();
    await writeUpstream(dir, count);
    console.log(`upstream of ${count} packages written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const nginx = await startNginx(dir, work);
    const adminToken = randomBytes(16).toString('hex');
    const dataDir = path.join(work, 'data');
    const server = await startServeProcess({ dataDir, port: await freePort(), env: { RPMGATE_ADMIN_TOKEN: adminToken, RPMGATE_RPMLINT: 'off', RPMGATE_WORKERS: '1' } });
    const pid = server.child.pid!;
    const admin = new ApiClient({ server: server.url, token: adminToken, timeoutMs: 3_600_000 });
    try {
      await admin.post('/api/v1/mirrors', { name: 'bench', baseurl: nginx.url });
      resetPeak(pid);
      t = Date.now();
      const first = await admin.post<{ packages: number }>('/api/v1/mirrors/bench/sync', undefined);
      const firstSeconds = (Date.now() - t) / 1000;
      const firstPeak = await peakRssMb(pid);
      rows.push(['first sync', `${firstSeconds.toFixed(1)} s (${first.body.packages} packages)`, `${firstPeak.toFixed(0)} MB`]);

      await writeUpstream(dir, count - Math.floor(count / 100));
      resetPeak(pid);
      t = Date.now();
      const second = await admin.post<{ added: number; removed: number }>('/api/v1/mirrors/bench/sync', undefined);
      const secondSeconds = (Date.now() - t) / 1000;
      rows.push(['incremental sync (1% changed)', `${secondSeconds.toFixed(1)} s (${second.body.added} added, ${second.body.removed} removed; ${((secondSeconds / firstSeconds) * 100).toFixed(0)}% of first)`, `${(await peakRssMb(pid)).toFixed(0)} MB`]);

      const root = await createDnfRoot();
      try {
        t = Date.now();
        await root.dnf(['makecache'], { repoUrl: nginx.url, setopts: ['*.gpgcheck=0'] });
        rows.push(['dnf makecache, same upstream (cold)', `${((Date.now() - t) / 1000).toFixed(1)} s`, '']);
      } finally {
        await root.stopGpgAgents();
        await root.cleanup();
      }

      // 200 packages spread over the corpus, unchanged by the incremental sync.
      const step = Math.floor((count * 0.99) / 200);
      const named = Array.from({ length: 200 }, (_, k) => formatNevra(benchPackage(k * step)));
      t = Date.now();
      const created = await admin.post<{ packages: string[]; pending: unknown[]; added: { reason: string }[] }>('/api/v1/sets', {
        name: 'bench',
        version: '1',
        packages: named,
        resolve: true,
        allowUnresolved: true,
      });
      const resolveSeconds = (Date.now() - t) / 1000;
      rows.push([
        'set create --resolve, 200 upstream packages named',
        `${resolveSeconds.toFixed(2)} s (${created.body.added.filter((a) => a.reason.startsWith('required by')).length} more added by resolution; ${created.body.pending.length} members pending adoption)`,
        `${(await peakRssMb(pid)).toFixed(0)} MB`,
      ]);
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
      stopLeftoverPostgres(dataDir);
      await nginx.stop();
    }
    console.log(`\n| measure (${count} packages) | time | peak RSS of the server process |\n|---|---|---|`);
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
