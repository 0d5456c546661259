/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Entry-check findings and the exceptions that waive them, per package, on a set's page (issue 11).
// Not wired yet: this server has no entry-check service. Wiring: loadEntryFindings reads, for the
// package ids of the members shown, their findings (check, severity, path, message, waivedBy) through
// that service; the set page shows them in its Findings column.
import type { AppContext } from '../../context.ts';
import { notConfigured, type SectionData } from './section.ts';

export interface EntryFinding {
  check: string;
  severity: string;
  path: string | null;
  message: string;
  /** The exception that waives it, if any. */
  waivedBy: string | null;
}

export async function loadEntryFindings(_ctx: AppContext, _packageIds: number[]): Promise<SectionData<Map<number, EntryFinding[]>>> {
  return notConfigured;
}

export function FindingsCell(props: { findings: EntryFinding[] | undefined }) {
  const findings = props.findings ?? [];
  if (findings.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="plain">
      {findings.map((finding) => (
        <li>
          <code>{finding.check}</code> ({finding.severity}){finding.path ? <> at <code>{finding.path}</code></> : null}: {finding.message}
          {finding.waivedBy ? <span class="muted"> waived by {finding.waivedBy}</span> : null}
        </li>
      ))}
    </ul>
  );
}
