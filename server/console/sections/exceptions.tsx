/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Entry-check exceptions (issue 11): the exceptions not removed, a page at a time, newest first (the
// entry-check service's query), with the form to grant one and a button to remove each for the roles
// that may (admin, integ, release_manager); both post to /ui/exceptions with the session's CSRF token
// and call the same service as POST and DELETE /api/v1/exceptions. Other roles see who may.
import type { Role } from '../../../common/roles.ts';
import { exceptionGrantRoles, exceptionState, listExceptionsPage, type ExceptionState } from '../../checks/exceptions.ts';
import type { AppContext } from '../../context.ts';
import { Empty, TableRegion, Time } from '../components/ui.tsx';
import type { GrantFormValues } from '../exception-form.ts';

export const exceptionRoles: readonly Role[] = exceptionGrantRoles;

export function mayGrant(role: Role): boolean {
  return exceptionRoles.includes(role);
}

export interface EntryException {
  id: number;
  check: string;
  package: string;
  path: string | null;
  reason: string;
  expires: Date | null;
  untilVersion: string | null;
  grantedBy: string;
  grantedAt: Date;
  state: ExceptionState;
}

export interface EntryExceptions {
  total: number;
  exceptions: EntryException[];
}

export async function loadExceptions(ctx: AppContext, page: { limit: number; offset: number }): Promise<EntryExceptions> {
  const { total, rows } = await listExceptionsPage(ctx.sql, page);
  const now = new Date();
  return {
    total,
    exceptions: rows.map((row) => ({
      id: row.id,
      check: row.check_id,
      package: row.package_glob,
      path: row.path_glob,
      reason: row.reason,
      expires: row.expires_at,
      untilVersion: row.until_version,
      grantedBy: row.granted_by,
      grantedAt: row.granted_at,
      state: exceptionState(row, now),
    })),
  };
}

function limitOf(exception: EntryException) {
  if (exception.expires) return <>until <Time at={exception.expires} /></>;
  if (exception.untilVersion) return <>below version <code>{exception.untilVersion}</code></>;
  return 'until removed';
}

export function ExceptionTable(props: { exceptions: EntryException[]; role: Role; csrf: string }) {
  if (props.exceptions.length === 0) return <Empty>No exception is granted.</Empty>;
  const canRemove = mayGrant(props.role);
  return (
    <TableRegion label="Exceptions">
      <table>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Check</th>
            <th scope="col">Package</th>
            <th scope="col">Path</th>
            <th scope="col">Reason</th>
            <th scope="col">Applies</th>
            <th scope="col">Granted</th>
            {canRemove ? <th scope="col">Remove</th> : null}
          </tr>
        </thead>
        <tbody>
          {props.exceptions.map((exception) => (
            <tr id={`exception-${exception.id}`}>
              <td class="num">{exception.id}</td>
              <td>
                <code>{exception.check}</code>
              </td>
              <td class="mono">{exception.package}</td>
              <td class="mono">{exception.path ?? '—'}</td>
              <td>{exception.reason}</td>
              <td>
                {exception.state === 'expired' ? <strong>expired</strong> : 'active'}, {limitOf(exception)}
              </td>
              <td>
                by {exception.grantedBy}, <Time at={exception.grantedAt} />
              </td>
              {canRemove ? (
                <td>
                  <form method="post" action={`/ui/exceptions/${exception.id}/remove`} data-confirm={`Remove exception ${exception.id}? Packages it covers are checked in full again.`}>
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <button type="submit" class="danger" aria-label={`Remove exception ${exception.id}`}>
                      Remove
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

/** The grant form for the roles that may; the others are told who may. */
export function GrantForm(props: { role: Role; csrf: string; values?: GrantFormValues }) {
  if (!mayGrant(props.role)) {
    return (
      <p class="reason" id="grant-reason">
        Only {exceptionRoles.join(', ')} may grant or remove exceptions; you are signed in as {props.role}.
      </p>
    );
  }
  const values = props.values ?? {};
  return (
    <form method="post" action="/ui/exceptions" class="filters grant">
      <input type="hidden" name="csrf" value={props.csrf} />
      <label for="grant-check">
        Check (id or glob)
        <input type="text" id="grant-check" name="check" required maxlength={200} placeholder="setuid-file" value={values.check} />
      </label>
      <label for="grant-package">
        Package (name or glob)
        <input type="text" id="grant-package" name="package" required maxlength={200} value={values.package} />
      </label>
      <label for="grant-path">
        File path glob (optional)
        <input type="text" id="grant-path" name="path" maxlength={4096} placeholder="/usr/share/foo/*" value={values.path} />
      </label>
      <label for="grant-reason-text" class="wide">
        Reason
        <input type="text" id="grant-reason-text" name="reason" required maxlength={2000} value={values.reason} />
      </label>
      <label for="grant-expires">
        Expires (optional)
        <input type="date" id="grant-expires" name="expires" value={values.expires} />
      </label>
      <label for="grant-until">
        Below version (optional)
        <input type="text" id="grant-until" name="untilVersion" maxlength={256} placeholder="2.0" value={values.untilVersion} />
      </label>
      <button type="submit">Grant exception</button>
    </form>
  );
}
