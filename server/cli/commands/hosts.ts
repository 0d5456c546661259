// `rpmgate hosts [--set NAME/VERSION] [--drifting] [--strict]`: the fleet with each host's conformance.
// With --drifting the exit status is the verdict, as for rpmgate-agent check: 0 none drift, 1 some do.
import { hostListShape, setDocumentShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';
import { splitReference, table } from './set.ts';

interface HostSummary {
  machineId: string;
  hostname: string;
  set: string | null;
  setKnown: boolean;
  status: string;
  counts: { expected: number; matched: number; missing: number; older: number; newer: number; different: number; foreign: number };
  packageCount: number;
  lastReportAt: string;
}

export interface HostsOptions {
  set?: string;
  drifting?: boolean;
  strict?: boolean;
}

export async function hostsCommand(io: CommandIo, options: HostsOptions): Promise<void> {
  const query = new URLSearchParams();
  if (options.set) {
    splitReference(options.set);
    query.set('set', options.set);
  }
  if (options.drifting) query.set('drifting', 'true');
  if (options.strict) query.set('strict', 'true');
  const { body } = await io.client.get<{ total: number; hosts: HostSummary[] }>(`/api/v1/hosts${query.size ? `?${query}` : ''}`, { expect: hostListShape });
  if (options.set && body.total === 0) {
    // No host reports it: is there such a set at all? (A 404 here is the answer: an error, exit 1.)
    const { name, version } = splitReference(options.set);
    await io.client.get(`/api/v1/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}`, { expect: setDocumentShape });
  }
  io.out.result(body, () => {
    if (body.hosts.length === 0) return options.drifting ? 'no drifting hosts' : 'no hosts';
    const rows = [['HOSTNAME', 'MACHINE-ID', 'SET', 'STATUS', 'MISSING', 'OLDER', 'NEWER', 'DIFFERENT', 'FOREIGN', 'PACKAGES', 'LAST REPORT']];
    for (const host of body.hosts) {
      rows.push([
        host.hostname,
        host.machineId,
        host.set === null ? '-' : host.setKnown ? host.set : `${host.set} (unknown)`,
        host.status,
        String(host.counts.missing),
        String(host.counts.older),
        String(host.counts.newer),
        String(host.counts.different),
        String(host.counts.foreign),
        String(host.packageCount),
        host.lastReportAt.slice(0, 19).replace('T', ' '),
      ]);
    }
    const shown = body.total > body.hosts.length ? `\n(${body.hosts.length} of ${body.total} hosts shown)` : '';
    return table(rows) + shown;
  });
  if (options.drifting && body.total > 0) throw new RpmgateError('drift', `${body.total} host(s) drift from their set`);
}
