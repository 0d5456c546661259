// `rpmgate check --all [--dry-run]`: the entry checks again over every stored package (admin). Lists
// the packages an upload would see refused today; deletes nothing. Exit 1 when there are some.
import { recheckShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';

interface RecheckReport {
  dryRun: boolean;
  checked: number;
  changed: number;
  refused: { nevra: string; findings: { check: string; severity: string; message: string; path?: string; waivedBy?: string }[] }[];
  unreadable: { nevra: string; error: string }[];
}

export async function checkCommand(io: CommandIo, options: { all?: boolean; dryRun?: boolean }): Promise<void> {
  if (!options.all) throw new RpmgateError('usage', 'check needs --all (every stored package is checked again)');
  const { body } = await io.client.post<RecheckReport>('/api/v1/checks', { dryRun: Boolean(options.dryRun) }, { expect: recheckShape, timeoutMs: null });
  io.out.result(body, () => {
    const lines = [`checked ${body.checked} package(s): ${body.refused.length} would be refused today; ${body.changed} with other findings than recorded${body.dryRun ? ' (dry run: nothing recorded)' : ' (recorded)'}`];
    for (const pkg of body.refused) {
      const errors = pkg.findings.filter((f) => f.severity === 'error' && !f.waivedBy);
      lines.push(`  ${pkg.nevra}: ${errors.map((f) => `${f.check}${f.path ? ` (${f.path})` : ''}`).join(', ')}`);
    }
    for (const pkg of body.unreadable) lines.push(`  ${pkg.nevra}: unreadable: ${pkg.error}`);
    return lines.join('\n');
  });
  if (body.refused.length > 0) throw new RpmgateError('unprocessable', `${body.refused.length} stored package(s) would be refused by today's checks`);
}
