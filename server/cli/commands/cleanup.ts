// `rpmgate cleanup [--dry-run] [--now ISO-DATE]`: what each phase of the cleanup would do (as of a
// date), with reasons and bytes; `rpmgate cleanup --run`: run it now (admin).
import { objectShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import type { CleanupReport } from '../../retention/job.ts';
import { formatBytes } from '../../retention/format.ts';
import type { CleanupPreview } from '../../retention/preview.ts';
import type { CommandIo } from '../global-options.ts';

export interface CleanupOptions {
  dryRun?: boolean;
  run?: boolean;
  now?: string;
  limit?: string;
}

const previewShape = objectShape<CleanupPreview>('a cleanup preview', { now: 'string', delete: 'array', warn: 'array', waiting: 'array', withdraw: 'array' });
const reportShape = objectShape<CleanupReport>('a cleanup report', { now: 'string', deleted: 'array', withdrawn: 'array', warned: 'number' });

export async function cleanupCommand(io: CommandIo, options: CleanupOptions): Promise<void> {
  if (options.run && options.dryRun) throw new RpmgateError('usage', 'choose --dry-run or --run, not both');
  if (options.run) {
    if (options.now) throw new RpmgateError('usage', '--now goes with --dry-run only: a run deletes as of the server\'s clock');
    const { body } = await io.client.post<CleanupReport>('/api/v1/cleanup/run', {}, { expect: reportShape });
    io.out.result(body, () => describeReport(body));
    return;
  }
  const params = new URLSearchParams();
  if (options.now) params.set('now', options.now);
  if (options.limit) params.set('limit', options.limit);
  const query = params.size > 0 ? `?${params}` : '';
  const { body } = await io.client.get<CleanupPreview>(`/api/v1/cleanup${query}`, { expect: previewShape });
  io.out.result(body, () => describePreview(body));
}

function describePreview(preview: CleanupPreview): string {
  const lines = [`cleanup as of ${preview.now} (mail ${preview.mail}; deletion ${preview.warningDays} days after the warning)`];
  const section = (title: string, items: { kind: string; object: string; detail: string }[], count: number) => {
    lines.push('', `${title}: ${count === 0 ? 'none' : count}${count > items.length ? ` (the first ${items.length} listed)` : ''}`);
    for (const item of items) lines.push(`  ${item.kind} ${item.object}`, `      ${item.detail}`);
  };
  section(
    `phase 2, delete now (${formatBytes(preview.bytes.delete)} given back)`,
    preview.delete.map((d) => ({ kind: d.kind, object: d.object, detail: `${d.reason}; warned ${d.warnedAt.slice(0, 10)}, due ${d.dueAt?.slice(0, 10)}` })),
    preview.counts.delete,
  );
  section(
    `phase 1, warn now (${formatBytes(preview.bytes.warn)} would be given back)`,
    preview.warn.map((w) => ({ kind: w.kind, object: w.object, detail: `${w.reason}; deleted on or after ${w.dueAt}; mail to ${w.recipients.join(', ') || 'nobody (recorded only)'}` })),
    preview.counts.warn,
  );
  section(
    'warned, waiting',
    preview.waiting.map((w) => ({
      kind: w.kind,
      object: w.object,
      detail: `${w.reason}; ${w.dueAt ? `due ${w.dueAt.slice(0, 10)}` : `mail not delivered yet${w.lastMailError ? ` (${w.lastMailError})` : ''}`}`,
    })),
    preview.counts.waiting,
  );
  section('spared, warning withdrawn', preview.withdraw.map((w) => ({ kind: w.kind, object: w.object, detail: `spared: ${w.sparedBecause}` })), preview.counts.withdraw);
  section('kept', preview.kept.map((k) => ({ kind: k.kind, object: k.object, detail: `${k.rule}, but kept: ${k.keptBecause}` })), preview.counts.kept);
  if (preview.previousFiles.files > 0) {
    lines.push('', `files replaced by a key rotation past the hold time: ${preview.previousFiles.files} (${formatBytes(preview.previousFiles.bytes)})`);
  }
  return lines.join('\n');
}

function describeReport(report: CleanupReport): string {
  const lines = [`cleanup ran as of ${report.now}`];
  const more = (count: number, listed: number) => (count > listed ? ` (the first ${listed} listed)` : '');
  lines.push(`deleted: ${report.counts.deleted}${more(report.counts.deleted, report.deleted.length)}`, ...report.deleted.map((d) => `  ${d.kind} ${d.object} (${d.reason})`));
  lines.push(`warnings withdrawn: ${report.counts.withdrawn}${more(report.counts.withdrawn, report.withdrawn.length)}`, ...report.withdrawn.map((w) => `  ${w.object}: ${w.sparedBecause}`));
  if (report.counts.skipped > 0) lines.push(`due but spared at the last moment: ${report.counts.skipped}: ${report.skipped.join(', ')}`);
  lines.push(`new warnings: ${report.warned}`);
  lines.push(`files given back: ${formatBytes(report.bytesFreed)} (previous files ${report.previousFiles}, stray files ${report.strayBlobs})`);
  if (!report.mail.on) lines.push('mail is off: warnings are recorded only');
  else {
    lines.push(`mails sent: ${report.mail.sent}`);
    for (const failure of report.mail.failed) lines.push(`mail to ${failure.recipient} failed (retried next run): ${failure.error}`);
  }
  return lines.join('\n');
}
