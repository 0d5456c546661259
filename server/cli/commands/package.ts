// `rpmgate package show NEVRA`: a stored package with its level, sets and entry-check findings.
import { packageDetailShape } from '../../../common/api-shapes.ts';
import type { CommandIo } from '../global-options.ts';

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

export async function packageShowCommand(io: CommandIo, nevra: string): Promise<void> {
  const { body } = await io.client.get<PackageDetail>(`/api/v1/packages/${encodeURIComponent(nevra)}`, { expect: packageDetailShape });
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
