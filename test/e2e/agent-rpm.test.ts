// The agent RPM end to end, with the real tools: built by rpmbuild (npm run build:agent-rpm), its files,
// modes and dependencies read back with rpm -qlvp / -qRp, published to a real server, linted as served
// (signed) by rpmlint, installed by Debian's dnf into a throwaway installroot from /repo/agent/ with
// gpgcheck and repo_gpgcheck; then the dnf 4 plugin it ships, loaded by a real dnf (pluginpath and
// pluginconfpath), reports after a transaction, and with the server stopped the transaction still
// succeeds and the report waits in the spool; the dnf 5 action line, run as libdnf5-actions(8) runs it.
//
// No nodejs RPM exists for these roots (Debian's dnf has no RHEL or Fedora repository): the stand-in of
// test/fixtures/stand-ins/nodejs.spec provides nodejs = 1:<this node's version> and a /usr/bin/node
// linking to the node running the tests, exactly what the agent requires of the distribution's package.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentRpm, packagingDir, type AgentRpm } from '../../agent/packaging/build-rpm.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { actionCommand, agentProcesses, waitFor } from '../support/agent-hooks.ts';
import { rpmgate } from '../support/cli.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { buildNodejsStandIn, type NodejsStandIn } from '../support/nodejs-stand-in.ts';
import { toolsRequired } from '../support/requirements.ts';
import { runTool } from '../support/rpm-tools.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const availability = await dnfAvailable();
if (!availability.ok && toolsRequired) throw new Error(`the agent RPM end-to-end tests cannot run in CI: ${availability.reason}`);
const rpmlintFound = await runTool('rpmlint', ['--version']).then((result) => result.code === 0, () => false);
if (!rpmlintFound && toolsRequired) throw new Error('rpmlint is not installed: the agent RPM must be checked with it in CI');

/** Where the spec puts the dnf 4 plugin by default: EL 9's Python. */
const pluginDir = 'usr/lib/python3.9/site-packages/dnf-plugins';

let server: TestServer;
let fixtures: FixtureSet;
let agentRpm: AgentRpm;
let standIn: NodejsStandIn;
let scratch: string;
let gpgOptions: string[];
const roots: DnfRoot[] = [];

async function newHost(): Promise<DnfRoot> {
  const root = await createDnfRoot();
  roots.push(root);
  return root;
}

/** A host with the stand-in nodejs (as a host has its distribution's) and rpmgate-agent from /repo/agent/. */
async function hostWithAgent(): Promise<DnfRoot> {
  const host = await newHost();
  await host.dnf(['install', standIn.file]);
  await host.dnf(['install', 'rpmgate-agent'], { repoUrl: `${server.url}/repo/agent/`, setopts: gpgOptions });
  return host;
}

/** The agent installed in a root, run from here by the root's node (the stand-in's link to this node). */
function rootAgent(host: DnfRoot, args: string[], env: Record<string, string> = {}) {
  return runTool(path.join(host.root, 'usr/bin/node'), [path.join(host.root, 'usr/bin/rpmgate-agent'), '--rpm-root', host.root, ...args], {
    ...process.env,
    ...host.env,
    ...env,
  });
}

async function enroll(host: DnfRoot): Promise<void> {
  const enrolled = await rootAgent(host, ['--server', server.url, 'enroll', '--enrollment-token', await server.tokenFor('enrollment')]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
}

async function hostReports(machineId: string): Promise<{ reports: number; packages: string[] } | null> {
  const response = await fetch(`${server.url}/api/v1/hosts/${machineId}?packages=true`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  if (response.status === 404) return null;
  return (await response.json()) as { reports: number; packages: string[] };
}

async function spooled(host: DnfRoot): Promise<string[]> {
  return (await readdir(path.join(host.root, 'var/spool/rpmgate-agent')).catch(() => [] as string[])).filter((name) => name.endsWith('.json'));
}

describe.skipIf(!availability.ok)(`the rpmgate-agent RPM with real rpm, rpmlint and dnf${availability.ok ? '' : ` (SKIPPED: ${availability.reason})`}`, () => {
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-rpm-e2e-'));
    [server, fixtures, agentRpm, standIn] = await Promise.all([
      startTestServer(),
      buildFixtures(),
      buildAgentRpm({ outDir: path.join(scratch, 'rpm') }),
      buildNodejsStandIn(path.join(scratch, 'stand-in')),
    ]);
    for (const pkg of [fixtures.byName('rg-hello-2.0-1.noarch'), fixtures.byName('rg-text')]) {
      const response = await fetch(`${server.url}/api/v1/packages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/x-rpm' },
        body: await readFile(pkg.path),
      });
      expect(response.status).toBe(201);
    }
    const published = await rpmgate(server, server.adminToken, ['agent', 'publish', agentRpm.file]);
    expect(published.code, published.stderr).toBe(0);
    gpgOptions = ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`];
  });

  afterAll(async () => {
    for (const root of roots) await root.cleanup();
    await server?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('holds the bundle, /usr/bin/rpmgate-agent, the units, agent.env 0600 as %config(noreplace) and the dnf hooks, and requires nodejs >= 1:20', async () => {
    const rpm = (args: string[]) => run('rpm', ['--dbpath', path.join(scratch, 'db'), ...args, agentRpm.file]).then(({ stdout }) => stdout);
    expect(path.basename(agentRpm.file)).toBe(`rpmgate-agent-${agentRpm.version}-1.noarch.rpm`);
    const listing = (await rpm(['-qlvp']))
      .trim()
      .split('\n')
      .map((line) => {
        const fields = line.trim().split(/\s+/);
        return `${fields[0]} ${fields[2]}:${fields[3]} ${fields.slice(8).join(' ')}`;
      });
    expect(listing).toEqual([
      '-rw-r--r-- root:root /etc/dnf/libdnf5-plugins/actions.d/rpmgate.actions',
      '-rw-r--r-- root:root /etc/dnf/plugins/rpmgate.conf',
      'drwxr-xr-x root:root /etc/rpmgate',
      '-rw------- root:root /etc/rpmgate/agent.env',
      'lrwxrwxrwx root:root /usr/bin/rpmgate-agent -> ../share/rpmgate-agent/rpmgate-agent.mjs',
      `-rw-r--r-- root:root /${pluginDir}/rpmgate.py`,
      '-rw-r--r-- root:root /usr/lib/systemd/system/rpmgate-agent.service',
      '-rw-r--r-- root:root /usr/lib/systemd/system/rpmgate-agent.timer',
      `drwxr-xr-x root:root /usr/share/doc/rpmgate-agent-${agentRpm.version}`,
      `-rw-r--r-- root:root /usr/share/doc/rpmgate-agent-${agentRpm.version}/README.md`,
      '-rw-r--r-- root:root /usr/share/man/man1/rpmgate-agent.1.gz',
      'drwxr-xr-x root:root /usr/share/rpmgate-agent',
      '-rwxr-xr-x root:root /usr/share/rpmgate-agent/rpmgate-agent.mjs',
      '-rw-r--r-- root:root /usr/share/rpmgate-agent/rpmgate-agent.mjs.map',
      'drwx------ root:root /var/spool/rpmgate-agent',
    ]);
    expect((await rpm(['-qcp'])).trim().split('\n')).toEqual([
      '/etc/dnf/libdnf5-plugins/actions.d/rpmgate.actions',
      '/etc/dnf/plugins/rpmgate.conf',
      '/etc/rpmgate/agent.env',
    ]);
    expect((await rpm(['-qp', '--qf', '[%{FILEFLAGS:fflags} %{FILENAMES}\\n]'])).split('\n').filter((line) => line.startsWith('cn '))).toEqual([
      'cn /etc/dnf/libdnf5-plugins/actions.d/rpmgate.actions',
      'cn /etc/dnf/plugins/rpmgate.conf',
      'cn /etc/rpmgate/agent.env',
    ]);
    const requires = (await rpm(['-qRp'])).trim().split('\n');
    expect(requires.filter((line) => !line.startsWith('rpmlib('))).toEqual(['/usr/bin/node', `config(rpmgate-agent) = ${agentRpm.version}-1`, 'nodejs >= 1:20']);
    // The bundle's npm packages are declared, as Fedora asks of bundled code.
    expect(await rpm(['-qp', '--provides'])).toContain('bundled(nodejs-commander)');
  });

  it.skipIf(!rpmlintFound)('is rpmlint-clean as served (signed), with agent/packaging/rpmlint.toml', async () => {
    const { body: entries } = await server.admin.get<{ sha256: string }[]>('/api/v1/packages?name=rpmgate-agent');
    const served = await fetch(`${server.url}/repo/agent/Packages/${path.basename(agentRpm.file)}`);
    expect(served.status).toBe(200);
    const file = path.join(scratch, path.basename(agentRpm.file));
    await writeFile(file, Buffer.from(await served.arrayBuffer()));
    expect(entries).toHaveLength(1);
    // rpmlint checks the signature against the rpm database rpm uses (here HOME's): rpmgate's key is in it,
    // as on a host that trusts the server.
    const home = path.join(scratch, 'lint-home');
    await mkdir(path.join(home, 'rpmdb'), { recursive: true });
    await writeFile(path.join(home, '.rpmmacros'), `%_dbpath ${path.join(home, 'rpmdb')}\n`);
    const key = path.join(home, 'rpmgate.asc');
    await writeFile(key, await (await fetch(`${server.url}/keys/rpmgate.asc`)).text());
    const lintEnv = { ...process.env, HOME: home, LC_ALL: 'C' };
    expect((await runTool('rpmkeys', ['--import', key], lintEnv)).code).toBe(0);
    const lint = await runTool('rpmlint', ['-c', path.join(packagingDir, 'rpmlint.toml'), file], lintEnv);
    expect(lint.stdout, lint.stdout + lint.stderr).toContain('1 packages and 0 specfiles checked; 0 errors, 0 warnings');
    expect(lint.code).toBe(0);
  });

  it('dnf installs it from /repo/agent/ with gpgcheck and repo_gpgcheck, beside the nodejs stand-in, and it runs', async () => {
    const host = await hostWithAgent();
    expect(await host.installed()).toEqual([`nodejs-1:${standIn.version}-0.rpmgate.stand.in.noarch`, `rpmgate-agent-${agentRpm.version}-1.noarch`]);
    expect((await stat(path.join(host.root, 'etc/rpmgate/agent.env'))).mode & 0o777).toBe(0o600);
    expect(await readlink(path.join(host.root, 'usr/bin/rpmgate-agent'))).toBe('../share/rpmgate-agent/rpmgate-agent.mjs');
    const version = await rootAgent(host, ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe(`${agentRpm.version}\n`);
    // rpm verified the package with rpmgate's key: it is imported in the root.
    expect(await host.rpm(['-q', 'gpg-pubkey'])).toMatch(/^gpg-pubkey-/);
  });

  it('is refused next to a nodejs older than 20, which the distributions ship with Epoch 1', async () => {
    const old = await buildNodejsStandIn(path.join(scratch, 'stand-in-16'), '16.20.2');
    const host = await newHost();
    await host.dnf(['install', old.file]);
    await expect(host.dnf(['install', 'rpmgate-agent'], { repoUrl: `${server.url}/repo/agent/`, setopts: gpgOptions })).rejects.toThrow(
      /nothing provides nodejs >= 1:20 needed by rpmgate-agent/,
    );
  });

  it('the dnf 4 plugin, loaded by a real dnf, reports after a transaction; with the server stopped the transaction succeeds and the report is spooled', async () => {
    const host = await hostWithAgent();
    await enroll(host);
    // The plugin and its configuration as the RPM installed them in the root; the configuration names
    // the agent (which is not installed on this test machine's /usr/bin) and nothing else.
    const confDir = path.join(scratch, `plugin-conf-${path.basename(host.dir)}`);
    await mkdir(confDir, { recursive: true });
    const shipped = await readFile(path.join(host.root, 'etc/dnf/plugins/rpmgate.conf'), 'utf8');
    await writeFile(path.join(confDir, 'rpmgate.conf'), `${shipped}command=${process.execPath} ${path.join(host.root, 'usr/bin/rpmgate-agent')}\n`);
    const pluginOptions = ['plugins=1', `pluginpath=${path.join(host.root, pluginDir)}`, `pluginconfpath=${confDir}`];

    const installed = await host.dnf(['-v', 'install', 'rg-hello-2.0-1.noarch'], {
      repoUrl: `${server.url}/repo/level/integ/`,
      setopts: [...gpgOptions, ...pluginOptions],
    });
    expect(installed).toMatch(/rpmgate: started rpmgate-agent report \(pid \d+\) in [\d.]+ ms/);
    const reported = await waitFor('the report of the transaction', async () => {
      const detail = await hostReports(host.machineId);
      return detail && detail.reports >= 1 && detail.packages.includes('rg-hello-2.0-1.noarch') ? detail : null;
    });
    expect(reported.reports).toBe(1);
    await waitFor('the agent to finish', async () => (await agentProcesses(host.root)).length === 0);

    await server.stop();
    try {
      const removed = await host.dnf(['remove', 'rg-hello'], { setopts: pluginOptions });
      expect(removed).toContain('Complete!');
      // dnf is done while the agent is still trying the server (it waits 2 s before its first retry).
      expect((await agentProcesses(host.root)).length).toBeGreaterThan(0);
      await waitFor('the report in the spool', async () => (await spooled(host)).length === 1);
      await waitFor('the agent to give up for this run', async () => (await agentProcesses(host.root)).length === 0, 90_000);
      expect(await spooled(host)).toHaveLength(1);
    } finally {
      await server.start();
    }
    // The next transaction's report goes after the spooled one, in order.
    await host.dnf(['install', 'rg-text'], { repoUrl: `${server.url}/repo/level/integ/`, setopts: [...gpgOptions, ...pluginOptions] });
    const after = await waitFor('both reports', async () => {
      const detail = await hostReports(host.machineId);
      return detail && detail.reports >= 3 ? detail : null;
    });
    expect(after.reports).toBe(3);
    expect(after.packages.filter((nevra) => nevra.startsWith('rg-'))).toEqual(['rg-text-1.0-1.noarch']);
    expect(await spooled(host)).toEqual([]);
    const { body } = await server.admin.get<{ history: { kind: string; from: string | null; to: string | null }[] }>(`/api/v1/hosts/${host.machineId}`);
    expect(body.history.map((change) => [change.kind, change.from ?? change.to])).toEqual(
      expect.arrayContaining([
        ['removed', 'rg-hello-2.0-1.noarch'],
        ['installed', 'rg-text-1.0-1.noarch'],
      ]),
    );
    await waitFor('the agent to finish', async () => (await agentProcesses(host.root)).length === 0);
  }, 300_000);

  it('a root that is not enrolled makes the plugin start nothing', async () => {
    const host = await hostWithAgent();
    const confDir = path.join(scratch, `plugin-conf-${path.basename(host.dir)}`);
    await mkdir(confDir, { recursive: true });
    await writeFile(path.join(confDir, 'rpmgate.conf'), `[main]\nenabled=1\ncommand=${process.execPath} ${path.join(host.root, 'usr/bin/rpmgate-agent')}\n`);
    const output = await host.dnf(['-v', 'install', 'rg-text'], {
      repoUrl: `${server.url}/repo/level/integ/`,
      setopts: [...gpgOptions, 'plugins=1', `pluginpath=${path.join(host.root, pluginDir)}`, `pluginconfpath=${confDir}`],
    });
    expect(output).toContain(`rpmgate: ${host.root} is not enrolled`);
    expect(await agentProcesses(host.root)).toEqual([]);
    expect(await hostReports(host.machineId)).toBeNull();
  });

  it('the dnf 5 action, run as libdnf5-actions(8) runs it, returns at once and the report reaches the server', async () => {
    const host = await hostWithAgent();
    await enroll(host);
    const actions = await readFile(path.join(host.root, 'etc/dnf/libdnf5-plugins/actions.d/rpmgate.actions'), 'utf8');
    const action = actionCommand(actions, { 'conf.installroot': host.root });
    expect(action.callback).toBe('post_transaction');
    // The agent is the root's, started by this machine's node: /usr/bin/rpmgate-agent is not installed here.
    const argv = action.argv.map((arg) => arg.replace('/usr/bin/rpmgate-agent', `${process.execPath} ${path.join(host.root, 'usr/bin/rpmgate-agent')}`));
    expect(argv.slice(0, 2)).toEqual(['/usr/bin/sh', '-c']);
    const started = await runTool(argv[0]!, argv.slice(1), { ...process.env, ...host.env });
    expect(started).toEqual({ code: 0, stdout: '', stderr: '' });
    await waitFor('the report', async () => ((await hostReports(host.machineId))?.reports ?? 0) >= 1);
    await waitFor('the agent to finish', async () => (await agentProcesses(host.root)).length === 0);
  });
});

