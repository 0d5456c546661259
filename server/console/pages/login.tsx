/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The log-in form: a token is exchanged for a session. The token field is a password field that the
// browser is asked not to keep, and the page never shows a token back, not even after a failed try.
import { Document } from '../components/layout.tsx';
import { Flash } from '../components/ui.tsx';

export function loginPage(props: { csrf: string; next: string; error?: string | null; notice?: string | null }) {
  return (
    <Document title="Log in">
      <main id="main" class="login">
        <h1>rpmgate console</h1>
        {props.error ? <Flash kind="error">{props.error}</Flash> : null}
        {props.notice ? <Flash kind="ok">{props.notice}</Flash> : null}
        <form method="post" action="/ui/login">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="next" value={props.next} />
          <label>
            API token
            <input type="password" name="token" required autocomplete="off" spellcheck={false} autofocus aria-describedby="token-help" />
          </label>
          <p id="token-help" class="muted">
            Your rpmgate token (for example from <code>rpmgate token create</code>). It is exchanged for a session and is not kept by
            the browser.
          </p>
          <button type="submit">Log in</button>
        </form>
      </main>
    </Document>
  );
}
