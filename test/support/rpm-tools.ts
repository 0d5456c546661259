// The real rpm, rpmkeys, rpmsign and gpg, run against private temporary homes and roots: never the
// host's rpmdb (~/.rpmdb on Debian), ~/.gnupg or /. Every helper returns the exit code and output
// rather than throwing, so tests can assert refusals as well as successes.
// Layout and pitfalls: ../shared/DNF-ON-DEBIAN.md.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; a non-zero exit is a result, not an error. */
export function runTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

let tools: Promise<string[]> | undefined;

/** The tools these helpers need that are not installed (empty when all are). */
export function missingRpmTools(): Promise<string[]> {
  tools ??= (async () => {
    const missing: string[] = [];
    for (const tool of ['rpm', 'rpmkeys', 'rpmsign', 'rpmbuild', 'gpg', 'gpgconf', 'dnf', 'createrepo_c']) {
      const found = await runTool(tool, ['--version']).then(
        (result) => result.code === 0,
        () => false,
      );
      if (!found) missing.push(tool);
    }
    return missing;
  })();
  return tools;
}

/** A throwaway rpm root: ROOT/var/lib/rpm is its database, ROOT/home the HOME every rpm call gets. */
export interface RpmRoot {
  root: string;
  /** Absolute database path (ROOT/var/lib/rpm), for rpmkeys without --root. */
  dbpath: string;
  env: NodeJS.ProcessEnv;
  /** rpmkeys --import of an armored key file. */
  importKey(keyFile: string): Promise<RunResult>;
  /** rpmkeys -Kv: digests and signatures of a package file against this root's keys. */
  checkSignature(rpmFile: string): Promise<RunResult>;
  /** rpm -i into the root (extra args: --nodeps, --noscripts, --define ...). */
  install(rpmFile: string, extraArgs?: readonly string[]): Promise<RunResult>;
  /** rpm with --root and --dbpath already given. */
  rpm(args: readonly string[]): Promise<RunResult>;
  cleanup(): Promise<void>;
}

export async function createRpmRoot(): Promise<RpmRoot> {
  const root = await mkdtemp(path.join(tmpdir(), 'rpmgate-rpmroot-'));
  const home = path.join(root, 'home');
  await mkdir(home, { recursive: true });
  await mkdir(path.join(root, 'var/lib/rpm'), { recursive: true });
  await writeFile(path.join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
  const env = { ...process.env, HOME: home, LC_ALL: 'C' };
  const dbpath = path.join(root, 'var/lib/rpm');
  const rpm = (args: readonly string[]) => runTool('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args], env);
  return {
    root,
    dbpath,
    env,
    importKey: (keyFile) => runTool('rpmkeys', ['--dbpath', dbpath, '--import', keyFile], env),
    checkSignature: (rpmFile) => runTool('rpmkeys', ['--dbpath', dbpath, '-Kv', rpmFile], env),
    install: (rpmFile, extraArgs = []) => rpm(['-i', ...extraArgs, rpmFile]),
    rpm,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A throwaway GNUPGHOME; cleanup stops the gpg-agent gpg may have started there. */
export interface GpgHome {
  home: string;
  env: NodeJS.ProcessEnv;
  gpg(args: readonly string[], input?: string): Promise<RunResult>;
  /** Imports armored keys (public or secret). */
  importKeys(armored: string): Promise<RunResult>;
  /** gpg --verify SIGNATURE DATA, with --status-fd 1 (VALIDSIG/GOODSIG lines on stdout). */
  verifyDetached(signatureFile: string, dataFile: string): Promise<RunResult>;
  cleanup(): Promise<void>;
}

export async function createGpgHome(): Promise<GpgHome> {
  const home = await mkdtemp(path.join(tmpdir(), 'rpmgate-gnupg-'));
  const env = { ...process.env, GNUPGHOME: home, LC_ALL: 'C' };
  const gpg = (args: readonly string[], input?: string) => runTool('gpg', ['--batch', '--no-tty', ...args], env, input);
  return {
    home,
    env,
    gpg,
    importKeys: (armored) => gpg(['--import'], armored),
    verifyDetached: (signatureFile, dataFile) => gpg(['--status-fd', '1', '--verify', signatureFile, dataFile]),
    cleanup: async () => {
      await runTool('gpgconf', ['--homedir', home, '--kill', 'all'], env).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * Signs `rpmFile` in place with the real rpmsign (header-only V4 signature, as rpm 4.18 does), using
 * the secret key `keyName` of a GpgHome. Debian's %__gpg names a missing gpg2: point it at gpg.
 */
export function rpmsignAddsign(gpgHome: GpgHome, keyName: string, rpmFile: string, rpmRoot: RpmRoot): Promise<RunResult> {
  return runTool(
    'rpmsign',
    ['--define', '__gpg /usr/bin/gpg', '--define', `_gpg_path ${gpgHome.home}`, '--define', `_gpg_name ${keyName}`, '--define', '_gpg_digest_algo sha256', '--addsign', rpmFile],
    { ...rpmRoot.env, GNUPGHOME: gpgHome.home },
  );
}

/** The "Header V4 ... Signature, key ID ...: OK"-style lines of rpmkeys -Kv output, trimmed. */
export function signatureLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /Signature/.test(line));
}
