/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Components: package names a page at a time (by the start of the name), each with its number of
// stored versions and the highest level one reached; and a component's page (component.tsx).
import { levelFromRank } from '../../../common/roles.ts';
import type { AppContext } from '../../context.ts';
import { findComponentsPage } from '../../services/component-catalog.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, LevelBadge, TableRegion, componentHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf } from '../paging.ts';
import { field, readQuery } from '../params.ts';

const pageSize = 50;

export const componentsQuery = {
  name: field.text(256, /^[\x21-\x7e]+$/, 'the start of a package name (printable characters, no spaces)'),
  page: field.page(),
};

export async function componentsPage(ctx: AppContext, page: PageContext) {
  const query = readQuery(page.url, componentsQuery);
  const { rows, hasMore } = await findComponentsPage(ctx.sql, { prefix: query.name, limit: pageSize, offset: offsetOf(query.page, pageSize) });
  const link = (target: number) => {
    const next = new URL(page.url);
    if (target === 1) next.searchParams.delete('page');
    else next.searchParams.set('page', String(target));
    return `${next.pathname}${next.search}`;
  };
  return (
    <Layout page={page} title="Components">
      <p>Which builds of a component are proven, which sets hold them, and which hosts run them.</p>
      <form class="filters" method="get" action="/ui/components" role="search" aria-label="Find components">
        <label>
          Package name starts with
          <input type="search" name="name" value={query.name ?? ''} maxlength={256} />
        </label>
        <button type="submit">Find</button>
      </form>
      {rows.length === 0 ? (
        <Empty>No stored package matches.</Empty>
      ) : (
        <TableRegion label="Components">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Stored versions
                </th>
                <th scope="col">Highest level reached</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr>
                  <td>
                    <a href={componentHref(row.name)}>{row.name}</a>
                  </td>
                  <td class="num">{row.version_count}</td>
                  <td>
                    <LevelBadge level={levelFromRank(row.top_level_rank)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      <nav class="pagination" aria-label="Pages of components">
        <p>Page {query.page}</p>
        <ul>
          <li>{query.page > 1 ? <a href={link(query.page - 1)} rel="prev">Previous</a> : <span aria-disabled="true">Previous</span>}</li>
          <li>{hasMore ? <a href={link(query.page + 1)} rel="next">Next</a> : <span aria-disabled="true">Next</span>}</li>
        </ul>
      </nav>
    </Layout>
  );
}
