/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Sets: every package set, filtered by the start of the product name and by level, a page at a time,
// with its member count and how many of its hosts drift.
import type { AppContext } from '../../context.ts';
import { findSetsPage, levelOrder } from '../../services/set-listings.ts';
import { Layout } from '../components/layout.tsx';
import { Empty, LevelBadge, Pagination, TableRegion, Time, setHref } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';

const pageSize = 50;

export const setsQuery = {
  name: field.text(100, /^[A-Za-z0-9._+-]*$/, 'the start of a product name: letters, digits and . _ + -'),
  level: field.oneOf(levelOrder),
  page: field.page(),
};

export async function setsPage(ctx: AppContext, page: PageContext) {
  const query = readQuery(page.url, setsQuery);
  const { total, rows } = await findSetsPage(ctx.sql, {
    namePrefix: query.name,
    level: query.level,
    limit: pageSize,
    offset: offsetOf(query.page, pageSize),
  });
  const result = paged(rows, total, query.page, pageSize);
  return (
    <Layout page={page} title="Package sets">
      <form class="filters" method="get" action="/ui/sets" role="search" aria-label="Filter sets">
        <label>
          Product name starts with
          <input type="search" name="name" value={query.name ?? ''} maxlength={100} />
        </label>
        <label>
          Level
          <select name="level">
            <option value="">any level</option>
            {levelOrder.map((level) => (
              <option value={level} selected={query.level === level}>
                {level}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {rows.length === 0 ? (
        <Empty>No set matches.</Empty>
      ) : (
        <>
          <TableRegion label="Package sets">
            <table>
              <thead>
                <tr>
                  <th scope="col">Set</th>
                  <th scope="col">Level</th>
                  <th scope="col" class="num">
                    Packages
                  </th>
                  <th scope="col" class="num">
                    Hosts
                  </th>
                  <th scope="col" class="num">
                    Drifting
                  </th>
                  <th scope="col" class="hide-narrow">
                    Created
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((set) => (
                  <tr>
                    <td>
                      <a href={setHref(set.name, set.version)}>
                        {set.name}/{set.version}
                      </a>
                    </td>
                    <td>
                      <LevelBadge level={set.level} />
                    </td>
                    <td class="num">{set.member_count.toLocaleString('en')}</td>
                    <td class="num">{set.host_count.toLocaleString('en')}</td>
                    <td class="num">{set.drifting_count.toLocaleString('en')}</td>
                    <td class="hide-narrow">
                      <Time at={set.created_at} /> by {set.created_by}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
          <Pagination paged={result} url={page.url} label="Pages of sets" />
        </>
      )}
    </Layout>
  );
}
