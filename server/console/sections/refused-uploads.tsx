/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Packages refused on entry lately (entry checks, issue 11), on the overview.
// Not wired yet: this server has no entry-check service. Wiring: loadRefusedUploads reads the latest
// refused uploads through that service, newest first, at most `limit`.
import type { AppContext } from '../../context.ts';
import { Empty, NotConfigured, TableRegion, Time } from '../components/ui.tsx';
import { notConfigured, type SectionData } from './section.ts';

export interface RefusedUpload {
  file: string;
  by: string;
  at: Date;
  checks: string[];
}

export async function loadRefusedUploads(_ctx: AppContext, _limit: number): Promise<SectionData<RefusedUpload[]>> {
  return notConfigured;
}

export function RefusedUploads(props: { data: SectionData<RefusedUpload[]> }) {
  if (!props.data.configured) {
    return <NotConfigured what="Entry checks">Packages refused on entry will be listed here once entry checks run on this server.</NotConfigured>;
  }
  if (props.data.data.length === 0) return <Empty>No package was refused lately.</Empty>;
  return (
    <TableRegion label="Packages refused on entry">
      <table>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Failed checks</th>
            <th scope="col">By</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {props.data.data.map((refused) => (
            <tr>
              <td class="mono">{refused.file}</td>
              <td>{refused.checks.join(', ')}</td>
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
