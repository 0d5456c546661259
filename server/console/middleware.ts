// The console's middleware: security headers on every answer, the Server-Timing of each page, the
// session read from its cookie, the log-in gate, the CSRF check of every form POST, and a size limit
// on form bodies.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import type { ConsoleEnv } from './env.ts';
import { csrfMatches, readSession } from './session.ts';

export const sessionCookie = 'rpmgate_session';
/** Forms are a few fields: 16 KiB is plenty. */
const maxFormBytes = 16 * 1024;

/** No framing, no inline script or style, nothing from elsewhere; pages are private and never cached. */
export function securityHeaders(): MiddlewareHandler<ConsoleEnv> {
  return async function setSecurityHeaders(c, next) {
    await next();
    const headers = c.res.headers;
    headers.set(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    headers.set('x-content-type-options', 'nosniff');
    headers.set('x-frame-options', 'DENY');
    headers.set('referrer-policy', 'same-origin');
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
  };
}

/** How long the server spent on the answer (Server-Timing: app;dur=ms), what bench:console reads. */
export function serverTiming(): MiddlewareHandler<ConsoleEnv> {
  return async function timeAnswer(c, next) {
    const started = performance.now();
    await next();
    c.res.headers.set('server-timing', `app;dur=${(performance.now() - started).toFixed(1)}`);
  };
}

/** Puts the session the cookie names (or null) on the context. */
export function readConsoleSession(ctx: AppContext): MiddlewareHandler<ConsoleEnv> {
  return async function findSession(c, next) {
    const secret = getCookie(c, sessionCookie);
    const session = secret ? await readSession(ctx, secret) : null;
    c.set('session', session);
    c.set('principal', session?.principal ?? null);
    await next();
  };
}

/** Pages need a session: a GET without one goes to the log-in form (and comes back after), a POST is refused. */
export function requireSession(): MiddlewareHandler<ConsoleEnv> {
  return async function gate(c, next) {
    if (c.get('session')) return next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      const url = new URL(c.req.url);
      return c.redirect(`/ui/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    throw new RpmgateError('unauthorized', 'your session has ended: log in again');
  };
}

/**
 * A form POST must come from this console: not from another site (Origin and Sec-Fetch-Site, when the
 * browser sends them), and carrying the session's CSRF token.
 */
export function checkFormOrigin(c: Context): void {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new RpmgateError('forbidden', 'this form was sent from another site: refused');
  }
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== 'null') {
    const host = c.req.header('host');
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      // refused below
    }
    if (originHost === null || originHost !== host) throw new RpmgateError('forbidden', 'this form was sent from another site: refused');
  }
}

export function requireCsrf(submitted: unknown, expected: string): void {
  if (!csrfMatches(expected, submitted)) {
    throw new RpmgateError('forbidden', 'this form is missing its security token or it does not match your session: reload the page and try again');
  }
}

export function limitForm(): MiddlewareHandler<ConsoleEnv> {
  return bodyLimit({
    maxSize: maxFormBytes,
    onError: () => {
      throw new RpmgateError('payload_too_large', `a console form is at most ${maxFormBytes} bytes`);
    },
  });
}

/** Reads a urlencoded form body; anything else is refused. */
export async function readFormBody(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new RpmgateError('bad_request', 'console forms are sent as application/x-www-form-urlencoded');
  }
  return (await c.req.parseBody({ all: true })) as Record<string, unknown>;
}

/** Whether the browser reached us over TLS (directly, or through a proxy that says so, or by configuration). */
export function isTls(c: Context, baseUrl: string | null): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if ((c.req.header('x-forwarded-proto') ?? '').split(',')[0]?.trim() === 'https') return true;
  return baseUrl?.startsWith('https:') ?? false;
}
