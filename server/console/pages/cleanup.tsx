/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Cleanup warnings: what the cleanup warned it will delete, why and when, a page at a time, from the
// cleanup section (the pending warnings the cleanup's runs recorded).
import type { AppContext } from '../../context.ts';
import { Layout } from '../components/layout.tsx';
import { Pagination } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';
import { CleanupNoticeTable, loadCleanupNotices } from '../sections/cleanup-warnings.tsx';

const pageSize = 50;

export async function cleanupPage(ctx: AppContext, page: PageContext) {
  const query = readQuery(page.url, { page: field.page() });
  const data = await loadCleanupNotices(ctx, { limit: pageSize, offset: offsetOf(query.page, pageSize) });
  return (
    <Layout page={page} title="Cleanup warnings">
      <p>
        Sets and packages the cleanup warned about: each is deleted on or after its date if a rule still makes it eligible then; one that is released,
        reported by a host or taken into a set meanwhile is spared and its warning withdrawn. What the next run would newly warn about is listed by{' '}
        <code>rpmgate cleanup --dry-run</code>.
      </p>
      <CleanupNoticeTable notices={data.notices} />
      <Pagination paged={paged(data.notices, data.total, query.page, pageSize)} url={page.url} label="Pages of cleanup warnings" />
    </Layout>
  );
}
