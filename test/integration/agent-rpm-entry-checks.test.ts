// The agent RPM that `npm run build:agent-rpm` builds passes the entry checks a real installation runs:
// the shipped default policy with Debian's real rpmlint and config/rpmlint.toml. `rpmgate agent
// publish` uploads it like any package, so a finding that refuses it would leave every fleet without
// its agent (the 0600 token file and 0700 spool are the agent's design, filtered by name in the config).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentRpm, type AgentRpm } from '../../agent/packaging/build-rpm.ts';
import { rpmgate } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface FindingView {
  check: string;
  severity: 'error' | 'warning';
}

let server: TestServer;
let agentRpm: AgentRpm;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-rpm-checks-'));
  // No RPMGATE_POLICY_FILE: the shipped defaults; rpmlint on, as `rpmgate serve` runs by default.
  [server, agentRpm] = await Promise.all([startTestServer({ env: { RPMGATE_RPMLINT: 'on' } }), buildAgentRpm({ outDir: scratch })]);
}, 300_000);
afterAll(async () => {
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the agent RPM under the shipped entry checks', () => {
  it('is published by rpmgate agent publish with no error finding, rpmlint included', async () => {
    const published = await rpmgate(server, server.adminToken, ['--json', 'agent', 'publish', agentRpm.file]);
    expect(published.code, published.stderr).toBe(0);
    const nevra = `rpmgate-agent-${agentRpm.version}-1.noarch`;
    const { body } = await server.admin.get<{ findings: FindingView[] }>(`/api/v1/packages/${nevra}`);
    expect(body.findings.filter((finding) => finding.severity === 'error')).toEqual([]);
    // rpmlint did run on it: its verdict is not a skip.
    expect(body.findings.map((finding) => finding.check)).not.toContain('rpmlint-skipped');
  });
});
