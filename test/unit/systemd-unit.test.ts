// The server's systemd unit: systemd's own verifier accepts it, and it keeps what the server needs
// (a non-root user for the embedded PostgreSQL, its data dir writable, the readiness probe).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolsRequired } from '../support/requirements.ts';
import { repositoryRoot } from '../support/serve-process.ts';

const unitFile = path.join(repositoryRoot, 'server/systemd/rpmgate.service');

describe('server/systemd/rpmgate.service', () => {
  it('runs serve as a non-root user with its data dir writable, and waits for /readyz', () => {
    const unit = readFileSync(unitFile, 'utf8');
    expect(unit).toMatch(/^User=rpmgate$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/rpmgate\/rpmgate.env$/m);
    expect(unit).toMatch(/^ExecStart=.* serve$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/rpmgate$/m);
    expect(unit).toMatch(/^Environment=RPMGATE_DATA_DIR=\/var\/lib\/rpmgate$/m);
    expect(unit).toMatch(/^ExecStartPost=.*\/readyz/m);
    expect(unit).not.toMatch(/^PrivateIPC=yes/m);
  });

  it('passes systemd-analyze verify', () => {
    const analyze = spawnSync('systemd-analyze', ['verify', '--man=no', '--recursive-errors=no', unitFile], { encoding: 'utf8' });
    if (analyze.error) {
      if (toolsRequired) throw analyze.error;
      console.warn('SKIPPED: systemd-analyze is missing');
      return;
    }
    // Only the unit's own problems: the user, the node binary and the checkout do not exist here.
    const problems = analyze.stderr
      .split('\n')
      .filter((line) => line.includes('rpmgate.service') && !/Command .* is not executable|No such file or directory|Failed to resolve user|getpwnam|Unknown user/i.test(line));
    expect(problems).toEqual([]);
  });
});
