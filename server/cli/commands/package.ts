// `rpmgate package show NEVRA|NAME`: a stored package with its level, sets and entry-check findings;
// or, given a name, every stored version, newest first, with the highest level it reached and the sets
// holding it ("which builds of libfoo are proven?"). `rpmgate package delete NEVRA`: a package no set holds.
import { deletedPackageShape, listShape, objectShape, packageDetailShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { compareEvr } from '../../../common/rpm/vercmp.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface StoredPackage {
  nevra: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  level: string;
  sets: string[];
}

const packageListShape = listShape(
  'a list of packages',
  objectShape<StoredPackage>('a package', { nevra: 'string', version: 'string', release: 'string', arch: 'string', level: 'string', sets: 'array' }),
);

export async function packageShowCommand(io: CommandIo, reference: string): Promise<void> {
  const detail = await io.client.get<PackageDetail>(`/api/v1/packages/${encodeURIComponent(reference)}`, { accept: [404] });
  if (detail.status === 200) {
    if (!packageDetailShape.test(detail.body)) throw new RpmgateError('not_rpmgate', `${io.client.server}: not an rpmgate server (its answer to GET /api/v1/packages/${reference} is not a package)`);
    return showOnePackage(io, detail.body);
  }
  return showVersions(io, reference);
}

async function showVersions(io: CommandIo, name: string): Promise<void> {
  const { body } = await io.client.get<StoredPackage[]>(`/api/v1/packages?${new URLSearchParams({ name, limit: '10000' })}`, { expect: packageListShape });
  if (body.length === 0) throw new RpmgateError('not_found', `no stored package is named ${name} (nor has that NEVRA)`);
  const sorted = [...body].sort((a, b) => compareEvr(b, a) || a.arch.localeCompare(b.arch));
  io.out.result(sorted, () =>
    table([['PACKAGE', 'LEVEL', 'SETS'], ...sorted.map((pkg) => [pkg.nevra, pkg.level, pkg.sets.length > 0 ? pkg.sets.join(', ') : '-'])]),
  );
}

interface FindingView {
  check: string;
  severity: string;
  message: string;
  path?: string;
  waivedBy?: string;
}

interface PackageDetail {
  nevra: string;
  level?: string;
  sets?: string[];
  uploadedBy: string;
  uploadedAt: string;
  sha256: string;
  findings: FindingView[];
}

async function showOnePackage(io: CommandIo, body: PackageDetail): Promise<void> {
  io.out.result(body, () => {
    const lines = [
      body.nevra,
      `  level:    ${body.level ?? 'none'}`,
      `  sets:     ${body.sets && body.sets.length > 0 ? body.sets.join(', ') : 'none'}`,
      `  uploaded: ${body.uploadedAt} by ${body.uploadedBy}`,
      `  sha256:   ${body.sha256}`,
    ];
    if (body.findings.length === 0) lines.push('  entry checks: no finding');
    else {
      lines.push('  entry checks:');
      for (const finding of body.findings) {
        const where = finding.path ? ` (${finding.path})` : '';
        const waived = finding.waivedBy ? ` [waived by ${finding.waivedBy}]` : '';
        lines.push(`    ${finding.severity} ${finding.check}: ${finding.message}${where}${waived}`);
      }
    }
    return lines.join('\n');
  });
}

/** Deletes a stored package that no set holds (admin); its file goes unless another row names it. */
export async function packageDeleteCommand(io: CommandIo, nevra: string, options: { comment?: string }): Promise<void> {
  const query = options.comment ? `?${new URLSearchParams({ comment: options.comment })}` : '';
  const { body } = await io.client.request<{ deleted: string; freedBytes: number }>('DELETE', `/api/v1/packages/${encodeURIComponent(nevra)}${query}`, {
    expect: deletedPackageShape,
  });
  io.out.result(body, () => `deleted ${body.deleted} (${body.freedBytes} bytes given back)`);
}
