// The agent as it ships: `npm run build:agent`'s bundle, built afresh into a temporary directory that
// holds only it and its source map, and run with the plain `node` running the tests. Nothing on the
// way up from that directory has a node_modules (checked), so a bundle that still needed one fails.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildAgentBundle, type AgentBundle } from '../../agent/packaging/build-bundle.ts';
import type { CliResult } from './cli.ts';

export interface IsolatedBundle extends AgentBundle {
  /** Runs `node BUNDLE ARGS...` from the bundle's directory. */
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function buildIsolatedBundle(): Promise<IsolatedBundle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-bundle-'));
  for (let up = dir; ; up = path.dirname(up)) {
    if (existsSync(path.join(up, 'node_modules'))) throw new Error(`${up} has a node_modules: the bundle would not be isolated there`);
    if (path.dirname(up) === up) break;
  }
  const bundle = await buildAgentBundle(dir);
  const files = (await readdir(dir)).sort();
  if (files.join(' ') !== 'rpmgate-agent.mjs rpmgate-agent.mjs.map') throw new Error(`the bundle directory holds ${files.join(', ')}`);
  return {
    ...bundle,
    run: (args, env = {}) => runAgentBundle(bundle.file, args, env),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function runAgentBundle(file: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  // Whatever the test runner preloads through NODE_OPTIONS stays out: plain node, nothing else.
  const { NODE_OPTIONS: _preloads, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { cwd: path.dirname(file), env: { ...inherited, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 2) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
