// The one bootstrap command, end to end: `curl -fsS URL/bootstrap.sh?set=demo/1.0 | sh -e` with an
// enrollment token takes an installroot host from nothing to a trusted key, the agent's repository,
// rpmgate-agent installed by the real dnf (gpgcheck and repo_gpgcheck), enrolled, configured for the
// set, the timer enabled (systemctl --root) and a first report on the server; a second run changes
// nothing. RPMGATE_BOOTSTRAP_ROOT aims the script at the root (tests only).
//
// The root's "distribution repository" is a local repository holding only the nodejs stand-in
// (test/fixtures/stand-ins/nodejs.spec: nodejs = 1:<this node's version>, /usr/bin/node linking to the
// node running the tests), so that dnf resolves rpmgate-agent's "nodejs >= 1:20" as on a RHEL host.
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentRpm } from '../../agent/packaging/build-rpm.ts';
import { buildFixtures } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { buildNodejsStandIn } from '../support/nodejs-stand-in.ts';
import { toolsRequired } from '../support/requirements.ts';
import { runTool, type RunResult } from '../support/rpm-tools.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const availability = await dnfAvailable();
const tools = await Promise.all(['curl', 'systemctl', 'createrepo_c'].map((tool) => runTool(tool, ['--version']).then((r) => r.code === 0, () => false)));
const missingTool = ['curl', 'systemctl', 'createrepo_c'].find((_, index) => !tools[index]);
const skipReason = !availability.ok ? availability.reason : missingTool ? `${missingTool} is not installed` : '';
if (skipReason && toolsRequired) throw new Error(`the bootstrap end-to-end test cannot run in CI: ${skipReason}`);

let server: TestServer;
let scratch: string;
let standInRepo: string;
let agentVersion: string;
let fingerprints: string[];
const roots: DnfRoot[] = [];

/** A new host: an empty installroot with its own dnf.conf and the stand-in "distribution repository". */
async function newHost(): Promise<DnfRoot> {
  const host = await createDnfRoot();
  roots.push(host);
  // dnf --installroot reads the root's own dnf.conf and reposdir first (dnf(8)); plugins=0 keeps
  // Debian's dnf-plugins-core out (../shared/DNF-ON-DEBIAN.md), releasever=1: no system-release here.
  await mkdir(path.join(host.root, 'etc/dnf'), { recursive: true });
  await mkdir(path.join(host.root, 'etc/yum.repos.d'), { recursive: true });
  await writeFile(path.join(host.root, 'etc/dnf/dnf.conf'), '[main]\nplugins=0\nreleasever=1\ninstall_weak_deps=0\nskip_if_unavailable=0\nkeepcache=0\n');
  await writeFile(
    path.join(host.root, 'etc/yum.repos.d/stand-in-appstream.repo'),
    // The stand-in is a test fixture, unsigned; the real distribution repository is signed by its vendor.
    `[stand-in-appstream]\nname=TEST STAND-IN for the distribution's repository (nodejs only)\nbaseurl=file://${standInRepo}\ngpgcheck=0\nrepo_gpgcheck=0\n`,
  );
  return host;
}

/** The bootstrap command as a person runs it, with the root and HOME a test needs. */
function bootstrap(host: DnfRoot, env: Record<string, string>, set = 'demo/1.0'): Promise<RunResult> {
  return runTool('sh', ['-c', `curl -fsS '${server.url}/bootstrap.sh?set=${set}' | sh -e`], {
    ...process.env,
    ...host.env,
    RPMGATE_BOOTSTRAP_ROOT: host.root,
    ...env,
  });
}

/** What a second run must leave alone: these files' bytes and times, and the installed packages. */
async function snapshot(host: DnfRoot): Promise<Record<string, string>> {
  const files = [
    'etc/pki/rpm-gpg/RPM-GPG-KEY-rpmgate',
    'etc/yum.repos.d/rpmgate.repo',
    'etc/yum.repos.d/rpmgate-demo.repo',
    'etc/rpmgate/agent.env',
    'etc/systemd/system/timers.target.wants/rpmgate-agent.timer',
  ];
  const state: Record<string, string> = {};
  for (const file of files) {
    const full = path.join(host.root, file);
    const info = await lstat(full);
    state[file] = `${info.mtimeMs} ${info.mode.toString(8)} ${info.isSymbolicLink() ? await readlink(full) : await readFile(full, 'utf8')}`;
  }
  state.rpm = (await host.rpm(['-qa', '--qf', '%{NEVRA} %{INSTALLTIME}\\n'])).split('\n').sort().join('\n');
  return state;
}

describe.skipIf(Boolean(skipReason))(`the bootstrap script with real curl, sh, gpg, rpm, dnf and systemctl${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bootstrap-e2e-'));
    standInRepo = path.join(scratch, 'stand-in-appstream');
    const [started, fixtures, agentRpm] = await Promise.all([
      startTestServer(),
      buildFixtures(),
      buildAgentRpm({ outDir: path.join(scratch, 'rpm') }),
      buildNodejsStandIn(standInRepo),
    ]);
    server = started;
    agentVersion = agentRpm.version;
    await run('createrepo_c', ['--quiet', standInRepo]);
    const hello = await fetch(`${server.url}/api/v1/packages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/x-rpm' },
      body: await readFile(fixtures.byName('rg-hello-2.0-1.noarch').path),
    });
    expect(hello.status).toBe(201);
    await server.admin.post('/api/v1/sets', { name: 'demo', version: '1.0', packages: ['rg-hello-2.0-1.noarch'], allowUnresolved: true });
    const published = await rpmgate(server, server.adminToken, ['agent', 'publish', agentRpm.file]);
    expect(published.code, published.stderr).toBe(0);
    const { body } = await server.admin.get<{ keys: { fingerprint: string; status: string }[] }>('/api/v1/keys');
    fingerprints = body.keys.filter((key) => key.status !== 'retired').map((key) => key.fingerprint);
  });

  afterAll(async () => {
    for (const root of roots) await root.cleanup();
    await server?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('takes a host from nothing to enrolled, configured, installed and reporting; a second run changes nothing', async () => {
    const host = await newHost();
    const enrollment = await server.tokenFor('enrollment');
    // The fingerprint as `rpmgate key show` prints it, handed to the host out of band.
    const first = await bootstrap(host, { RPMGATE_ENROLLMENT_TOKEN: enrollment, RPMGATE_KEY_FINGERPRINT: fingerprints.join(',') });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stderr).toBe('');
    const lines = first.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^rpmgate bootstrap: signing key [0-9A-F]{40} checked and kept in \/etc\/pki\/rpm-gpg\/RPM-GPG-KEY-rpmgate$/),
      'rpmgate bootstrap: signing key imported into rpm',
      'rpmgate bootstrap: agent repository written to /etc/yum.repos.d/rpmgate.repo',
      `rpmgate bootstrap: rpmgate-agent-${agentVersion}-1.noarch installed`,
      `rpmgate bootstrap: enrolled ${host.hostname} (${host.machineId}): agent token in ${path.join(host.root, 'etc/rpmgate/agent.env')}`,
      `rpmgate bootstrap: configured demo/1.0: ${path.join(host.root, 'etc/yum.repos.d/rpmgate-demo.repo')}`,
      'rpmgate bootstrap: rpmgate-agent.timer enabled',
      `rpmgate bootstrap: reported 2 packages for ${host.hostname} (set demo/1.0): drifting`,
      `rpmgate bootstrap: done: this host is enrolled with ${server.url}, follows demo/1.0 and reports`,
    ]);

    // The host as the script left it.
    expect(await host.installed()).toEqual([`nodejs-1:${process.versions.node}-0.rpmgate.stand.in.noarch`, `rpmgate-agent-${agentVersion}-1.noarch`]);
    expect(await host.rpm(['-q', 'gpg-pubkey', '--qf', '%{VERSION}\\n'])).toBe(`${fingerprints[0]!.slice(-8).toLowerCase()}\n`);
    const envFile = path.join(host.root, 'etc/rpmgate/agent.env');
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const env = await readFile(envFile, 'utf8');
    expect(env).toContain(`RPMGATE_URL=${server.url}\n`);
    expect(env).toMatch(/^RPMGATE_TOKEN=rg_/m);
    expect(env).not.toContain(enrollment);
    expect((await readFile(path.join(host.root, 'etc/yum.repos.d/rpmgate-demo.repo'), 'utf8')).split('\n')[0]).toBe('# rpmgate-agent: set demo/1.0');
    const agentRepo = await readFile(path.join(host.root, 'etc/yum.repos.d/rpmgate.repo'), 'utf8');
    expect(agentRepo).toContain(`baseurl=${server.url}/repo/agent/\n`);
    expect(agentRepo).toContain('gpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-rpmgate\n');
    expect(await readlink(path.join(host.root, 'etc/systemd/system/timers.target.wants/rpmgate-agent.timer'))).toBe('/usr/lib/systemd/system/rpmgate-agent.timer');
    const { body: reported } = await server.admin.get<{ reports: number; set: string; hostname: string; status: string }>(`/api/v1/hosts/${host.machineId}`);
    expect(reported).toMatchObject({ reports: 1, set: 'demo/1.0', hostname: host.hostname, status: 'drifting' });

    // Again, without any token or fingerprint: everything is in place, only a report is sent.
    const before = await snapshot(host);
    const second = await bootstrap(host, {});
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^rpmgate bootstrap: signing key [0-9A-F]{40} already kept in \/etc\/pki\/rpm-gpg$/),
      'rpmgate bootstrap: agent repository already in /etc/yum.repos.d/rpmgate.repo',
      `rpmgate bootstrap: rpmgate-agent-${agentVersion}-1.noarch already installed`,
      `rpmgate bootstrap: already enrolled with ${server.url}`,
      'rpmgate bootstrap: already configured for demo/1.0',
      'rpmgate bootstrap: rpmgate-agent.timer already enabled',
      `rpmgate bootstrap: reported 2 packages for ${host.hostname} (set demo/1.0): drifting`,
      `rpmgate bootstrap: done: nothing changed (demo/1.0, ${server.url})`,
    ]);
    expect(await snapshot(host)).toEqual(before);
    expect((await server.admin.get<{ reports: number }>(`/api/v1/hosts/${host.machineId}`)).body.reports).toBe(2);
  }, 600_000);

  it('stops with one line, having written nothing, when the served key is not the one given', async () => {
    const host = await newHost();
    const wrong = 'ABCD'.repeat(10);
    const result = await bootstrap(host, { RPMGATE_ENROLLMENT_TOKEN: await server.tokenFor('enrollment'), RPMGATE_KEY_FINGERPRINT: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `rpmgate bootstrap: the server's key ${fingerprints[0]!.toUpperCase()} is not in RPMGATE_KEY_FINGERPRINT (${wrong}): not trusting it\n`,
    );
    expect(result.stdout).toBe('');
    for (const file of ['etc/pki', 'etc/yum.repos.d/rpmgate.repo', 'etc/rpmgate', 'var/lib/rpm']) {
      await expect(stat(path.join(host.root, file)), file).rejects.toThrow(/ENOENT/);
    }
  });

  it('stops with one line when the host is not enrolled and no enrollment token is given', async () => {
    const host = await newHost();
    const result = await bootstrap(host, {});
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'rpmgate bootstrap: RPMGATE_ENROLLMENT_TOKEN is not set: run it as ... | sudo RPMGATE_ENROLLMENT_TOKEN=<a fleet enrollment token> sh\n',
    );
    expect(await host.installed()).toContain(`rpmgate-agent-${agentVersion}-1.noarch`);
  }, 300_000);
});
