/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Packages refused on entry lately (entry checks, issue 11), on the overview: the latest refusals the
// upload service recorded (entry_refusals), each with the findings that refused it.
import type { AppContext } from '../../context.ts';
import { listLatestRefusals } from '../../db/entry-refusals.ts';
import { Empty, TableRegion, Time } from '../components/ui.tsx';

/** Refusing findings shown per refusal; the rest are counted. */
const findingsShown = 3;

export interface RefusingFinding {
  check: string;
  message: string;
  path: string | null;
}

export interface RefusedUpload {
  package: string;
  by: string;
  at: Date;
  /** The errors no exception waived: what refused it. */
  findings: RefusingFinding[];
}

export async function loadRefusedUploads(ctx: AppContext, limit: number): Promise<RefusedUpload[]> {
  const rows = await listLatestRefusals(ctx.sql, limit);
  return rows.map((row) => ({
    package: row.nevra,
    by: row.uploaded_by,
    at: row.refused_at,
    findings: row.findings
      .filter((finding) => finding.severity === 'error' && finding.waivedBy === undefined)
      .map((finding) => ({ check: finding.check, message: finding.message, path: finding.path ?? null })),
  }));
}

export function RefusedUploads(props: { refused: RefusedUpload[] }) {
  if (props.refused.length === 0) return <Empty>No package was refused lately.</Empty>;
  return (
    <TableRegion label="Packages refused on entry">
      <table>
        <thead>
          <tr>
            <th scope="col">Package</th>
            <th scope="col">Refused by</th>
            <th scope="col">Uploaded by</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {props.refused.map((refused) => (
            <tr>
              <td class="mono">{refused.package}</td>
              <td>
                <ul class="plain">
                  {refused.findings.slice(0, findingsShown).map((finding) => (
                    <li>
                      <code>{finding.check}</code>
                      {finding.path ? <> at <code>{finding.path}</code></> : null}: {finding.message}
                    </li>
                  ))}
                  {refused.findings.length > findingsShown ? <li class="muted">and {refused.findings.length - findingsShown} more</li> : null}
                </ul>
              </td>
              <td>{refused.by}</td>
              <td>
                <Time at={refused.at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
