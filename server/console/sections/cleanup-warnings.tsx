/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Cleanup warnings (retention, issue 14): what the cleanup warned it will delete, why (the rule and its
// reason) and when, read from the pending warnings its runs recorded (cleanup_warnings), a page at a
// time. On the overview (the count and the first few) and on the Cleanup page (all of them). These are
// the warnings `rpmgate cleanup --dry-run` lists as due or waiting; what the next run would newly warn
// about is computed over the whole store, so it stays with the dry run.
import type { AppContext } from '../../context.ts';
import { listPendingWarnings, type WarningRule } from '../../db/retention.ts';
import { Empty, TableRegion, Time } from '../components/ui.tsx';

export interface CleanupNotice {
  kind: 'set' | 'package';
  what: string;
  rule: WarningRule;
  reason: string;
  warnedAt: Date;
  /** Deleted on or after this if still eligible; null while the warning's mail is not delivered. */
  due: Date | null;
  /** Due already: the next run deletes it (if still eligible). */
  dueNow: boolean;
}

export interface CleanupNotices {
  total: number;
  notices: CleanupNotice[];
}

export async function loadCleanupNotices(ctx: AppContext, page: { limit: number; offset: number }): Promise<CleanupNotices> {
  const { total, rows } = await listPendingWarnings(ctx.sql, page);
  // The cleanup's own clock (tests and dry runs may move it), so "due" here means what the run will do.
  const now = ctx.cleanup.clock().getTime();
  return {
    total,
    notices: rows.map((row) => ({
      kind: row.kind,
      what: row.object,
      rule: row.rule,
      reason: row.reason,
      warnedAt: new Date(row.warned_at),
      due: row.due_at === null ? null : new Date(row.due_at),
      dueNow: row.due_at !== null && new Date(row.due_at).getTime() <= now,
    })),
  };
}

export function CleanupNoticeTable(props: { notices: CleanupNotice[] }) {
  if (props.notices.length === 0) return <Empty>Nothing is due for cleanup.</Empty>;
  return (
    <TableRegion label="Cleanup warnings">
      <table>
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col">Why</th>
            <th scope="col">Warned</th>
            <th scope="col">Deleted from</th>
          </tr>
        </thead>
        <tbody>
          {props.notices.map((notice) => (
            <tr>
              <td>
                <span class="mono">{notice.what}</span> <span class="muted">({notice.kind})</span>
              </td>
              <td>{notice.reason}</td>
              <td>
                <Time at={notice.warnedAt} />
              </td>
              <td>
                {notice.due ? <Time at={notice.due} /> : <span class="muted">the warning's delay starts when its mail is delivered</span>}
                {notice.dueNow ? <strong> (due: the next run deletes it)</strong> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
