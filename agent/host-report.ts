// The inventory report a host sends to POST /api/v1/hosts/report: common/host-report.ts's document,
// checked with the server's own parser before it is spooled (a report the server would refuse is an
// error now, not a poison file later), plus two members the contract does not name yet: `collectedAt`,
// so that a report delivered late from the spool still says when it was true, and `reportId`, so that
// a report sent twice (the answer lost on the way back) can be recognised. Both are kept in the spool
// and sent as headers (X-Rpmgate-Collected-At, X-Rpmgate-Report-Id), not in the body, so that a report
// sent again keeps its bytes; the server dates the report's changes by the first.
import { randomUUID } from 'node:crypto';
import { parseHostReport, type HostReport as ServerHostReport } from '../common/host-report.ts';
import type { HostFacts, InstalledPackage } from './collect.ts';

export interface HostReport extends Omit<ServerHostReport, 'set'> {
  /** "NAME/VERSION" of the set the host follows; absent when it follows none. */
  set?: string;
  collectedAt: string;
  reportId: string;
}

export function buildReport(facts: HostFacts, packages: InstalledPackage[], set: string | null, now = new Date()): HostReport {
  const report: HostReport = {
    hostname: facts.hostname,
    machineId: facts.machineId,
    os: facts.os,
    arch: facts.arch,
    ...(set ? { set } : {}),
    packages: packages.map(({ name, epoch, version, release, arch }) => ({ name, epoch, version, release, arch })),
    collectedAt: now.toISOString(),
    reportId: randomUUID(),
  };
  parseHostReport(report as unknown as Record<string, unknown>);
  return report;
}

/** Same host state: everything but when it was collected and the report's id. */
export function sameInventory(a: HostReport, b: HostReport): boolean {
  const state = ({ collectedAt: _at, reportId: _id, ...rest }: HostReport) => JSON.stringify(rest);
  return state(a) === state(b);
}
