// `rpmgate-agent install --set NAME/VERSION`: configure the set's repository, then run dnf once to
// install the set's missing packages and move installed ones to the set's version (upgrade or
// downgrade), then check again. Exit 0 when the host conforms afterwards, 1 otherwise.
//
// dnf is given exact NEVRAs (`dnf install name-epoch:version-release.arch` installs, upgrades or
// downgrades to exactly that build, in one transaction), the set's repository at priority 1 (so for
// every name that repository holds, no other repository's build is considered), and no weak
// dependencies (the set defines what is installed). Packages that are not in the set are not removed.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RpmgateError } from '../../common/errors.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import { initRpmDatabaseIfMissing } from '../collect.ts';
import type { AgentContext } from '../context.ts';
import { fetchSet, parseSetReference } from '../set-api.ts';
import { compareHost, describeConformance } from './check.ts';
import { configureSet } from './configure.ts';
import { reportAfterChange } from './report.ts';

const run = promisify(execFile);

export interface InstallOptions {
  set: string;
  dnfOption?: string[];
  dnfConfig?: string;
  replaceDuplicates?: boolean;
}

export interface InstallAction {
  action: 'install' | 'upgrade' | 'downgrade';
  nevra: string;
  /** The installed package it replaces (upgrade, downgrade). */
  from?: string;
}

export async function installCommand(ctx: AgentContext, options: InstallOptions): Promise<number> {
  const ref = parseSetReference(options.set);
  for (const option of options.dnfOption ?? []) {
    if (!/^[^=\s]+=/.test(option)) throw new RpmgateError('usage', `--dnf-option takes KEY=VALUE, not "${option}"`);
  }
  const configured = await configureSet(ctx, ref, options);
  const set = await fetchSet(ctx.client(), ref);
  const initialised = await initRpmDatabaseIfMissing(ctx.rpmRoot);
  if (initialised) ctx.out.progress(`rpmgate-agent: ${ctx.rpmRoot} had no rpm database: initialised an empty one in ${initialised} (rpm --initdb)`);
  const before = await compareHost(ctx, set, false);
  const actions: InstallAction[] = [
    ...before.missing.map((pkg) => ({ action: 'install' as const, nevra: formatNevra(pkg) })),
    ...before.older.map((m) => ({ action: 'upgrade' as const, nevra: formatNevra(m.expected), from: formatNevra(m.installed) })),
    ...before.newer.map((m) => ({ action: 'downgrade' as const, nevra: formatNevra(m.expected), from: formatNevra(m.installed) })),
  ];

  let dnfExitCode: number | null = null;
  if (actions.length > 0) {
    for (const a of actions) ctx.out.progress(`${a.action} ${a.nevra}${a.from ? ` (installed: ${a.from})` : ''}`);
    const repoId = configured.repoIds[0]!;
    const args = dnfArguments(ctx, options, repoId, actions.map((a) => a.nevra));
    dnfExitCode = await runDnf(args);
    await stopRepoGpgAgents(ctx.rpmRoot ?? '/', repoId);
    if (dnfExitCode !== 0) ctx.out.progress(`rpmgate-agent: dnf exited with status ${dnfExitCode}`);
  }

  const after = actions.length > 0 ? await compareHost(ctx, set, false) : before;
  const report = await reportAfterChange(ctx, after.set);
  ctx.out.result({ set: after.set, repoFile: configured.file, rpmDatabaseInitialised: initialised, actions, dnfExitCode, conformance: after, report }, () => {
    const lines: string[] = [];
    if (actions.length === 0) lines.push('nothing to do');
    else if (dnfExitCode === 0) lines.push(...actions.map(describeAction));
    else lines.push(`dnf failed (status ${dnfExitCode}); nothing or not all of the ${actions.length} planned change(s) happened`);
    lines.push(describeConformance(after));
    lines.push(
      report.reported
        ? `reported to the server${report.verdict ? `: ${report.verdict}` : ''}`
        : `not reported (${report.failure}); spooled for the next rpmgate-agent report`,
    );
    return lines.join('\n');
  });
  return after.conforming ? 0 : 1;
}

function describeAction(a: InstallAction): string {
  const verb = a.action === 'install' ? 'installed' : `${a.action}d`;
  return `${verb} ${a.nevra}${a.from ? ` (was ${a.from})` : ''}`;
}

export function dnfArguments(ctx: AgentContext, options: InstallOptions, repoId: string, specs: string[]): string[] {
  const args = ['-y'];
  if (ctx.rpmRoot) args.push(`--installroot=${ctx.rpmRoot}`);
  if (options.dnfConfig) args.push(`--config=${path.resolve(options.dnfConfig)}`);
  // dnf looks for repo files in its reposdir (inside the installroot first): name ours explicitly.
  if (ctx.reposDirExplicit) args.push(`--setopt=reposdir=${ctx.reposDir}`);
  args.push('--setopt=install_weak_deps=False', `--setopt=${repoId}.priority=1`);
  for (const option of options.dnfOption ?? []) args.push(`--setopt=${option}`);
  // A deliberate change to the host: metadata fetched now, not what dnf's cache thinks still fresh.
  args.push('--refresh', 'install', ...specs);
  return args;
}

/** dnf with its output on our stderr (stdout stays for --json); resolves to its exit status. */
function runDnf(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('dnf', args, { stdio: ['ignore', 2, 2] });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new RpmgateError('internal', error.code === 'ENOENT' ? 'dnf is not installed (no dnf command on PATH)' : `cannot run dnf: ${error.message}`));
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * librepo verifies repomd.xml.asc with a keyring under the repo's cache directory and leaves a
 * gpg-agent running there (../shared/DNF-ON-DEBIAN.md, point 6): stop the one dnf started for our repo.
 */
async function stopRepoGpgAgents(root: string, repoId: string): Promise<void> {
  const cache = path.join(root, 'var/cache/dnf');
  const entries = await readdir(cache).catch(() => [] as string[]);
  for (const entry of entries.filter((e) => e.startsWith(`${repoId}-`))) {
    const pubring = path.join(cache, entry, 'pubring');
    if (!existsSync(pubring)) continue;
    await run('gpgconf', ['--homedir', pubring, '--kill', 'gpg-agent']).catch(() => undefined);
  }
}
