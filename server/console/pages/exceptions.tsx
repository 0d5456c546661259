/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Entry-check exceptions, from the exceptions section (which reads the entry-check service).
import type { AppContext } from '../../context.ts';
import { Layout } from '../components/layout.tsx';
import { Pagination } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';
import { Exceptions, loadExceptions } from '../sections/exceptions.tsx';

const pageSize = 50;

export async function exceptionsPage(ctx: AppContext, page: PageContext) {
  const query = readQuery(page.url, { page: field.page() });
  const data = await loadExceptions(ctx, { limit: pageSize, offset: offsetOf(query.page, pageSize) });
  return (
    <Layout page={page} title="Entry-check exceptions">
      <Exceptions data={data} role={page.session.principal.role} />
      {data.configured ? <Pagination paged={paged(data.data.exceptions, data.data.total, query.page, pageSize)} url={page.url} label="Pages of exceptions" /> : null}
    </Layout>
  );
}
