// The HTTP application: middleware, the API routers under /api/v1, repositories under /repo, health.
import { Hono } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { AppContext } from '../context.ts';
import { authenticate } from './auth.ts';
import type { HttpEnv } from './env.ts';
import { onError } from './problem.ts';
import { packageRoutes } from './routes/packages.ts';
import { repoRoutes } from './routes/repo.ts';
import { setRoutes } from './routes/sets.ts';
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
  api.route('/sets', setRoutes(ctx));
  api.route('/tokens', tokenRoutes(ctx));
  app.route('/api/v1', api);

  const repo = new Hono<HttpEnv>();
  repo.use('*', authenticate(ctx));
  repo.route('/', repoRoutes(ctx));
  app.route('/repo', repo);
  return app;
}
