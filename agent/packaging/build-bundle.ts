// `npm run build:agent`: the agent and the common/ code it uses, with its npm dependencies, as one
// minified ES module that a plain `node` ≥ 20 runs (no node_modules, no tsx, no compiler), and its
// source map beside it. The RPM (build-rpm.ts) ships exactly these two files.
//
// Dynamic imports of the command modules stay lazy inside the one file: esbuild evaluates a command's
// module only when it runs, as the sources do (cli.ts), so `report` never initialises the XML parsers.
// Node's built-in modules are loaded lazily too (lazyBuiltins): an ES module's imports are hoisted and
// loaded at start, which cost `--version` ≈ 20 ms for modules (zlib, crypto, streams) only some commands use.
import { chmod, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const defaultBundleDir = path.join(repoRoot, 'dist', 'agent');
export const bundleFileName = 'rpmgate-agent.mjs';

/** The interpreter rpm and the hosts know: RHEL, Fedora and their rebuilds install Node.js there. */
export const nodeInterpreter = '/usr/bin/node';

export interface AgentBundle {
  dir: string;
  /** The bundle: `#!/usr/bin/node`, mode 0755. */
  file: string;
  /** Its source map (linked from the bundle's last line). */
  map: string;
  bytes: number;
  version: string;
  /** The npm packages inside the bundle, with their versions and licenses (for the RPM's Provides and License). */
  bundled: BundledPackage[];
  /** The checkout's files it was built from (relative to the repository root), for bin/launch.js's freshness check. */
  sources: string[];
}

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
}

export async function buildAgentBundle(outDir: string = defaultBundleDir): Promise<AgentBundle> {
  const { version } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const file = path.join(outDir, bundleFileName);
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, 'agent/main.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    // The sources as they are in the checkout, so a stack trace maps to code one can read.
    sourcesContent: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    plugins: [lazyBuiltins],
    define: { RPMGATE_AGENT_VERSION: JSON.stringify(version) },
    banner: {
      // The CommonJS dependencies (commander, sax, xml2js) require() Node's built-in modules, which an
      // ES module has no require for: give them Node's own.
      js: `#!${nodeInterpreter}\nimport{createRequire as __rpmgateRequire}from"node:module";const require=__rpmgateRequire(import.meta.url);`,
    },
  });
  await chmod(file, 0o755);
  const bytes = result.metafile.outputs[path.relative(repoRoot, file)]?.bytes ?? 0;
  return { dir: outDir, file, map: `${file}.map`, bytes, version, bundled: await bundledPackages(result.metafile), sources: checkoutSources(result.metafile) };
}

/**
 * `import ... from 'node:zlib'` becomes a CommonJS module that requires it: esbuild then evaluates it
 * inside the initialiser of the module that imports it, i.e. when that module first runs.
 */
export const lazyBuiltins: Plugin = {
  name: 'lazy-node-builtins',
  setup(builder) {
    builder.onResolve({ filter: /^node:/ }, (args) =>
      // The wrapper's own require, and require() calls of CommonJS dependencies, stay Node's.
      args.kind === 'import-statement' && args.namespace !== 'node-builtin' ? { path: args.path, namespace: 'node-builtin' } : { path: args.path, external: true },
    );
    builder.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/** The bundle's inputs that are the checkout's own files (not npm packages), and package.json (the version). */
export function checkoutSources(metafile: Metafile): string[] {
  return ['package.json', ...Object.keys(metafile.inputs).filter((input) => !input.includes('node_modules/') && !input.includes(':'))].sort();
}

/** Every npm package with a file in the bundle, read from its package.json. */
async function bundledPackages(metafile: Metafile): Promise<BundledPackage[]> {
  const roots = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /(^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) roots.add(input.slice(0, match.index + match[0].length));
  }
  const packages: BundledPackage[] = [];
  for (const root of roots) {
    const manifest = JSON.parse(await readFile(path.join(repoRoot, root, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    packages.push({ name: manifest.name, version: manifest.version, license: manifest.license ?? 'unknown' });
  }
  return packages.sort((a, b) => a.name.localeCompare(b.name));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const bundle = await buildAgentBundle(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  process.stdout.write(`${path.relative(process.cwd(), bundle.file)}: ${(bundle.bytes / 1024).toFixed(0)} KiB, rpmgate-agent ${bundle.version}\n`);
  for (const pkg of bundle.bundled) process.stdout.write(`  bundles ${pkg.name} ${pkg.version} (${pkg.license})\n`);
}
