// A throwaway dnf installroot, prepared as ../shared/DNF-ON-DEBIAN.md describes, so that tests drive
// the real rpm and dnf without touching the host: a private HOME whose .rpmmacros pins %_dbpath
// /var/lib/rpm (the layout of EL hosts), a private dnf.conf (no plugins, releasever 1, its own
// reposdir, no weak dependencies), and host facts (machine-id, hostname, os-release) inside the root.
// Every dnf run ends by stopping the gpg-agents librepo leaves in the root's cache.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface DnfRoot {
  /** The temporary directory holding everything below. */
  dir: string;
  /** The installroot (rpm --root, dnf --installroot, rpmgate-agent --rpm-root). */
  root: string;
  /** HOME for rpm, dnf and the agent: its .rpmmacros pins %_dbpath. */
  home: string;
  /** The reposdir named in dnf.conf (and given to the agent as --repos-dir). */
  reposDir: string;
  /** The agent's spool directory. */
  spoolDir: string;
  /** The private dnf configuration file. */
  dnfConf: string;
  machineId: string;
  hostname: string;
  /** Environment for child processes: HOME (and LC_ALL) set. */
  env: Record<string, string>;
  /** `rpm -qa` in the root, as sorted "name-[epoch:]version-release.arch" lines. */
  installed(): Promise<string[]>;
  /** rpm with --root and --dbpath already given; stdout. */
  rpm(args: string[]): Promise<string>;
  /**
   * dnf -y with the private config and HOME, and a repository from a URL when given (reposdir
   * then ignored, as DNF-ON-DEBIAN.md's recipe does). Throws with dnf's output when it fails.
   */
  dnf(args: string[], options?: { repoUrl?: string; setopts?: string[] }): Promise<string>;
  /** Stops every gpg-agent librepo started under the root's dnf cache. */
  stopGpgAgents(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface DnfRootOptions {
  hostname?: string;
  prettyName?: string;
}

export async function createDnfRoot(options: DnfRootOptions = {}): Promise<DnfRoot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-dnf-root-'));
  const root = path.join(dir, 'root');
  const home = path.join(dir, 'home');
  const reposDir = path.join(dir, 'repos.d');
  const spoolDir = path.join(dir, 'spool');
  const dnfConf = path.join(dir, 'dnf.conf');
  const machineId = randomBytes(16).toString('hex');
  const hostname = options.hostname ?? `test-host-${randomBytes(3).toString('hex')}`;
  await Promise.all([mkdir(path.join(root, 'etc'), { recursive: true }), mkdir(home), mkdir(reposDir)]);
  await Promise.all([
    writeFile(path.join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n'),
    writeFile(path.join(root, 'etc/machine-id'), `${machineId}\n`),
    writeFile(path.join(root, 'etc/hostname'), `${hostname}\n`),
    writeFile(path.join(root, 'etc/os-release'), `NAME="rpmgate test"\nID=rpmgate-test\nVERSION_ID=1\nPRETTY_NAME="${options.prettyName ?? 'rpmgate test root 1'}"\n`),
    // plugins=0: dnf-plugins-core's `local` plugin would add a repo without a key and write to the
    // host's /var/lib/dnf. releasever=1: an empty root has no system-release package.
    writeFile(
      dnfConf,
      ['[main]', 'plugins=0', 'releasever=1', `reposdir=${reposDir}`, 'install_weak_deps=0', 'skip_if_unavailable=0', 'keepcache=0', ''].join('\n'),
    ),
  ]);
  const env = { HOME: home, LC_ALL: 'C' };
  const childEnv = { ...process.env, ...env };

  const stopGpgAgents = async () => {
    const cache = path.join(root, 'var/cache/dnf');
    const entries = await readdir(cache).catch(() => [] as string[]);
    for (const entry of entries) {
      const pubring = path.join(cache, entry, 'pubring');
      if (existsSync(pubring)) await exec('gpgconf', ['--homedir', pubring, '--kill', 'gpg-agent']).catch(() => undefined);
    }
  };

  return {
    dir,
    root,
    home,
    reposDir,
    spoolDir,
    dnfConf,
    machineId,
    hostname,
    env,
    async rpm(args) {
      const { stdout } = await exec('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args], { env: childEnv });
      return stdout;
    },
    async installed() {
      const { stdout } = await exec(
        'rpm',
        ['-qa', '--root', root, '--dbpath', '/var/lib/rpm', '--qf', '%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n'],
        { env: childEnv },
      );
      return stdout
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('gpg-pubkey-'))
        .sort();
    },
    async dnf(args, dnfOptions = {}) {
      const repoArgs = dnfOptions.repoUrl ? ['--setopt=reposdir=/dev/null', `--repofrompath=gate,${dnfOptions.repoUrl}`] : [];
      const setopts = (dnfOptions.setopts ?? []).map((option) => `--setopt=${option}`);
      try {
        const { stdout, stderr } = await exec('dnf', ['-y', `--installroot=${root}`, `--config=${dnfConf}`, ...repoArgs, ...setopts, ...args], {
          env: childEnv,
          maxBuffer: 64 * 1024 * 1024,
          timeout: 300_000,
        });
        return stdout + stderr;
      } catch (error) {
        const failure = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`dnf ${args.join(' ')} failed: ${failure.stderr || failure.stdout || failure.message}`);
      } finally {
        await stopGpgAgents();
      }
    },
    stopGpgAgents,
    async cleanup() {
      await stopGpgAgents();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this machine can run the dnf end-to-end tests: rpm, dnf and gpgconf present, and root. */
export async function dnfAvailable(): Promise<{ ok: boolean; reason: string }> {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'dnf --installroot needs root' };
  // Looked up on PATH, not run: `dnf --version` reads the host's rpm database (Debian: ~/.rpmdb).
  for (const tool of ['rpm', 'dnf', 'gpgconf']) {
    if (!(await onPath(tool))) return { ok: false, reason: `${tool} is not installed` };
  }
  return { ok: true, reason: '' };
}

async function onPath(tool: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      await access(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // next directory
    }
  }
  return false;
}
