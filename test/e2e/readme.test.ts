// The README's "Five minutes with the CLI" works when pasted: its shell blocks are read from README.md
// itself (so the README cannot drift from what works) and run by bash, as written, in a fresh view of
// the checkout (a directory of links to it, without var/) with a fresh HOME whose ~/rpmbuild holds what
// `rpmbuild -ba` left there. Two things differ from a person's terminal, both said here: the server's
// port (127.0.0.1:8080 becomes a free port, since other tests and sessions share this machine) and
// `set -euo pipefail`, so that any failing line fails the test. The host block (curl into
// /etc/yum.repos.d, dnf install) is not run here: it would change the host (test/e2e/dnf-repositories
// installs from set repositories into a throwaway installroot).
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive, portIsFree, repositoryRoot, stopLeftoverPostgres } from '../support/serve-process.ts';

const exec = promisify(execFile);

interface Walk {
  code: number;
  stdout: string;
  stderr: string;
}

let checkout: string;
let home: string;
let port: number;
let serverPid: number | null = null;
let walk: Walk;

/** The ```sh blocks of a README section (from its heading to the next heading of the same level). */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`README.md has no section "${heading}"`);
  const level = /^#+/.exec(heading)![0];
  const rest = readme.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`\\n${level} `));
  const section = next === -1 ? rest : rest.slice(0, next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** A spec as a release manager writes one: an x86_64 package, optionally a noarch subpackage. */
function specText(name: string, version: string, options: { requires?: string; web?: boolean }): string {
  return `Name: ${name}
Version: ${version}
Release: 1
Summary: ${name} for the README walk
License: MIT
${options.requires ? `Requires: ${options.requires}\n` : ''}
%description
${name} ${version}
${options.web ? `\n%package web\nSummary: ${name}'s web front\nBuildArch: noarch\nRequires: ${name} = %{version}-%{release}\n\n%description web\nweb front\n\n%files web\n` : ''}
%install
mkdir -p %{buildroot}/usr/share/${name}
echo ${version} > %{buildroot}/usr/share/${name}/VERSION

%files
/usr/share/${name}/VERSION
`;
}

async function rpmbuild(spec: string, name: string, version: string): Promise<void> {
  // rpmlint (an entry check) wants the spec file named after the package.
  const dir = path.join(home, 'specs', `${name}-${version}`);
  await mkdir(dir, { recursive: true });
  const specFile = path.join(dir, `${name}.spec`);
  await writeFile(specFile, spec);
  // rpmbuild's default _topdir is ~/rpmbuild: what the README's upload line globs.
  await exec('rpmbuild', ['-ba', '--quiet', specFile], { env: { ...process.env, HOME: home } });
}

/**
 * Runs the script with its output in files: the server the block starts in the background inherits them
 * and keeps them open, so the walk ends when bash exits, not when its output closes.
 */
async function runBash(script: string, env: NodeJS.ProcessEnv, cwd: string, outputDir: string): Promise<Walk> {
  const stdoutFile = path.join(outputDir, 'walk.stdout');
  const stderrFile = path.join(outputDir, 'walk.stderr');
  const [out, err] = await Promise.all([open(stdoutFile, 'w'), open(stderrFile, 'w')]);
  const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', out.fd, err.fd] });
  await Promise.all([out.close(), err.close()]);
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const code = await new Promise<number>((resolve) => child.on('exit', (status) => resolve(status ?? 2)));
  clearTimeout(timer);
  return { code, stdout: await readFile(stdoutFile, 'utf8'), stderr: await readFile(stderrFile, 'utf8') };
}

beforeAll(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-readme-'));
  // The embedded PostgreSQL runs as nobody when tests run as root: it must reach the data dir.
  await chmod(base, 0o755);
  checkout = path.join(base, 'checkout');
  home = path.join(base, 'home');
  await mkdir(checkout);
  await mkdir(home);
  for (const entry of await readdir(repositoryRoot)) {
    if (entry === 'var' || entry === '.git') continue;
    await symlink(path.join(repositoryRoot, entry), path.join(checkout, entry));
  }
  await rpmbuild(specText('billing-data', '1.0', {}), 'billing-data', '1.0');
  await rpmbuild(specText('billing', '4.1.0', { requires: 'billing-data' }), 'billing', '4.1.0');
  await rpmbuild(specText('billing', '4.2.0', { requires: 'billing-data', web: true }), 'billing', '4.2.0');
  port = await freePort();

  const readme = await readFile(path.join(repositoryRoot, 'README.md'), 'utf8');
  const [block] = shellBlocks(readme, '## Five minutes with the CLI');
  const script = ['set -euo pipefail', block!.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`), 'echo "readme-walk-server-pid $!"'].join('\n');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PORT: String(port) };
  for (const name of ['RPMGATE_URL', 'RPMGATE_TOKEN', 'RPMGATE_ADMIN_TOKEN', 'RPMGATE_DATA_DIR', 'DATABASE_URL']) delete env[name];
  walk = await runBash(script, env, checkout, path.dirname(checkout));
  const pid = /readme-walk-server-pid (\d+)/.exec(walk.stdout)?.[1];
  serverPid = pid ? Number(pid) : null;
}, 600_000);

afterAll(async () => {
  if (serverPid !== null && isAlive(serverPid)) {
    process.kill(serverPid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (isAlive(serverPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (checkout) {
    stopLeftoverPostgres(path.join(checkout, 'var'));
    await rm(path.dirname(checkout), { recursive: true, force: true });
  }
});

describe("the README's first block, pasted", () => {
  it('runs to the end with every command succeeding', () => {
    expect(walk.code, `stdout:\n${walk.stdout}\nstderr:\n${walk.stderr}`).toBe(0);
  });

  it('the first start wrote an admin token readable by its owner only, and no admin token was needed in the environment', async () => {
    const info = await stat(path.join(checkout, 'var', 'initial-admin-token'));
    expect(info.mode & 0o777).toBe(0o600);
    expect(walk.stderr).toContain('"message":"rpmgate ready"');
    expect(walk.stderr).toContain('initial-admin-token');
  });

  it('uploaded every package rpmbuild made, created both sets, diffed them and promoted the new one', () => {
    expect(walk.stdout).toMatch(/7 file\(s\): 7 stored, 0 already present, 0 refused/);
    expect(walk.stdout).toMatch(/created billing\/4\.1\.0 at integ with \d+ package\(s\)/);
    expect(walk.stdout).toContain('added billing-data-1.0-1.x86_64 (level integ; required by billing-4.1.0-1.x86_64: billing-data)');
    expect(walk.stdout).toContain('billing/4.1.0 -> billing/4.2.0\n');
    expect(walk.stdout).toContain('  ~ billing.x86_64: 4.1.0-1 -> 4.2.0-1 (upgrade)');
    expect(walk.stdout).toContain('+ billing-web-4.2.0-1.noarch');
    expect(walk.stdout).toContain('billing/4.2.0 is now at qa_ready');
    expect(walk.stdout).toContain('billing/4.2.0 is now at pre_release');
  });

  it('the server it started is still serving, on the port the block named', async () => {
    expect(serverPid).not.toBeNull();
    expect(await portIsFree(port)).toBe(false);
  });
});

describe('the README stays walkable', () => {
  it('every `npx rpmgate` subcommand in the block is one the CLI knows', async () => {
    const readme = await readFile(path.join(repositoryRoot, 'README.md'), 'utf8');
    const commands = new Set([...shellBlocks(readme, '## Five minutes with the CLI').join('\n').matchAll(/npx rpmgate (\w+)/g)].map((m) => m[1]!));
    const { stdout } = await exec(process.execPath, [path.join(repositoryRoot, 'bin/rpmgate.js'), '--help']);
    for (const command of commands) expect(stdout, command).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });
});

