/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Hosts: the fleet a page at a time, filtered by set, drifting only, last report older than N days,
// and the start of a host name or machine id.
import type { AppContext } from '../../context.ts';
import { findHostsPage } from '../../services/fleet-listings.ts';
import { parseSetReference } from '../../services/hosts.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, Pagination, StatusBadge, TableRegion, Time, hostHref, setRefHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';

const pageSize = 50;

export const hostsQuery = {
  set: field.text(201, /^[^/\s]+\/[^/\s]+$/, 'NAME/VERSION, e.g. billing/4.2.0'),
  drifting: field.flag(),
  older: field.integer(1, 3650, null),
  q: field.text(253, /^[A-Za-z0-9._-]+$/, 'the start of a host name or machine id (letters, digits and . _ -)'),
  page: field.page(),
};

export async function hostsPage(ctx: AppContext, page: PageContext) {
  const query = readQuery(page.url, hostsQuery);
  const setRef = query.set === null ? null : parseSetReference(query.set);
  const { total, hosts } = await findHostsPage(ctx.sql, {
    setRef,
    drifting: query.drifting,
    staleDays: query.older,
    search: query.q,
    limit: pageSize,
    offset: offsetOf(query.page, pageSize),
  });
  return (
    <Layout page={page} title="Hosts">
      <form class="filters" method="get" action="/ui/hosts" role="search" aria-label="Filter hosts">
        <label>
          Host name or machine id starts with
          <input type="search" name="q" value={query.q ?? ''} maxlength={253} />
        </label>
        <label>
          Set (NAME/VERSION)
          <input type="text" name="set" value={setRef ?? ''} maxlength={201} />
        </label>
        <label>
          Last report older than (days)
          <input type="number" name="older" min={1} max={3650} value={query.older === null ? '' : String(query.older)} />
        </label>
        <label class="check">
          <input type="checkbox" name="drifting" value="true" checked={query.drifting} />
          Drifting only
        </label>
        <button type="submit">Filter</button>
      </form>
      {hosts.length === 0 ? (
        <Empty>No host matches.</Empty>
      ) : (
        <>
          <TableRegion label="Hosts">
            <table>
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col">Set</th>
                  <th scope="col">Conformance</th>
                  <th scope="col" class="num hide-narrow">
                    Packages
                  </th>
                  <th scope="col">Last report</th>
                </tr>
              </thead>
              <tbody>
                {hosts.map((host) => (
                  <tr>
                    <td>
                      <a href={hostHref(host.machine_id)}>{host.hostname}</a>
                      <div class="muted mono hide-narrow">{host.machine_id}</div>
                    </td>
                    <td>{host.set_ref ? <a href={setRefHref(host.set_ref)}>{host.set_ref}</a> : <span class="muted">none</span>}</td>
                    <td>
                      <StatusBadge status={host.conformance_status} />
                      {host.conformance_status === 'drifting' ? (
                        <span class="muted"> {host.missing_count + host.older_count + host.newer_count + host.different_count} differences</span>
                      ) : null}
                    </td>
                    <td class="num hide-narrow">{host.package_count.toLocaleString('en')}</td>
                    <td>
                      <Time at={host.last_report_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
          <Pagination paged={paged(hosts, total, query.page, pageSize)} url={page.url} label="Pages of hosts" />
        </>
      )}
    </Layout>
  );
}
