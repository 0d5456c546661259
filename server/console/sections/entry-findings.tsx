/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Entry-check findings and the exceptions that waive them, per package, on a set's page (issue 11): the
// findings recorded when each member was accepted (package_findings, by primary key for the page's
// members), the exception that waived each at entry, and, for a finding not waived then, a live
// exception that covers it today (granted since).
import type { AppContext } from '../../context.ts';
import { applyExceptions, compileExceptions, liveExceptions } from '../../checks/exceptions.ts';
import { findingsOfPackages } from '../../db/package-findings.ts';

export interface EntryFinding {
  check: string;
  severity: string;
  path: string | null;
  message: string;
  /** The exception that waived it when the package was accepted, if any. */
  waivedBy: string | null;
  /** An exception granted since that covers it now, if any. */
  coveredNow: string | null;
}

export async function loadEntryFindings(ctx: AppContext, members: readonly { id: number; name: string; version: string }[]): Promise<Map<number, EntryFinding[]>> {
  const recorded = await findingsOfPackages(ctx.sql, members.map((member) => member.id));
  const open = [...recorded.values()].some((findings) => findings.some((finding) => finding.waivedBy === undefined));
  const exceptions = compileExceptions(open ? await liveExceptions(ctx.sql, new Date()) : []);
  const shown = new Map<number, EntryFinding[]>();
  for (const member of members) {
    const findings = recorded.get(member.id);
    if (!findings) continue;
    const today = exceptions.rules.length > 0 ? applyExceptions(findings, exceptions, member) : [];
    shown.set(
      member.id,
      findings.map((finding, index) => ({
        check: finding.check,
        severity: finding.severity,
        path: finding.path ?? null,
        message: finding.message,
        waivedBy: finding.waivedBy ?? null,
        coveredNow: finding.waivedBy === undefined ? (today[index]?.waivedBy ?? null) : null,
      })),
    );
  }
  return shown;
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
          {finding.coveredNow ? <span class="muted"> covered now by {finding.coveredNow}</span> : null}
        </li>
      ))}
    </ul>
  );
}
