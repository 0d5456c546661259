// The real rpmlint in its bounds: a run over its time limit or its memory bound is a finding of its
// own (rpmlint-failed), not an error of the caller; files checked together each get their own findings.
import { beforeAll, describe, expect, it } from 'vitest';
import { readRpmFile } from '../../../common/rpm/reader.ts';
import { parsePolicy } from '../../../server/checks/policy.ts';
import { RpmlintRunner } from '../../../server/checks/rpmlint.ts';
import { createLogger } from '../../../server/log.ts';
import { buildPolicyRpms } from '../../support/policy-rpms.ts';

let files: Map<string, string>;
beforeAll(async () => {
  files = await buildPolicyRpms(['rg-clean', 'rg-liblint', 'rg-writable']);
}, 300_000);

async function runner(policyText: string): Promise<RpmlintRunner> {
  const lint = new RpmlintRunner({ enabled: true, policy: parsePolicy(policyText, 'p.yaml'), log: createLogger(false) });
  await lint.open();
  return lint;
}

describe('RpmlintRunner', () => {
  it('checks files queued together in one run, each with its own findings', async () => {
    const lint = await runner('{}');
    const [clean, liblint, writable] = await Promise.all(
      ['rg-clean', 'rg-liblint', 'rg-writable'].map(async (name) => lint.check(files.get(name)!, (await readRpmFile(files.get(name)!)).package)),
    );
    expect(clean).toEqual([]);
    expect(liblint!.map((f) => f.check)).toContain('rpmlint:script-without-shebang');
    expect(liblint!.map((f) => f.check)).not.toContain('rpmlint:world-writable');
    expect(writable).toContainEqual(expect.objectContaining({ check: 'rpmlint:world-writable', severity: 'error', path: '/usr/share/rg-writable/state' }));
  }, 60_000);

  it('a run over its time limit is stopped and becomes the finding rpmlint-failed', async () => {
    const lint = await runner('rpmlint: { timeoutSeconds: 0.05 }');
    const findings = await lint.check(files.get('rg-clean')!, (await readRpmFile(files.get('rg-clean')!)).package);
    expect(findings).toEqual([{ check: 'rpmlint-failed', severity: 'error', message: 'rpmlint did not complete: it was stopped after 0.05 s or ran out of memory' }]);
  }, 60_000);

  it('a run over its memory bound becomes the finding rpmlint-failed', async () => {
    const lint = await runner('rpmlint: { memoryMegabytes: 64 }');
    const findings = await lint.check(files.get('rg-clean')!, (await readRpmFile(files.get('rg-clean')!)).package);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ check: 'rpmlint-failed', severity: 'error' });
  }, 60_000);
});
