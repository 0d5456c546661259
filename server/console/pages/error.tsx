/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// An error as a page: the status, one sentence (the error's message, never a stack), and a way on.
import { Document, Layout } from '../components/layout.tsx';
import type { PageContext } from '../env.ts';

export function errorPage(props: { page: PageContext | null; status: number; title: string; detail: string }) {
  const body = (
    <>
      <p>{props.detail}</p>
      <p>
        <a href="/ui">Back to the overview</a>
      </p>
    </>
  );
  if (props.page) {
    return (
      <Layout page={props.page} title={props.title}>
        {body}
      </Layout>
    );
  }
  return (
    <Document title={props.title}>
      <main id="main" class="login">
        <h1>{props.title}</h1>
        <p>{props.detail}</p>
        <p>
          <a href="/ui/login">Log in</a>
        </p>
      </main>
    </Document>
  );
}
