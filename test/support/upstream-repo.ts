// An upstream distribution for the mirror tests, made by the real tools: a "vendor" OpenPGP key in a
// throwaway GNUPGHOME, fixture RPMs copied and signed with it by rpmsign, createrepo_c's repodata
// compressed as asked (gz, xz, zstd), repomd.xml signed with gpg --detach-sign --armor, and a static
// HTTP server on loopback that counts what it is asked for and can be stopped and started again.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGpgHome, createRpmRoot, rpmsignAddsign, runTool, type GpgHome, type RpmRoot } from './rpm-tools.ts';

export interface VendorKey {
  gpg: GpgHome;
  uid: string;
  /** The ASCII-armored public key. */
  publicKey: string;
  publicKeyFile: string;
  cleanup(): Promise<void>;
}

export async function createVendorKey(uid = 'Vendor Test <vendor@upstream.example>'): Promise<VendorKey> {
  const gpg = await createGpgHome();
  const made = await gpg.gpg(['--passphrase', '', '--quick-gen-key', uid, 'rsa3072', 'sign', 'never']);
  if (made.code !== 0) throw new Error(`gpg --quick-gen-key failed: ${made.stderr}`);
  const exported = await gpg.gpg(['--armor', '--export', uid]);
  const publicKeyFile = path.join(gpg.home, 'vendor.asc');
  await writeFile(publicKeyFile, exported.stdout);
  return { gpg, uid, publicKey: exported.stdout, publicKeyFile, cleanup: () => gpg.cleanup() };
}

export interface UpstreamOptions {
  /** RPM files to publish (copied; signed with `signPackagesWith` when given). */
  rpms: readonly string[];
  compress: 'gz' | 'xz' | 'zstd';
  signPackagesWith?: VendorKey;
  signRepomdWith?: VendorKey;
  /** An existing directory to (re)write instead of a new one. */
  dir?: string;
}

export interface Upstream {
  dir: string;
  /** Paths of the published (possibly signed) copies, by file name. */
  files: Map<string, string>;
  cleanup(): Promise<void>;
}

let rpmRoot: Promise<RpmRoot> | undefined;

export async function makeUpstream(options: UpstreamOptions): Promise<Upstream> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'rpmgate-upstream-')));
  const packagesDir = path.join(dir, 'Packages');
  await rm(packagesDir, { recursive: true, force: true });
  await mkdir(packagesDir, { recursive: true });
  const files = new Map<string, string>();
  rpmRoot ??= createRpmRoot();
  const root = await rpmRoot;
  for (const rpm of options.rpms) {
    const target = path.join(packagesDir, path.basename(rpm));
    await copyFile(rpm, target);
    if (options.signPackagesWith) {
      const signed = await rpmsignAddsign(options.signPackagesWith.gpg, options.signPackagesWith.uid, target, root);
      if (signed.code !== 0) throw new Error(`rpmsign failed: ${signed.stderr}`);
    }
    files.set(path.basename(rpm), target);
  }
  await rm(path.join(dir, 'repodata'), { recursive: true, force: true });
  // Debian's createrepo_c 0.17 is built without zstd: its gzip output is recompressed with zstd(1)
  // and repomd.xml's records rewritten, as a zstd-built createrepo_c (Fedora's) writes them.
  const compress = options.compress === 'zstd' ? 'gz' : options.compress;
  const made = await runTool('createrepo_c', ['--no-database', '--workers', '1', `--compress-type=${compress}`, dir]);
  if (made.code !== 0) throw new Error(`createrepo_c failed: ${made.stderr}`);
  if (options.compress === 'zstd') await recompressWithZstd(path.join(dir, 'repodata'));
  if (options.signRepomdWith) {
    const key = options.signRepomdWith;
    const signed = await key.gpg.gpg(['--local-user', key.uid, '--armor', '--detach-sign', '--output', path.join(dir, 'repodata/repomd.xml.asc'), path.join(dir, 'repodata/repomd.xml')]);
    if (signed.code !== 0) throw new Error(`gpg --detach-sign failed: ${signed.stderr}`);
  }
  return { dir, files, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function recompressWithZstd(repodata: string): Promise<void> {
  const repomdPath = path.join(repodata, 'repomd.xml');
  let repomd = await readFile(repomdPath, 'utf8');
  const blocks = [...repomd.matchAll(/<data type="(primary|filelists|other)">[\s\S]*?<\/data>/g)];
  for (const [block] of blocks) {
    const href = /<location href="([^"]+)"/.exec(block)![1]!;
    const gz = path.join(path.dirname(repodata), href);
    const plainPath = `${gz}.plain`;
    await writeFile(plainPath, gunzipSync(await readFile(gz)));
    const zst = await runTool('zstd', ['-q', '-3', '-f', '-o', `${plainPath}.zst`, plainPath]);
    if (zst.code !== 0) throw new Error(`zstd failed: ${zst.stderr}`);
    const bytes = await readFile(`${plainPath}.zst`);
    await rm(plainPath);
    await rm(`${plainPath}.zst`);
    const sum = createHash('sha256').update(bytes).digest('hex');
    const newHref = `repodata/${sum}-${path.basename(href).replace(/^[0-9a-f]+-/, '').replace(/\.gz$/, '.zst')}`;
    await writeFile(path.join(path.dirname(repodata), newHref), bytes);
    await rm(gz);
    const rewritten = block
      .replace(/<checksum type="sha256">[0-9a-f]+<\/checksum>/, `<checksum type="sha256">${sum}</checksum>`)
      .replace(/<location href="[^"]+"/, `<location href="${newHref}"`)
      .replace(/<size>\d+<\/size>/, `<size>${bytes.length}</size>`);
    repomd = repomd.replace(block, rewritten);
  }
  await writeFile(repomdPath, repomd);
}

export interface StaticServer {
  url: string;
  /** Requests per path, e.g. "/Packages/rg-hello-2.0-1.noarch.rpm". */
  requests: Map<string, number>;
  /** Milliseconds each answer waits before its body (to make concurrent first requests overlap). */
  delayMs: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Serves `dir` (GET and HEAD) on 127.0.0.1; stop() closes the port, start() opens the same one again. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  let server: Server | null = null;
  let port = 0;
  const state: StaticServer = {
    url: '',
    requests: new Map(),
    delayMs: 0,
    async stop() {
      if (!server) return;
      const closing = server;
      server = null;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        closing.closeAllConnections();
      });
    },
    async start() {
      if (server) return;
      const created = createServer((req, res) => {
        const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
        state.requests.set(urlPath, (state.requests.get(urlPath) ?? 0) + 1);
        const file = path.join(dir, path.normalize(urlPath));
        if (!file.startsWith(dir)) {
          res.writeHead(403).end();
          return;
        }
        void (async () => {
          try {
            const info = await stat(file);
            if (!info.isFile()) throw new Error('not a file');
            if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
            res.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream' });
            if (req.method === 'HEAD') res.end();
            else createReadStream(file).pipe(res);
          } catch {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          }
        })();
      });
      await new Promise<void>((resolve) => created.listen(port, '127.0.0.1', () => resolve()));
      port = (created.address() as AddressInfo).port;
      state.url = `http://127.0.0.1:${port}/`;
      server = created;
    },
  };
  await state.start();
  return state;
}

export async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8');
}
