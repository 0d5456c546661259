// The HTTP application: middleware, the API routers under /api/v1, repositories under /repo, health.
import { Hono } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { authenticate } from './auth.ts';
import type { HttpEnv } from './env.ts';
import { onError } from './problem.ts';
import { packageRoutes } from './routes/packages.ts';
import { tokenRoutes } from './routes/tokens.ts';

export function createApp(ctx: AppContext): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.onError(onError(ctx.log));
  app.notFound((c) => {
    throw new RpmgateError('not_found', `nothing at ${c.req.method} ${c.req.path}`);
  });

  app.get('/healthz', async (c) => {
    try {
      await ctx.sql`select 1`;
      return c.json({ status: 'ok' });
    } catch {
      return c.json({ status: 'database unavailable' }, 503);
    }
  });

  const api = new Hono<HttpEnv>();
  api.use('*', authenticate(ctx));
  api.route('/packages', packageRoutes(ctx));
  api.route('/tokens', tokenRoutes(ctx));
  app.route('/api/v1', api);
  return app;
}
