// Where the agent finds its server and token: options, then the environment, then the env file
// enroll wrote (under --rpm-root when given), which the dnf hooks and a root shell rely on.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../../agent/context.ts';
import { readEnvFile } from '../../../agent/env-file.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-context-'));
  await mkdir(path.join(root, 'etc/rpmgate'), { recursive: true });
  await writeFile(path.join(root, 'etc/rpmgate/agent.env'), '# Written by rpmgate-agent enroll\nRPMGATE_URL=http://gate.example:8080\nRPMGATE_TOKEN=rg_fromfile\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('agent context', () => {
  it('reads the server and token from the root\'s agent.env when neither options nor environment name them', () => {
    const ctx = createContext({ rpmRoot: root }, {});
    expect(ctx.server).toBe('http://gate.example:8080');
    expect(ctx.token).toBe('rg_fromfile');
    expect(ctx.envFile).toBe(path.join(root, 'etc/rpmgate/agent.env'));
  });

  it('prefers options, then the environment, to the file', () => {
    expect(createContext({ rpmRoot: root, server: 'http://option', token: 'rg_option' }, {})).toMatchObject({ server: 'http://option', token: 'rg_option' });
    expect(createContext({ rpmRoot: root }, { RPMGATE_URL: 'http://env', RPMGATE_TOKEN: 'rg_env' })).toMatchObject({ server: 'http://env', token: 'rg_env' });
  });

  it('treats --rpm-root / as the running system', () => {
    const ctx = createContext({ rpmRoot: '/' }, {});
    expect(ctx.rpmRoot).toBeNull();
    expect(ctx.spoolDir).toBe('/var/spool/rpmgate-agent');
    expect(ctx.envFile).toBe('/etc/rpmgate/agent.env');
  });

  it('reads systemd EnvironmentFile lines: comments skipped, quotes removed; a missing file is empty', async () => {
    const file = path.join(root, 'quoted.env');
    await writeFile(file, '#RPMGATE_TOKEN=commented\n RPMGATE_URL = "http://quoted"\nRPMGATE_TOKEN=\'rg_single\'\nnot a line\n');
    expect(readEnvFile(file)).toEqual({ RPMGATE_URL: 'http://quoted', RPMGATE_TOKEN: 'rg_single' });
    expect(readEnvFile(path.join(root, 'missing.env'))).toEqual({});
  });
});
