/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A host's page: what it is and reports, its drift against its set (missing, older, newer, other
// versions; packages the set does not name counted), its inventory and its history of changes, each a
// page at a time.
import type { PackageTuple } from '../../../common/conformance.ts';
import { formatNevra } from '../../../common/rpm/nevra.ts';
import type { AppContext } from '../../context.ts';
import { evrString } from '../../services/conformance.ts';
import { hostHistoryPage } from '../../services/fleet-listings.ts';
import { getHost } from '../../services/hosts.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, Pagination, StatusBadge, TableRegion, Time, componentHref, setRefHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';

const inventoryPageSize = 100;
const historyPageSize = 50;

export const hostQuery = {
  inventory: field.page(),
  history: field.page(),
  package: field.text(256, /^[\x21-\x7e]+$/, 'the start of a package name'),
};

export async function hostPage(ctx: AppContext, page: PageContext, machineId: string) {
  const query = readQuery(page.url, hostQuery);
  const detail = await getHost(ctx.sql, machineId, { strict: false, historyLimit: 0 });
  const { host } = detail;
  const history = await hostHistoryPage(ctx.sql, host, { limit: historyPageSize, offset: offsetOf(query.history, historyPageSize) });
  const result = detail.conformance.result;
  const installed = detail.conformance.installed
    .filter((t) => query.package === null || t.name.startsWith(query.package))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  const inventoryPage = installed.slice(offsetOf(query.inventory, inventoryPageSize), offsetOf(query.inventory, inventoryPageSize) + inventoryPageSize);
  return (
    <Layout page={page} title={`Host ${host.hostname}`}>
      <dl class="facts">
        <dt>Machine id</dt>
        <dd class="mono">{host.machine_id}</dd>
        <dt>System</dt>
        <dd>
          {host.os} ({host.arch})
        </dd>
        <dt>Set</dt>
        <dd>{host.set_ref ? <a href={setRefHref(host.set_ref)}>{host.set_ref}</a> : <span class="muted">none reported</span>}</dd>
        <dt>Conformance</dt>
        <dd>
          <StatusBadge status={host.conformance_status} />
        </dd>
        <dt>Reports</dt>
        <dd>
          {host.report_count.toLocaleString('en')}, the last <Time at={host.last_report_at} />; first <Time at={host.first_report_at} />
        </dd>
        <dt>Last change</dt>
        <dd>
          <Time at={host.last_change_at} />
        </dd>
      </dl>

      <section aria-labelledby="drift-heading">
        <h2 id="drift-heading">Drift against its set</h2>
        {result === null ? (
          <Empty>{host.set_ref ? `The set ${host.set_ref} is not known to this server.` : 'This host reports no set.'}</Empty>
        ) : result.conforming ? (
          <p>
            Conforms: all {result.counts.expected.toLocaleString('en')} packages of the set are installed at the set's version
            {result.foreign.length > 0 ? `; ${result.foreign.length.toLocaleString('en')} packages the set does not name (foreign, not drift)` : ''}.
          </p>
        ) : (
          <>
            <p>
              {result.missing.length} missing, {result.older.length} older, {result.newer.length} newer, {result.different.length} other versions;{' '}
              {result.foreign.length.toLocaleString('en')} packages the set does not name.
            </p>
            <TableRegion label="Drift">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Package</th>
                    <th scope="col">Drift</th>
                    <th scope="col">Set has</th>
                    <th scope="col">Host has</th>
                  </tr>
                </thead>
                <tbody>
                  {result.missing.map((t) => (
                    <tr>
                      <td><a href={componentHref(t.name)}>{t.name}</a>.{t.arch}</td>
                      <td>missing</td>
                      <td class="mono">{evrString(t)}</td>
                      <td class="muted">not installed</td>
                    </tr>
                  ))}
                  {[...result.older.map((m) => ({ ...m, kind: 'older' })), ...result.newer.map((m) => ({ ...m, kind: 'newer' }))].map((m) => (
                    <tr>
                      <td><a href={componentHref(m.name)}>{m.name}</a>.{m.arch}</td>
                      <td>{m.kind}</td>
                      <td class="mono">{evrString(m.expected)}</td>
                      <td class="mono">{evrString(m.installed)}</td>
                    </tr>
                  ))}
                  {result.different.map((t) => (
                    <tr>
                      <td><a href={componentHref(t.name)}>{t.name}</a>.{t.arch}</td>
                      <td>other version</td>
                      <td class="muted">another version</td>
                      <td class="mono">{evrString(t)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
          </>
        )}
      </section>

      <section aria-labelledby="inventory-heading">
        <h2 id="inventory-heading">Inventory</h2>
        <form class="filters" method="get" action={page.url.pathname} role="search" aria-label="Filter the inventory">
          <label>
            Package name starts with
            <input type="search" name="package" value={query.package ?? ''} maxlength={256} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <Inventory tuples={inventoryPage} />
        <Pagination paged={paged(inventoryPage, installed.length, query.inventory, inventoryPageSize)} url={page.url} param="inventory" label="Pages of the inventory" />
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        {history.entries.length === 0 ? (
          <Empty>No change since the first report.</Empty>
        ) : (
          <>
            <TableRegion label="History">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Change</th>
                    <th scope="col">Package</th>
                  </tr>
                </thead>
                <tbody>
                  {history.entries.map((entry) => (
                    <tr>
                      <td>
                        <Time at={entry.at} />
                      </td>
                      <td>{entry.kind}</td>
                      <td class="mono">
                        {entry.kind === 'changed'
                          ? `${formatNevra(entry.from!)} → ${evrString(entry.to!)}`
                          : formatNevra((entry.to ?? entry.from)!)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
            <Pagination paged={paged(history.entries, history.total, query.history, historyPageSize)} url={page.url} param="history" label="Pages of the history" />
          </>
        )}
      </section>
    </Layout>
  );
}

function Inventory(props: { tuples: PackageTuple[] }) {
  if (props.tuples.length === 0) return <Empty>No package on this page.</Empty>;
  return (
    <TableRegion label="Inventory">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Version</th>
            <th scope="col">Arch</th>
          </tr>
        </thead>
        <tbody>
          {props.tuples.map((t) => (
            <tr>
              <td>
                <a href={componentHref(t.name)}>{t.name}</a>
              </td>
              <td class="mono">{evrString(t)}</td>
              <td>{t.arch}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
