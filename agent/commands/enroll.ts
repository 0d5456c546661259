// `rpmgate-agent enroll --enrollment-token TOKEN [--env-file FILE]`: mints this host's own agent token
// with a fleet's enrollment token (POST /api/v1/hosts/enroll, bound to /etc/machine-id at once) and
// keeps it, with the server URL, in the environment file rpmgate-agent.service reads (mode 0600).
// The enrollment token itself is never stored. A host that holds a live token already is refused by
// the server (409): replacing a host's token is an admin's act.
import { enrollmentShape } from '../../common/api-shapes.ts';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RpmgateError } from '../../common/errors.ts';
import { ApiClient } from '../../common/http-client.ts';
import { readHostFacts } from '../collect.ts';
import type { AgentContext } from '../context.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export interface EnrollOptions {
  enrollmentToken?: string;
  envFile?: string;
  /** An admin token may replace the host's live agent token. */
  replace?: boolean;
}

export async function enrollCommand(ctx: AgentContext, options: EnrollOptions): Promise<number> {
  const enrollmentToken = options.enrollmentToken ?? process.env.RPMGATE_ENROLLMENT_TOKEN;
  if (!enrollmentToken) throw new RpmgateError('usage', 'enroll needs --enrollment-token TOKEN (or RPMGATE_ENROLLMENT_TOKEN)');
  if (!ctx.server) throw new RpmgateError('usage', 'no server: pass --server URL or set RPMGATE_URL');
  const facts = await readHostFacts(ctx.rpmRoot);
  const client = new ApiClient({ server: ctx.server, token: enrollmentToken });
  const { body } = await client.post<{ token: string; machineId: string; replaced: boolean }>('/api/v1/hosts/enroll', {
    machineId: facts.machineId,
    hostname: facts.hostname,
    ...(options.replace ? { replace: true } : {}),
  }, { expect: enrollmentShape });
  const envFile = options.envFile ? path.resolve(options.envFile) : ctx.envFile;
  await mkdir(path.dirname(envFile), { recursive: true, mode: 0o755 });
  await writeFileAtomic(envFile, renderEnvFile(ctx.server, body.token), { mode: 0o600 });
  ctx.out.result({ machineId: body.machineId, hostname: facts.hostname, envFile, replaced: body.replaced }, () =>
    `enrolled ${facts.hostname} (${body.machineId}): agent token in ${envFile}${body.replaced ? ' (the earlier token is revoked)' : ''}`,
  );
  return 0;
}

/** systemd EnvironmentFile syntax: one KEY=value a line (the values hold no quotes or spaces). */
export function renderEnvFile(server: string, token: string): string {
  if (/[\s"'\\]/.test(server + token)) throw new RpmgateError('internal', 'the server URL or token holds a character an environment file cannot');
  return `# Written by rpmgate-agent enroll: this host's agent token (keep it secret).\nRPMGATE_URL=${server}\nRPMGATE_TOKEN=${token}\n`;
}
