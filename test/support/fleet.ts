// Fleet test helpers: machine ids, package tuples, reports, agent clients, and package sets made from
// synthetic packages inserted straight into the database (sets are then created through the API).
import { createHash } from 'node:crypto';
import { ApiClient } from '../../common/http-client.ts';
import type { PackageTuple } from '../../common/conformance.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import { insertSyntheticPackage } from './synthetic-package.ts';
import type { TestServer } from './server.ts';

/** A deterministic /etc/machine-id for a label. */
export function machineId(label: string): string {
  return createHash('md5').update(label).digest('hex');
}

/** "name-[epoch:]version-release.arch" → tuple. */
export function tuple(nevra: string): PackageTuple {
  const match = /^(.+)-(?:(\d+):)?([^-]+)-([^-]+)\.([^.]+)$/.exec(nevra);
  if (!match) throw new Error(`not a NEVRA: ${nevra}`);
  return { name: match[1]!, epoch: match[2] === undefined ? null : Number(match[2]), version: match[3]!, release: match[4]!, arch: match[5]! };
}

export interface ReportBody {
  hostname: string;
  machineId: string;
  os: string;
  arch: string;
  set?: string | null;
  packages: PackageTuple[];
}

export function report(label: string, packages: (string | PackageTuple)[], extra: Partial<ReportBody> = {}): ReportBody {
  return {
    hostname: `${label}.example.com`,
    machineId: machineId(label),
    os: 'Rocky Linux 9.4 (Blue Onyx)',
    arch: 'x86_64',
    packages: packages.map((p) => (typeof p === 'string' ? tuple(p) : p)),
    ...extra,
  };
}

/** A client holding a fresh agent token. */
export async function agentClient(server: TestServer): Promise<ApiClient> {
  return server.clientFor('agent');
}

/** Inserts the packages (binary NEVRAs) and creates the set through the API. */
export async function createSetOf(server: TestServer, name: string, version: string, nevras: string[]): Promise<void> {
  await insertPackages(server, nevras);
  await server.admin.post('/api/v1/sets', { name, version, packages: nevras, allowUnresolved: true });
}

/** Inserts each NEVRA once (already stored ones are skipped). */
export async function insertPackages(server: TestServer, nevras: string[]): Promise<void> {
  const sql = server.database.sql;
  const existing = new Set((await sql<{ nevra: string }[]>`select nevra from packages where nevra = any(${nevras})`).map((r) => r.nevra));
  for (const nevra of nevras) {
    if (existing.has(nevra)) continue;
    const t = tuple(nevra);
    await insertSyntheticPackage(sql, { name: t.name, epoch: t.epoch, version: t.version, release: t.release, arch: t.arch, isSource: t.arch === 'src' });
    existing.add(formatNevra(t));
  }
}
