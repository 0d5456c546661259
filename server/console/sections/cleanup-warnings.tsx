/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Cleanup notices (retention, issue 14): what is due to be removed, why and when. On the overview (the
// pending count and the nearest) and on the Cleanup page (all of them, a page at a time).
// Not wired yet: this server has no retention service. Wiring: loadCleanupNotices reads the planned
// items through it (GET /api/v1/cleanup's service, as of now), nearest first, `limit` from `offset`.
import type { AppContext } from '../../context.ts';
import { Empty, NotConfigured, TableRegion, Time } from '../components/ui.tsx';
import { notConfigured, type SectionData } from './section.ts';

export interface CleanupNotice {
  what: string;
  phase: string;
  reason: string;
  due: Date;
}

export async function loadCleanupNotices(
  _ctx: AppContext,
  _page: { limit: number; offset: number },
): Promise<SectionData<{ total: number; notices: CleanupNotice[] }>> {
  return notConfigured;
}

export function CleanupNotices(props: { data: SectionData<{ total: number; notices: CleanupNotice[] }> }) {
  if (!props.data.configured) {
    return <NotConfigured what="Cleanup">Warnings about sets and packages due for removal will appear here once cleanup rules are set on this server.</NotConfigured>;
  }
  const { notices } = props.data.data;
  if (notices.length === 0) return <Empty>Nothing is due for cleanup.</Empty>;
  return (
    <TableRegion label="Cleanup notices">
      <table>
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col">Phase</th>
            <th scope="col">Why</th>
            <th scope="col">Due</th>
          </tr>
        </thead>
        <tbody>
          {notices.map((notice) => (
            <tr>
              <td class="mono">{notice.what}</td>
              <td>{notice.phase}</td>
              <td>{notice.reason}</td>
              <td>
                <Time at={notice.due} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
