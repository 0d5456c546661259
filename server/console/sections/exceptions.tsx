/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Entry-check exceptions (issue 11): the list, and add and remove for the roles that may grant them
// (admin, integ, release_manager).
// Not wired yet: this server has no entry-check service. Wiring: loadExceptions lists them through it
// (GET /api/v1/exceptions's service) a page at a time; the page then shows the list, an add form
// (check, package, path?, reason, expires?, untilVersion?) and a remove button per exception, posted to
// /ui/exceptions and /ui/exceptions/:id/remove with the session's CSRF token (routes to add beside the
// others in routes.ts, calling the same service as POST and DELETE /api/v1/exceptions).
import type { Role } from '../../../common/roles.ts';
import type { AppContext } from '../../context.ts';
import { Empty, NotConfigured, TableRegion, Time } from '../components/ui.tsx';
import { notConfigured, type SectionData } from './section.ts';

export const exceptionRoles: readonly Role[] = ['admin', 'integ', 'release_manager'];

export interface EntryException {
  id: number;
  check: string;
  package: string;
  path: string | null;
  reason: string;
  expires: Date | null;
  untilVersion: string | null;
  grantedBy: string;
}

export async function loadExceptions(
  _ctx: AppContext,
  _page: { limit: number; offset: number },
): Promise<SectionData<{ total: number; exceptions: EntryException[] }>> {
  return notConfigured;
}

export function Exceptions(props: { data: SectionData<{ total: number; exceptions: EntryException[] }>; role: Role }) {
  if (!props.data.configured) {
    return (
      <NotConfigured what="Entry checks">
        Exceptions waive an entry-check finding for a package; they can be listed, granted and withdrawn here once entry checks run on this
        server{exceptionRoles.includes(props.role) ? '' : ` (granting them needs the role ${exceptionRoles.join(', ')})`}.
      </NotConfigured>
    );
  }
  const { exceptions } = props.data.data;
  if (exceptions.length === 0) return <Empty>No exception is granted.</Empty>;
  return (
    <TableRegion label="Exceptions">
      <table>
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Package</th>
            <th scope="col">Path</th>
            <th scope="col">Reason</th>
            <th scope="col">Until</th>
            <th scope="col">Granted by</th>
          </tr>
        </thead>
        <tbody>
          {exceptions.map((exception) => (
            <tr>
              <td>
                <code>{exception.check}</code>
              </td>
              <td class="mono">{exception.package}</td>
              <td class="mono">{exception.path ?? '—'}</td>
              <td>{exception.reason}</td>
              <td>{exception.expires ? <Time at={exception.expires} /> : exception.untilVersion ? `version ${exception.untilVersion}` : 'withdrawn'}</td>
              <td>{exception.grantedBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
