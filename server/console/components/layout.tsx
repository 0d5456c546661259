/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The page shell: landmarks (banner, navigation, main, contentinfo), a skip link, the signed-in person
// with the log-out form, and the console's own stylesheet and script (no external asset).
import type { Child } from 'hono/jsx';
import { assetHref } from '../assets.ts';
import type { PageContext } from '../env.ts';

const sections = [
  { href: '/ui', label: 'Overview' },
  { href: '/ui/sets', label: 'Sets' },
  { href: '/ui/components', label: 'Components' },
  { href: '/ui/hosts', label: 'Hosts' },
  { href: '/ui/exceptions', label: 'Exceptions' },
  { href: '/ui/cleanup', label: 'Cleanup' },
];

function isCurrent(href: string, path: string): boolean {
  return href === '/ui' ? path === '/ui' || path === '/ui/' : path === href || path.startsWith(`${href}/`);
}

export function Document(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{`${props.title} · rpmgate`}</title>
        <link rel="stylesheet" href={assetHref('console.css')} />
        <script src={assetHref('console.js')} defer></script>
      </head>
      <body>{props.children}</body>
    </html>
  );
}

export function Layout(props: { page: PageContext; title: string; children: Child }) {
  const { session, url } = props.page;
  return (
    <Document title={props.title}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <a class="brand" href="/ui">
          rpmgate
        </a>
        <nav aria-label="Main">
          <ul>
            {sections.map((section) => (
              <li>
                <a href={section.href} aria-current={isCurrent(section.href, url.pathname) ? 'page' : undefined}>
                  {section.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {session.principal.name} <span class="role">({session.principal.role})</span>
          </span>
          <form method="post" action="/ui/logout">
            <input type="hidden" name="csrf" value={session.csrfToken} />
            <button type="submit" class="link-button">
              Log out
            </button>
          </form>
        </div>
      </header>
      <main id="main" tabindex={-1}>
        <h1>{props.title}</h1>
        {props.children}
      </main>
      <footer class="site-footer">
        <p>rpmgate console · times in UTC</p>
      </footer>
    </Document>
  );
}
