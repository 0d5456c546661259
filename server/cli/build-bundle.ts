// `npm run build:cli` (and `npm ci`, through the prepare script): both command-line programs as bundled
// JavaScript that plain node starts fast — rpmgate's client commands in dist/cli/ (ES modules split per
// command, so `set list` loads neither the RPM reader nor the upload code), and the agent's one file in
// dist/agent/. Each directory gets sources.json, the checkout files it was built from: bin/launch.js runs
// a bundle only while none of them is newer, and the TypeScript sources through tsx otherwise.
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildAgentBundle, checkoutSources, lazyBuiltins, repoRoot } from '../../agent/packaging/build-bundle.ts';

export const defaultCliBundleDir = path.join(repoRoot, 'dist', 'cli');
export const cliBundleFileName = 'rpmgate.mjs';

export interface CliBundle {
  dir: string;
  file: string;
  /** Bytes of the entry file and of every chunk. */
  bytes: number;
  sources: string[];
}

/** The admin CLI's bundle. `outDir` must be two levels below the repository root (server-sources.ts). */
export async function buildCliBundle(outDir: string = defaultCliBundleDir): Promise<CliBundle> {
  const { build } = await import('esbuild');
  const { readFile } = await import('node:fs/promises');
  const { version } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: { rpmgate: path.join(repoRoot, 'server/cli/main.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    plugins: [lazyBuiltins],
    // tsx loads the server's sources for serve, migrate and store fsck (server-sources.ts).
    external: ['tsx', 'tsx/*'],
    define: { RPMGATE_VERSION: JSON.stringify(version), RPMGATE_CLI_BUNDLE: 'true' },
    banner: {
      // commander (CommonJS) require()s Node's built-in modules, which an ES module has no require for.
      js: 'import{createRequire as __rpmgateRequire}from"node:module";const require=__rpmgateRequire(import.meta.url);',
    },
  });
  const file = path.join(outDir, cliBundleFileName);
  await chmod(file, 0o755);
  const sources = checkoutSources(result.metafile);
  await writeFile(path.join(outDir, 'sources.json'), `${JSON.stringify({ sources }, null, 1)}\n`);
  const bytes = Object.entries(result.metafile.outputs)
    .filter(([output]) => output.endsWith('.mjs'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
  return { dir: outDir, file, bytes, sources };
}

/** The agent's bundle where bin/rpmgate-agent.js looks for it, with its sources.json. */
export async function buildAgentCliBundle(): Promise<void> {
  const bundle = await buildAgentBundle();
  await writeFile(path.join(bundle.dir, 'sources.json'), `${JSON.stringify({ sources: bundle.sources }, null, 1)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const cli = await buildCliBundle();
    await buildAgentCliBundle();
    process.stdout.write(`rpmgate: bundled the CLIs into ${path.relative(process.cwd(), path.dirname(cli.dir)) || 'dist'}/ (cli ${(cli.bytes / 1024).toFixed(0)} KiB)\n`);
  } catch (error) {
    // Without esbuild (npm ci --omit=dev) the commands still work, from the sources through tsx.
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`rpmgate: the CLIs were not bundled (${reason}); bin/ runs the TypeScript sources through tsx (slower start)\n`);
  }
}
