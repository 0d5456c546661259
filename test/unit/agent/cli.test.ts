// The agent's command line edge: usage errors and errors from the server are one stderr line and exit 2.
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';

describe('rpmgate-agent command line', () => {
  it('prints its version, the package version', async () => {
    const result = await runCli('rpmgate-agent', ['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${(JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
  });

  it('exits 2 with one line when no server is configured', async () => {
    const result = await runCli('rpmgate-agent', ['check', '--set', 'demo/1.0'], { RPMGATE_URL: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('rpmgate-agent: no server: pass --server URL or set RPMGATE_URL\n');
  });

  it('exits 2 with one line for a set that is not NAME/VERSION', async () => {
    const result = await runCli('rpmgate-agent', ['--server', 'http://127.0.0.1:9', 'check', '--set', 'demo']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('rpmgate-agent: a set is named NAME/VERSION, e.g. billing/4.2.0, not "demo"\n');
  });

  it('exits 2 when the server cannot be reached, without a stack trace', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const result = await runCli('rpmgate-agent', ['--server', `http://127.0.0.1:${port}`, 'configure', '--set', 'demo/1.0', '--repos-dir', '/nonexistent']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`rpmgate-agent: cannot reach http://127.0.0.1:${port}: connection refused (nothing listens on 127.0.0.1:${port}; is the server running?)\n`);
  });

  it('refuses a --dnf-option that is not KEY=VALUE', async () => {
    const result = await runCli('rpmgate-agent', ['--server', 'http://127.0.0.1:9', 'install', '--set', 'demo/1.0', '--dnf-option', 'noplugins']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('rpmgate-agent: --dnf-option takes KEY=VALUE, not "noplugins"\n');
  });

  it('exits 2 for a missing required option (commander prints the usage)', async () => {
    const result = await runCli('rpmgate-agent', ['download', '--dest', '/tmp']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--set <set>' not specified");
  });
});
