// The web console under /ui: server-rendered pages (hono/jsx) reading the same services as the API.
// Log-in exchanges a token for a session cookie; every other page needs that session, and every form
// POST its CSRF token. Wiring only: each page lives in pages/, each section in sections/.
import { requestIdOf } from '../ops/request-log.ts';
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { errorCodes, RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { grantException, removeException } from '../checks/exceptions.ts';
import { requireRoles } from '../http/auth.ts';
import { toRpmgateError } from '../http/problem.ts';
import { promoteSet } from '../services/promotion.ts';
import { findAsset } from './assets.ts';
import { grantFormValues, readGrantForm } from './exception-form.ts';
import type { ConsoleEnv, PageContext } from './env.ts';
import {
  checkFormOrigin,
  isTls,
  limitForm,
  readConsoleSession,
  readFormBody,
  requireCsrf,
  requireSession,
  securityHeaders,
  serverTiming,
  sessionCookie,
} from './middleware.ts';
import { cleanupPage } from './pages/cleanup.tsx';
import { componentPage } from './pages/component.tsx';
import { componentsPage } from './pages/components.tsx';
import { errorPage } from './pages/error.tsx';
import { exceptionsPage } from './pages/exceptions.tsx';
import { hostPage } from './pages/host.tsx';
import { hostsPage } from './pages/hosts.tsx';
import { loginPage } from './pages/login.tsx';
import { overviewPage } from './pages/overview.tsx';
import { setPage } from './pages/set.tsx';
import { setsPage } from './pages/sets.tsx';
import { field, readForm, readQuery } from './params.ts';
import { exceptionRoles } from './sections/exceptions.tsx';
import { closeSession, openSession, sessionLifetimeMs } from './session.ts';

const loginCookie = 'rpmgate_login';
const nextPattern = /^\/ui(?:\/[^\s\\]*)?(?:\?[^\s\\]*)?$/;

const loginQuery = { next: field.text(2000, nextPattern, 'a console path'), ended: field.flag() };
const loginForm = {
  token: field.required(512, /^[\x21-\x7e]+$/, 'a token (printable characters, no spaces)'),
  next: field.text(2000, nextPattern, 'a console path'),
};
const promoteForm = {
  level: field.oneOf(['qa_ready', 'pre_release', 'release', 'obsolete'] as const),
  comment: field.text(2000, /^[^\p{Cc}]*$/u, 'at most 2,000 characters without control characters'),
};

export function consoleRoutes(ctx: AppContext): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();
  routes.onError(renderError(ctx));
  routes.use('*', securityHeaders(), serverTiming());

  // Public: the stylesheet and script (named by their digest), and the log-in form.
  routes.get('/assets/:file', (c) => {
    const asset = findAsset(c.req.path);
    if (!asset) throw new RpmgateError('not_found', `nothing at ${c.req.path}`);
    return c.body(new Uint8Array(asset.body), 200, { 'content-type': asset.contentType, 'cache-control': 'public, max-age=31536000, immutable' });
  });

  routes.get('/login', (c) => {
    const query = readQuery(new URL(c.req.url), loginQuery);
    return renderLogin(c, 200, { next: query.next ?? '/ui', notice: query.ended ? 'You have logged out.' : null });
  });

  routes.post('/login', limitForm(), async (c) => {
    checkFormOrigin(c);
    const body = await readFormBody(c);
    // Before any session, the form's token is checked against a cookie set with the form (double submit).
    const expected = getCookie(c, loginCookie);
    if (!expected || typeof body.csrf !== 'string' || body.csrf !== expected) {
      return renderLogin(c, 403, { next: '/ui', error: 'The log-in form had expired. Please enter your token again.' });
    }
    const form = readForm(body, loginForm);
    const next = form.next ?? '/ui';
    let opened: Awaited<ReturnType<typeof openSession>>;
    try {
      opened = await openSession(ctx, form.token);
    } catch (error) {
      if (error instanceof RpmgateError && (error.code === 'unauthorized' || error.code === 'forbidden')) {
        return renderLogin(c, error.status, { next, error: error.message });
      }
      throw error;
    }
    const secure = isTls(c, ctx.config.baseUrl);
    deleteCookie(c, loginCookie, { path: '/ui', secure });
    setCookie(c, sessionCookie, opened.secret, {
      path: '/ui',
      httpOnly: true,
      sameSite: 'Strict',
      secure,
      maxAge: Math.floor(sessionLifetimeMs / 1000),
    });
    ctx.log.info('console session opened', { name: opened.principal.name, role: opened.principal.role });
    return c.redirect(next, 303);
  });

  // Everything below needs a session.
  routes.use('*', readConsoleSession(ctx), requireSession());

  routes.post('/logout', limitForm(), async (c) => {
    checkFormOrigin(c);
    const session = c.get('session')!;
    requireCsrf((await readFormBody(c)).csrf, session.csrfToken);
    await closeSession(ctx, session);
    deleteCookie(c, sessionCookie, { path: '/ui', secure: isTls(c, ctx.config.baseUrl) });
    return c.redirect('/ui/login?ended=true', 303);
  });

  routes.get('/', async (c) => render(c, 200, await overviewPage(ctx, pageContext(c))));
  routes.get('/sets', async (c) => render(c, 200, await setsPage(ctx, pageContext(c))));
  routes.get('/sets/:name/:version', async (c) =>
    render(c, 200, await setPage(ctx, pageContext(c), c.req.param('name'), c.req.param('version'), { base: publicBase(ctx, c) })),
  );
  routes.post('/sets/:name/:version/promote', limitForm(), async (c) => {
    checkFormOrigin(c);
    const session = c.get('session')!;
    const body = await readFormBody(c);
    requireCsrf(body.csrf, session.csrfToken);
    const form = readForm(body, promoteForm);
    const name = c.req.param('name');
    const version = c.req.param('version');
    if (form.level === null) throw new RpmgateError('bad_request', 'level is required');
    try {
      await promoteSet(ctx, name, version, { level: form.level, comment: form.comment ?? '' }, session.principal);
    } catch (error) {
      // Refused (role, or someone promoted it meanwhile): the set's page again, saying why.
      if (error instanceof RpmgateError && (error.code === 'forbidden' || error.code === 'conflict')) {
        const page = { session, url: new URL(`/ui/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}`, c.req.url) };
        return render(c, error.status, await setPage(ctx, page, name, version, { base: publicBase(ctx, c), flash: { kind: 'error', text: error.message } }));
      }
      throw error;
    }
    return c.redirect(`/ui/sets/${encodeURIComponent(name)}/${encodeURIComponent(version)}?promoted=${form.level}`, 303);
  });

  routes.get('/components', async (c) => render(c, 200, await componentsPage(ctx, pageContext(c))));
  routes.get('/components/:name', async (c) => render(c, 200, await componentPage(ctx, pageContext(c), c.req.param('name'))));
  routes.get('/hosts', async (c) => render(c, 200, await hostsPage(ctx, pageContext(c))));
  routes.get('/hosts/:machineId', async (c) => render(c, 200, await hostPage(ctx, pageContext(c), c.req.param('machineId'))));
  routes.get('/exceptions', async (c) => render(c, 200, await exceptionsPage(ctx, pageContext(c))));
  // Granting and removing: the roles POST and DELETE /api/v1/exceptions allow, through the same service.
  routes.post('/exceptions', limitForm(), async (c) => {
    checkFormOrigin(c);
    const session = c.get('session')!;
    const body = await readFormBody(c);
    requireCsrf(body.csrf, session.csrfToken);
    requireRoles(session.principal, exceptionRoles);
    let granted: Awaited<ReturnType<typeof grantException>>;
    try {
      granted = await grantException(ctx.sql, readGrantForm(body, new Date()), session.principal.name);
    } catch (error) {
      // A wrong field: the form again, as typed, saying what is wrong.
      if (error instanceof RpmgateError && error.code === 'bad_request') {
        const page = { session, url: new URL('/ui/exceptions', c.req.url) };
        return render(c, error.status, await exceptionsPage(ctx, page, { refused: { text: error.message, values: grantFormValues(body) } }));
      }
      throw error;
    }
    ctx.log.info('exception granted', { id: granted.id, check: granted.check_id, package: granted.package_glob, by: session.principal.name });
    return c.redirect(`/ui/exceptions?granted=${granted.id}`, 303);
  });
  routes.post('/exceptions/:id/remove', limitForm(), async (c) => {
    checkFormOrigin(c);
    const session = c.get('session')!;
    const body = await readFormBody(c);
    requireCsrf(body.csrf, session.csrfToken);
    requireRoles(session.principal, exceptionRoles);
    readForm(body, {});
    const id = readExceptionId(c.req.param('id'));
    const removed = await removeException(ctx.sql, id, session.principal.name);
    if (!removed) throw new RpmgateError('not_found', `no exception ${id} (or it was removed already)`);
    ctx.log.info('exception removed', { id, by: session.principal.name });
    return c.redirect(`/ui/exceptions?removed=${id}`, 303);
  });
  routes.get('/cleanup', async (c) => render(c, 200, await cleanupPage(ctx, pageContext(c))));

  routes.all('*', (c) => {
    throw new RpmgateError('not_found', `there is no console page at ${c.req.path}`);
  });
  return routes;
}

function readExceptionId(raw: string): number {
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new RpmgateError('not_found', `there is no exception ${raw}`);
  return Number(raw);
}

function pageContext(c: Context<ConsoleEnv>): PageContext {
  return { session: c.get('session')!, url: new URL(c.req.url) };
}

/** What .repo files name: RPMGATE_BASE_URL, else the origin the browser used (as /repo/*.repo answers). */
function publicBase(ctx: AppContext, c: Context): string {
  return ctx.config.baseUrl ?? new URL(c.req.url).origin;
}

async function render(c: Context, status: number, node: JSX.Element): Promise<Response> {
  return c.html(`<!doctype html>${await node.toString()}`, status as 200);
}

function renderLogin(c: Context<ConsoleEnv>, status: number, props: { next: string; error?: string | null; notice?: string | null }) {
  const nonce = randomBytes(24).toString('base64url');
  setCookie(c, loginCookie, nonce, { path: '/ui', httpOnly: true, sameSite: 'Strict', secure: isTls(c, null), maxAge: 3600 });
  return render(c, status, loginPage({ csrf: nonce, ...props }));
}

/** Errors as pages (never a stack): a GET without a session goes to log-in instead. */
function renderError(ctx: AppContext) {
  return async function renderConsoleError(error: unknown, c: Context<ConsoleEnv>): Promise<Response> {
    const problem = toRpmgateError(error, ctx.log, requestIdOf(c));
    let session: PageContext['session'] | null = null;
    try {
      session = c.get('session') ?? null;
    } catch {
      session = null;
    }
    const page = session ? { session, url: new URL(c.req.url) } : null;
    const response = await render(c, problem.status, errorPage({ page, status: problem.status, title: errorCodes[problem.code].title, detail: problem.message }));
    return response;
  };
}
