/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Cleanup notices: what is due to be removed, why and when, from the cleanup section (which reads the
// retention service).
import type { AppContext } from '../../context.ts';
import { Layout } from '../components/layout.tsx';
import { Pagination } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';
import { CleanupNotices, loadCleanupNotices } from '../sections/cleanup-warnings.tsx';

const pageSize = 50;

export async function cleanupPage(ctx: AppContext, page: PageContext) {
  const query = readQuery(page.url, { page: field.page() });
  const data = await loadCleanupNotices(ctx, { limit: pageSize, offset: offsetOf(query.page, pageSize) });
  return (
    <Layout page={page} title="Cleanup notices">
      <CleanupNotices data={data} />
      {data.configured ? <Pagination paged={paged(data.data.notices, data.data.total, query.page, pageSize)} url={page.url} label="Pages of cleanup notices" /> : null}
    </Layout>
  );
}
