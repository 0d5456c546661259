// The house policies that entry-checks.test.ts does not refuse through a real upload: an architecture
// outside the allowed list and a release without the dist tag (a policy file that asks for them), and
// the source package's grace period, judged by `check --all` with its clock moved. Real rpmbuild, real
// server and database, Debian's real rpmlint.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recheckStore } from '../../server/checks/recheck.ts';
import { buildPolicyRpms } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface FindingView {
  check: string;
  severity: 'error' | 'warning';
  message: string;
  path?: string;
  waivedBy?: string;
}

let rpms: Map<string, string>;
beforeAll(async () => {
  rpms = await buildPolicyRpms(['rg-clean']);
}, 300_000);

async function upload(server: TestServer, file: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${server.url}/api/v1/packages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' },
    body: await readFile(file),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

describe('a policy file with an architecture list and a release pattern', () => {
  let server: TestServer;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-policy-'));
    const file = path.join(dir, 'policy.yaml');
    await writeFile(file, "# x86_64 only, EL 9 builds only\nallowedArchitectures: [x86_64, src]\nreleasePattern: '\\.el9$'\n");
    server = await startTestServer({ env: { RPMGATE_POLICY_FILE: file, RPMGATE_RPMLINT: 'on' } });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a noarch package without the dist tag: arch-not-allowed and release-pattern, nothing else', async () => {
    const { status, body } = await upload(server, rpms.get('rg-clean')!, await server.tokenFor('developer'));
    expect(status).toBe(422);
    const errors = (body.findings as FindingView[]).filter((finding) => finding.severity === 'error');
    expect(errors).toEqual([
      { check: 'arch-not-allowed', severity: 'error', message: 'architecture noarch is not one of x86_64, src' },
      { check: 'release-pattern', severity: 'error', message: 'release "1" does not match \\.el9$' },
    ]);
    expect((await server.admin.get('/api/v1/packages?name=rg-clean')).body).toEqual([]);
  });
});

describe('the source package of a binary, within the policy’s days', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The shipped default policy (sourceWithinDays 30); rpmlint off: this is about the grace period.
    server = await startTestServer({ env: { RPMGATE_RPMLINT: 'off' } });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('check --all warns source-missing only once the days have passed without the source package', async () => {
    const { status, body } = await upload(server, rpms.get('rg-clean')!, await server.tokenFor('developer'));
    expect(status, JSON.stringify(body)).toBe(201);
    const nevra = String(body.nevra);
    const ctx = server.server.context;
    const uploaded = new Date(String(body.uploadedAt));
    const sourceMissing = async () => (await server.admin.get<{ findings: FindingView[] }>(`/api/v1/packages/${nevra}`)).body.findings.filter((f) => f.check === 'source-missing');

    await recheckStore(ctx, { dryRun: false, now: new Date(uploaded.getTime() + 29 * 86_400_000) });
    expect(await sourceMissing()).toEqual([]);

    const report = await recheckStore(ctx, { dryRun: false, now: new Date(uploaded.getTime() + 31 * 86_400_000) });
    expect(report.refused).toEqual([]);
    expect(await sourceMissing()).toEqual([
      { check: 'source-missing', severity: 'warning', message: 'its source package rg-clean-1.0-1.src.rpm is not stored, 30 days after the upload' },
    ]);
  });
});
