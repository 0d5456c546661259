// Operators' routes: /readyz (database reachable, migrations applied, signing key loaded) and
// /metrics (Prometheus text format, bearer RPMGATE_METRICS_TOKEN when set); and the middleware that
// tells the metrics and the access log which route template answered, and for whom.
import { timingSafeEqual } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Hono, type MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { defaultMigrationsDir } from '../db/migrate.ts';
import type { HttpEnv } from '../http/env.ts';
import { routeSymbol } from './metrics.ts';
import { recordPrincipal } from './request-log.ts';

export function recordRoute(): MiddlewareHandler<HttpEnv> {
  return async function recordRoute(c, next) {
    try {
      await next();
    } finally {
      const outgoing = c.env?.outgoing as unknown as Record<symbol, unknown> | undefined;
      if (outgoing) outgoing[routeSymbol] = routePath(c);
      recordPrincipal(c, c.get('principal')?.name);
    }
  };
}

export function opsRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    try {
      const [row] = await ctx.sql<{ version: number | null }[]>`select max(version)::int as version from schema_migrations`;
      checks.database = 'ok';
      checks.migrations = (row?.version ?? 0) >= (await newestMigration()) ? 'ok' : 'pending';
    } catch {
      checks.database = 'unavailable';
      checks.migrations = 'unknown';
    }
    try {
      ctx.keyring.current();
      checks.key = 'ok';
    } catch {
      checks.key = 'missing';
    }
    const ready = Object.values(checks).every((value) => value === 'ok');
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });
  routes.get('/metrics', async (c) => {
    const token = ctx.config.metricsToken;
    if (token !== null && !bearerMatches(c.req.header('authorization'), token)) {
      throw new RpmgateError('unauthorized', '/metrics needs "Authorization: Bearer" with RPMGATE_METRICS_TOKEN');
    }
    return c.body(await ctx.metrics.exposition(), 200, { 'content-type': ctx.metrics.contentType, 'cache-control': 'no-store' });
  });
  return routes;
}

let newest: number | null = null;
async function newestMigration(): Promise<number> {
  newest ??= Math.max(0, ...(await readdir(defaultMigrationsDir)).map((name) => Number(/^(\d{4})_.*\.sql$/.exec(name)?.[1] ?? 0)));
  return newest;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
