// The agent configures itself (issue 15, item 6), end to end with the shipped agent bundle, real rpm and
// dnf in throwaway --installroots and a real server: after enroll, commands read the server and token
// from agent.env; install into a new root initialises its rpm database and says so; install reports
// when done, so the server sees the host conform at once; a dnf failure shows dnf's own error lines;
// configure warns about (or with --replace-duplicates removes) another .repo file defining its repo id.
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures } from '../fixtures/build-fixtures.ts';
import { buildIsolatedBundle, type IsolatedBundle } from '../support/agent-bundle.ts';
import type { CliResult } from '../support/cli.ts';
import { createDnfRoot, dnfAvailable, type DnfRoot } from '../support/dnf-root.ts';
import { toolsRequired } from '../support/requirements.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms } from '../support/small-rpms.ts';

const availability = await dnfAvailable();
if (!availability.ok && toolsRequired) throw new Error(`the agent end-to-end tests cannot run in CI: ${availability.reason}`);

const setMembers = ['rg-hello-2.0-1.noarch', 'rg-lib-2.1-1.x86_64', 'rg-epoch-3:1.5-2.noarch'];

let server: TestServer;
let bundle: IsolatedBundle;
let gpgOptions: string[];
const roots: DnfRoot[] = [];

async function newHost(): Promise<DnfRoot> {
  const root = await createDnfRoot();
  roots.push(root);
  return root;
}

/** The agent on a host root; the server and token only when given (else agent.env, or nothing). */
function agent(host: DnfRoot, args: string[], options: { token?: string; server?: string } = {}): Promise<CliResult> {
  const serverArgs = options.server ? ['--server', options.server] : [];
  return bundle.run([...serverArgs, '--rpm-root', host.root, '--repos-dir', host.reposDir, '--spool-dir', host.spoolDir, ...args], {
    ...host.env,
    RPMGATE_URL: '',
    RPMGATE_TOKEN: options.token ?? '',
  });
}

function dnfPassThrough(host: DnfRoot): string[] {
  return ['--dnf-config', host.dnfConf, ...gpgOptions.flatMap((option) => ['--dnf-option', option])];
}

describe.skipIf(!availability.ok)(`the agent configures itself${availability.ok ? '' : ` (SKIPPED: ${availability.reason})`}`, () => {
  beforeAll(async () => {
    let fixtures: Awaited<ReturnType<typeof buildFixtures>>;
    let extra: string[];
    [server, fixtures, bundle, extra] = await Promise.all([
      startTestServer(),
      buildFixtures(),
      buildIsolatedBundle(),
      buildSmallRpms([{ name: 'rg-needs-os', requires: ['rg-not-anywhere'] }]),
    ]);
    const files = [...fixtures.packages.filter((p) => ['rg-hello', 'rg-lib', 'rg-epoch'].includes(p.name)).map((p) => p.path), ...extra];
    for (const file of files) {
      await server.admin.request('POST', '/api/v1/packages', { body: new Uint8Array(await readFile(file)), headers: { 'content-type': 'application/x-rpm' } });
    }
    await server.admin.post('/api/v1/sets', { name: 'demo', version: '1.0', packages: setMembers, allowUnresolved: true });
    await server.admin.post('/api/v1/sets', { name: 'layered', version: '1.0', packages: ['rg-needs-os-1.0-1.noarch'], allowUnresolved: true });
    gpgOptions = ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=${server.url}/keys/rpmgate.asc`];
  });

  afterAll(async () => {
    for (const root of roots) await root.cleanup();
    await bundle?.cleanup();
    await server?.close();
  });

  it('install into a new --rpm-root initialises its rpm database, says so, and reports when done: the server sees the host conform at once', async () => {
    const host = await newHost();
    expect(existsSync(path.join(host.root, 'var/lib/rpm'))).toBe(false);
    const token = await server.tokenFor('agent');
    const result = await agent(host, ['install', '--set', 'demo/1.0', ...dnfPassThrough(host)], { token, server: server.url });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`rpmgate-agent: ${host.root} had no rpm database: initialised an empty one in ${path.join(host.root, 'var/lib/rpm')} (rpm --initdb)\n`);
    expect(await host.installed()).toEqual(['rg-epoch-3:1.5-2.noarch', 'rg-hello-2.0-1.noarch', 'rg-lib-2.1-1.x86_64']);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('reported to the server: conforming');
    // No `report` ran: install's own report is what the server knows.
    const { body } = await server.admin.get<Record<string, unknown>>(`/api/v1/hosts/${host.machineId}`);
    expect(body).toMatchObject({ set: 'demo/1.0', status: 'conforming', packageCount: 3, reports: 1 });
  });

  it('after enroll, check and configure take the server and token from agent.env: no option, no variable', async () => {
    const host = await newHost();
    const enrollment = await server.tokenFor('enrollment');
    const enrolled = await agent(host, ['enroll', '--enrollment-token', enrollment], { server: server.url });
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const configured = await agent(host, ['configure', '--set', 'demo/1.0']);
    expect(configured.code, configured.stderr).toBe(0);
    expect(configured.stdout).toBe(`configured demo/1.0: ${path.join(host.reposDir, 'rpmgate-demo.repo')}\n`);
    const install = await agent(host, ['install', '--set', 'demo/1.0', ...dnfPassThrough(host)]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout.trimEnd().split('\n').at(-1)).toBe('reported to the server: conforming');
    const check = await agent(host, ['check']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^conforms to demo\/1\.0/);
  });

  it("a dnf failure shows dnf's own error lines, not its configuration, and the host is left drifting (exit 1)", async () => {
    const host = await newHost();
    const token = await server.tokenFor('agent');
    const result = await agent(host, ['install', '--set', 'layered/1.0', ...dnfPassThrough(host)], { token, server: server.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing provides rg-not-anywhere needed by rg-needs-os-1.0-1.noarch');
    expect(result.stderr).not.toContain('--setopt');
    expect(result.stderr).not.toMatch(/^\[main\]/m);
    expect(result.stdout).toContain('dnf failed (status 1); nothing or not all of the 1 planned change(s) happened');
    expect(result.stdout).toContain('reported to the server: drifting');
  });

  it('configure warns about another .repo file defining the same repo id; --replace-duplicates removes it', async () => {
    const host = await newHost();
    const token = await server.tokenFor('agent');
    // What the README's host block does by hand: the server's .repo file, fetched with curl.
    const byHand = path.join(host.reposDir, 'demo.repo');
    await writeFile(byHand, await (await fetch(`${server.url}/repo/set/demo/1.0.repo`)).text());
    const warned = await agent(host, ['configure', '--set', 'demo/1.0'], { token, server: server.url });
    expect(warned.code, warned.stderr).toBe(0);
    const ours = path.join(host.reposDir, 'rpmgate-demo.repo');
    const ids = 'rpmgate-set-demo-1.0, rpmgate-set-demo-1.0-source';
    expect(warned.stderr).toBe(`rpmgate-agent: warning: ${byHand} also defines ${ids}: dnf may use that copy instead of ${ours}; remove it, or pass --replace-duplicates\n`);
    expect(existsSync(byHand)).toBe(true);

    const replaced = await agent(host, ['configure', '--set', 'demo/1.0', '--replace-duplicates'], { token, server: server.url });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stderr).toBe('');
    expect(replaced.stdout).toBe(`configured demo/1.0: ${ours}\n  removed ${byHand} (it defined ${ids} too)\n`);
    expect(existsSync(byHand)).toBe(false);
    expect(existsSync(ours)).toBe(true);
  });
});
