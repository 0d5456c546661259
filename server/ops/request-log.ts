// Request ids and access lines. Each request gets an id: the client's X-Request-Id when it is a short
// token (so a proxy's id follows the request through), else a new UUID; it is echoed in the X-Request-Id
// answer header, in problem documents and in the log lines the request causes. One access line per
// request: method, route template, status, duration, principal name (never a token). The warm answers
// given before the app (server/http/repomd-fast-path.ts) get the header, and an access line only at
// debug level: they are the bulk of dnf's traffic, counted by /metrics, and must stay cheap.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Logger } from '../log.ts';
import { routeSymbol, warmSymbol } from './metrics.ts';

export const requestIdSymbol = Symbol.for('rpmgate.requestId');
export const principalSymbol = Symbol.for('rpmgate.principal');

/** RFC 9110 token characters, at most 128 of them: nothing that could break a log line or a header. */
const saneRequestId = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;

type Tagged = Record<symbol, unknown>;

/** The client's X-Request-Id when it is a sane one, else a new id. */
export function requestIdFrom(given: string | string[] | null | undefined): string {
  return typeof given === 'string' && saneRequestId.test(given) ? given : randomUUID();
}

/** The request's id (accepted or made), set on the request and in the answer's X-Request-Id. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdFrom(req.headers['x-request-id']);
  (req as unknown as Tagged)[requestIdSymbol] = id;
  res.setHeader('x-request-id', id);
  return id;
}

/** The id of the request a Hono handler answers (undefined when the app is asked without a server, as tests do). */
export function requestIdOf(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: Tagged } | undefined)?.incoming;
  const id = incoming?.[requestIdSymbol];
  return typeof id === 'string' ? id : undefined;
}

/** Remembers who asked (the principal's name) for the access line. */
export function recordPrincipal(c: Context, name: string | undefined): void {
  const outgoing = (c.env as { outgoing?: Tagged } | undefined)?.outgoing;
  if (outgoing && name !== undefined) outgoing[principalSymbol] = name;
}

export interface AccessLog {
  /** Writes the request's access line when its answer is finished. */
  observe(req: IncomingMessage, res: ServerResponse, startedMs: number): void;
  /** Whether the warm path's answers get access lines (debug level). */
  readonly warmLines: boolean;
  /** The access line of a request answered on the warm socket (server/http/warm-socket.ts), at debug level. */
  warm(fields: { requestId: string; method: string; route: string; status: number; durationMs: number }): void;
}

export function accessLog(log: Logger): AccessLog {
  return {
    warmLines: log.enabled('debug'),
    warm(fields) {
      log.debug('request', { ...fields, durationMs: Math.round(fields.durationMs * 1000) / 1000 });
    },
    observe(req, res, startedMs) {
      res.once('finish', () => {
        const tags = res as unknown as Tagged;
        const route = typeof tags[routeSymbol] === 'string' ? tags[routeSymbol] : 'unmatched';
        const fields: Record<string, unknown> = {
          requestId: (req as unknown as Tagged)[requestIdSymbol],
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - startedMs) * 1000) / 1000,
        };
        if (tags[principalSymbol] !== undefined) fields.principal = tags[principalSymbol];
        if (tags[warmSymbol] === true) log.debug('request', fields);
        else log.info('request', fields);
      });
    },
  };
}
