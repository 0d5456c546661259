/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Entry-check exceptions: the grant form (or who may grant), the outcome of the last grant or removal,
// and the exceptions a page at a time, from the exceptions section (the entry-check service).
import type { AppContext } from '../../context.ts';
import { Layout } from '../components/layout.tsx';
import { Flash, Pagination } from '../components/ui.tsx';
import type { PageContext } from '../env.ts';
import type { GrantFormValues } from '../exception-form.ts';
import { offsetOf, paged } from '../paging.ts';
import { field, readQuery } from '../params.ts';
import { ExceptionTable, GrantForm, loadExceptions } from '../sections/exceptions.tsx';

const pageSize = 50;

export const exceptionsQuery = {
  page: field.page(),
  granted: field.integer(1, 999_999_999, null),
  removed: field.integer(1, 999_999_999, null),
};

export interface ExceptionsPageOptions {
  /** A refused grant: why, and the form as it was typed. */
  refused?: { text: string; values: GrantFormValues };
}

export async function exceptionsPage(ctx: AppContext, page: PageContext, options: ExceptionsPageOptions = {}) {
  const query = readQuery(page.url, exceptionsQuery);
  const data = await loadExceptions(ctx, { limit: pageSize, offset: offsetOf(query.page, pageSize) });
  const { role } = page.session.principal;
  const flash = options.refused
    ? { kind: 'error' as const, text: options.refused.text }
    : query.granted !== null
      ? { kind: 'ok' as const, text: `Exception ${query.granted} is granted.` }
      : query.removed !== null
        ? { kind: 'ok' as const, text: `Exception ${query.removed} is removed.` }
        : null;
  return (
    <Layout page={page} title="Entry-check exceptions">
      {flash ? <Flash kind={flash.kind}>{flash.text}</Flash> : null}
      <p>
        An exception waives an entry-check finding for the packages it names (optionally for some of their files), until a date, below a version, or
        until it is removed. Expired exceptions stay listed until someone removes them.
      </p>
      <section aria-labelledby="grant-heading">
        <h2 id="grant-heading">Grant an exception</h2>
        <GrantForm role={role} csrf={page.session.csrfToken} values={options.refused?.values} />
      </section>
      <section aria-labelledby="list-heading">
        <h2 id="list-heading">Granted</h2>
        <ExceptionTable exceptions={data.exceptions} role={role} csrf={page.session.csrfToken} />
        <Pagination paged={paged(data.exceptions, data.total, query.page, pageSize)} url={page.url} label="Pages of exceptions" />
      </section>
    </Layout>
  );
}
