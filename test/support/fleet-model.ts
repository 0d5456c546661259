// A synthetic but realistic fleet with known truth, for the fleet scale test and bench/fleet.ts: two
// versions of a ~300-package product set over ~1,200 OS packages, hosts drifted in known ways (missing,
// older, newer, a second version beside the right one, wrong multilib), hosts on no set or an unknown one.
// Each host's report is generated on demand (a 10,000-host fleet never sits in memory at once), along
// with what the conformance rules must say about it, derived from the drift applied, not from the rules.
import { createHash } from 'node:crypto';
import type { PackageTuple } from '../../common/conformance.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';

export interface FleetModelOptions {
  /** Binary packages of the product set (default 300). */
  setPackages?: number;
  /** OS packages on every host (default 1,200). */
  osPackages?: number;
}

export interface FleetSet {
  name: string;
  version: string;
  ref: string;
  members: PackageTuple[];
}

export interface HostTruth {
  set: string | null;
  status: 'conforming' | 'drifting' | 'no_set' | 'unknown_set';
  /** NEVRAs of the set members the host lacks. */
  missing: string[];
  /** name.arch of members installed at a lower / higher EVR. */
  older: string[];
  newer: string[];
  /** NEVRAs of set components installed beside or instead of what the set holds. */
  different: string[];
  foreign: number;
}

export interface FleetHost {
  index: number;
  report: { hostname: string; machineId: string; os: string; arch: string; set?: string; packages: PackageTuple[] };
  truth: HostTruth;
}

export interface FleetModel {
  sets: FleetSet[];
  host(index: number): FleetHost;
  /** The same host after a routine OS update: one OS package one release newer. */
  updatedHost(index: number): FleetHost;
}

export function fleetMachineId(index: number): string {
  return createHash('md5').update(`fleet-host-${index}`).digest('hex');
}

export function createFleetModel(options: FleetModelOptions = {}): FleetModel {
  const setSize = options.setPackages ?? 300;
  const osSize = options.osPackages ?? 1200;

  const v1: PackageTuple[] = [];
  for (let k = 0; k < setSize; k++) {
    const member: PackageTuple = {
      name: `rg-comp-${k}`,
      epoch: k % 23 === 0 ? 2 : null,
      version: `${1 + (k % 7)}.${k % 11}.0`,
      release: `${1 + (k % 4)}.el9`,
      arch: k % 5 === 0 ? 'noarch' : 'x86_64',
    };
    v1.push(member);
    // A few libraries also ship a 32-bit build (multilib).
    if (k % 60 === 1 && member.arch === 'x86_64') v1.push({ ...member, arch: 'i686' });
  }
  // Version 2.0: twenty components rebuilt, the last one dropped, one new one.
  const v2: PackageTuple[] = v1
    .filter((m) => m.name !== `rg-comp-${setSize - 1}`)
    .map((m) => (Number(m.name.slice('rg-comp-'.length)) % 15 === 0 ? { ...m, release: `${m.release.split('.')[0]}1.el9` } : m));
  v2.push({ name: 'rg-comp-new', epoch: null, version: '1.0', release: '1.el9', arch: 'x86_64' });
  const sets: FleetSet[] = [
    { name: 'billing', version: '1.0', ref: 'billing/1.0', members: v1 },
    { name: 'billing', version: '2.0', ref: 'billing/2.0', members: v2 },
  ];

  const osPackage = (j: number, patchLevel: number): PackageTuple => ({
    name: `os-pkg-${j}`,
    epoch: j % 31 === 0 ? 1 : null,
    version: `${j % 9}.${j % 17}`,
    // Every tenth OS package differs with the host's patch level: OS drift is not set drift.
    release: `${1 + (j % 3) + (j % 10 === 0 ? patchLevel : 0)}.el9`,
    arch: j % 4 === 0 ? 'noarch' : 'x86_64',
  });

  function host(index: number, osUpdate = false): FleetHost {
    const setRef = index % 100 === 99 ? null : index % 100 === 98 ? 'billing/0.9' : index % 4 === 3 ? 'billing/2.0' : 'billing/1.0';
    const members = setRef === 'billing/2.0' ? v2 : v1;
    const primary = members.filter((m) => m.arch !== 'i686');
    const multilib = members.filter((m) => m.arch === 'i686');
    const installed = new Map<string, PackageTuple>();
    const put = (t: PackageTuple) => installed.set(formatNevra(t), t);
    const drop = (t: PackageTuple) => installed.delete(formatNevra(t));
    for (const m of primary) put(m);
    if (index % 7 === 0) for (const m of multilib) put(m);
    const patchLevel = index % 3;
    for (let j = 0; j < osSize; j++) put(osPackage(j, patchLevel));
    if (osUpdate) {
      const j = (index * 13) % osSize;
      drop(osPackage(j, patchLevel));
      put({ ...osPackage(j, patchLevel), release: `${osPackage(j, patchLevel).release}.1` });
    }

    const truth: HostTruth = { set: setRef, status: 'conforming', missing: [], older: [], newer: [], different: [], foreign: 0 };
    const pick = (offset: number) => primary[(index * 7 + offset) % primary.length]!;
    const r = index % 20;
    if (r === 1 || r === 9) {
      const m = pick(0);
      drop(m);
      truth.missing.push(formatNevra(m));
    }
    if (r === 3 || r === 9) {
      const m = pick(1);
      drop(m);
      put({ ...m, release: '0.el9' });
      truth.older.push(`${m.name}.${m.arch}`);
    }
    if (r === 5 || r === 9) {
      const m = pick(2);
      drop(m);
      put({ ...m, release: '99.el9' });
      truth.newer.push(`${m.name}.${m.arch}`);
    }
    if (r === 7) {
      const m = pick(3);
      const beside = { ...m, release: '0.1.el9' };
      put(beside);
      truth.different.push(formatNevra(beside));
    }
    if (r === 11) {
      const m = multilib[index % multilib.length]!;
      drop(m);
      put({ ...m, release: '0.el9' });
      truth.older.push(`${m.name}.${m.arch}`);
    }
    if (r === 13) {
      // OS churn only: a package removed and an unrelated one added; foreign, never drift.
      drop(osPackage(5, patchLevel));
      put({ name: 'local-tool', epoch: null, version: '0.1', release: '1', arch: 'x86_64' });
    }

    const packages = [...installed.values()];
    truth.foreign = packages.filter((p) => !p.name.startsWith('rg-comp-')).length;
    if (setRef === null) truth.status = 'no_set';
    else if (setRef === 'billing/0.9') truth.status = 'unknown_set';
    else if (truth.missing.length + truth.older.length + truth.newer.length + truth.different.length > 0) truth.status = 'drifting';
    if (truth.status === 'no_set' || truth.status === 'unknown_set') {
      truth.missing = [];
      truth.older = [];
      truth.newer = [];
      truth.different = [];
      truth.foreign = setRef === null || setRef === 'billing/0.9' ? 0 : truth.foreign;
    }
    // Reports list packages in rpm -qa order, not sorted: shuffle deterministically.
    packages.sort((a, b) => hashOrder(a, index) - hashOrder(b, index));
    return {
      index,
      report: {
        hostname: `node${String(index).padStart(5, '0')}.fleet.example.com`,
        machineId: fleetMachineId(index),
        os: 'Rocky Linux 9.4 (Blue Onyx)',
        arch: 'x86_64',
        ...(setRef ? { set: setRef } : {}),
        packages,
      },
      truth,
    };
  }

  return { sets, host: (index) => host(index), updatedHost: (index) => host(index, true) };
}

function hashOrder(t: PackageTuple, salt: number): number {
  let h = salt | 0;
  for (let i = 0; i < t.name.length; i++) h = (Math.imul(h, 31) + t.name.charCodeAt(i)) | 0;
  return h;
}
