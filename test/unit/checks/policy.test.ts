// The policy file and the policies that need another configuration than the integration test's:
// release pattern, allowed architectures, setuid allowed by path, severities turned off or raised,
// each over a real RPM built from test/fixtures/policy-specs. And the file's validation messages.
import { beforeAll, describe, expect, it } from 'vitest';
import { readRpmFile, type ParsedRpm } from '../../../common/rpm/reader.ts';
import { runHousePolicies } from '../../../server/checks/house-policies.ts';
import { applyExceptions, type ExceptionRow } from '../../../server/checks/exceptions.ts';
import { defaultPolicy, parsePolicy } from '../../../server/checks/policy.ts';
import { buildPolicyRpms } from '../../support/policy-rpms.ts';

const parsed = new Map<string, ParsedRpm>();

beforeAll(async () => {
  const files = await buildPolicyRpms(['rg-clean', 'rg-setuid', 'rg-bare', 'rg-legacy'], { 'rg-legacy': ['2.0', '1.9.9'] });
  for (const [name, file] of files) parsed.set(name, await readRpmFile(file));
}, 300_000);

const checks = (name: string, policyText: string) => runHousePolicies(parsed.get(name)!, parsePolicy(policyText, 'policy.yaml')).map((f) => `${f.check}/${f.severity}`);

describe('house policies with other settings', () => {
  it('release-pattern: a release without the dist tag is refused', () => {
    expect(checks('rg-clean', 'releasePattern: "\\\\.el9$"')).toEqual(['release-pattern/error']);
    expect(checks('rg-clean', 'releasePattern: "^1$"')).toEqual([]);
  });

  it('arch-not-allowed: noarch outside the allowed list', () => {
    expect(checks('rg-clean', 'allowedArchitectures: [x86_64]')).toEqual(['arch-not-allowed/error']);
  });

  it('setuid-file: allowed by a path glob', () => {
    expect(checks('rg-setuid', '{}')).toEqual(['setuid-file/error']);
    expect(checks('rg-setuid', 'setuidAllowed: ["/usr/share/rg-setuid/*"]')).toEqual([]);
  });

  it('severities: a warning raised to an error, a check turned off', () => {
    expect(checks('rg-bare', 'severities: { required-url: error, required-packager: "off" }')).toEqual(['required-url/error']);
  });

  it('required-license is on by default; forbidden prefixes are configurable', () => {
    expect(defaultPolicy().severities['required-license']).toBe('error');
    expect(checks('rg-legacy', 'forbiddenPathPrefixes: [/opt]')).toEqual(['world-writable/error']);
  });
});

describe('exceptions by version', () => {
  const exception: ExceptionRow = {
    id: 7, check_id: 'forbidden-path', package_glob: 'rg-legacy', path_glob: null, reason: 'legacy', granted_by: 'ingrid',
    granted_at: new Date(), expires_at: null, until_version: '2.0', removed_at: null, removed_by: null,
  };
  it("apply while the version compares below untilVersion by rpm's rules", () => {
    for (const [name, waived] of [['rg-legacy', true], ['rg-legacy-1.9.9', true], ['rg-legacy-2.0', false]] as const) {
      const pkg = parsed.get(name)!;
      const findings = applyExceptions(runHousePolicies(pkg, defaultPolicy()), [exception], pkg.package).filter((f) => f.check === 'forbidden-path');
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((f) => (f.waivedBy !== undefined) === waived), name).toBe(true);
    }
  });
});

describe('the policy file', () => {
  it('names every wrong field', () => {
    expect(() => parsePolicy('severities: { setuid-file: fatal }\nforbiddenPathPrefixes: [usr/local]\nbogus: 1', 'p.yaml')).toThrow(
      /^RPMGATE_POLICY_FILE p\.yaml: .*severities\.setuid-file: .*; forbiddenPathPrefixes\.0: .*; .*bogus/,
    );
    expect(() => parsePolicy('releasePattern: "(("', 'p.yaml')).toThrow(/releasePattern: not a valid regular expression/);
    expect(() => parsePolicy('{"vendor": ', 'p.json')).toThrow(/is not valid JSON/);
    expect(() => parsePolicy('a: [', 'p.yaml')).toThrow(/is not valid YAML/);
  });

  it('the shipped default file parses to the defaults', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../../config/policy.default.yaml', import.meta.url), 'utf8');
    expect(parsePolicy(text, 'policy.default.yaml')).toEqual(defaultPolicy());
  });
});
