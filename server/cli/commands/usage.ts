// `rpmgate usage PACKAGE_NAME`: which hosts run which versions of a package, and which sets hold it.
import { usageShape } from '../../../common/api-shapes.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface Usage {
  name: string;
  hostCount: number;
  versions: { nevra: string; evr: string; arch: string; hostCount: number; hosts: { machineId: string; hostname: string; set: string | null }[] }[];
  sets: { set: string; level: string; nevra: string; source: boolean; hostCount: number }[];
}

export async function usageCommand(io: CommandIo, name: string, options: { hosts?: string }): Promise<void> {
  const query = options.hosts ? `?limit=${encodeURIComponent(options.hosts)}` : '';
  const { body } = await io.client.get<Usage>(`/api/v1/components/${encodeURIComponent(name)}/usage${query}`, { expect: usageShape });
  io.out.result(body, () => {
    const lines: string[] = [];
    if (body.versions.length === 0) lines.push(`no host runs ${body.name}`);
    else {
      lines.push(`${body.name} runs on ${body.hostCount} host(s):`);
      const rows = [['VERSION', 'ARCH', 'HOSTS', 'EXAMPLES']];
      for (const version of body.versions) {
        const examples = version.hosts.slice(0, 3).map((host) => host.hostname);
        const more = version.hostCount > examples.length ? `, +${version.hostCount - examples.length}` : '';
        rows.push([version.evr, version.arch, String(version.hostCount), examples.join(', ') + more]);
      }
      lines.push(indent(table(rows)));
    }
    lines.push('');
    if (body.sets.length === 0) lines.push(`no package set holds ${body.name}`);
    else {
      lines.push(`package sets holding ${body.name}:`);
      const rows = [['SET', 'LEVEL', 'PACKAGE', 'ASSIGNED HOSTS']];
      for (const set of body.sets) rows.push([set.set, set.level, set.nevra, String(set.hostCount)]);
      lines.push(indent(table(rows)));
    }
    return lines.join('\n');
  });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
