// The HTTP application: middleware (allowed hosts, URLs that decode), the API routers under /api/v1,
// repositories under /repo, the public signing key under /keys, the web console under /ui, the hosts'
// bootstrap script, health.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import { consoleRoutes } from '../console/routes.ts';
import type { AppContext } from '../context.ts';
import { authenticate } from './auth.ts';
import type { HttpEnv } from './env.ts';
import { hostPolicy, refuseUnknownHost } from './host-check.ts';
import { onError } from './problem.ts';
import { bootstrapRoutes } from './routes/bootstrap.ts';
import { cleanupRoutes } from './routes/cleanup.ts';
import { componentRoutes } from './routes/components.ts';
import { exceptionRoutes, recheckRoutes } from './routes/exceptions.ts';
import { hostRoutes } from './routes/hosts.ts';
import { keyRoutes, publicKeyRoutes } from './routes/keys.ts';
import { mirrorFetchRoute, mirrorRoutes } from './routes/mirrors.ts';
import { packageRoutes } from './routes/packages.ts';
import { repoRoutes } from './routes/repo.ts';
import { setConformanceRoutes } from './routes/set-conformance.ts';
import { setRoutes } from './routes/sets.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { refuseMalformedUrl } from './url-guard.ts';
import { apiRouter } from './validation.ts';
import { opsRoutes, recordRoute } from '../ops/http.ts';
import { openApiRoutes } from '../ops/openapi.ts';

/** The app; its openAPIRegistry holds every API route with the schemas it validates with. */
export function createApp(ctx: AppContext): OpenAPIHono<HttpEnv> {
  const app = apiRouter();
  app.onError(onError(ctx.log, ctx.metrics));
  app.notFound((c) => {
    throw new RpmgateError('no_route', `nothing at ${c.req.method} ${c.req.path}`);
  });
  app.use('*', recordRoute());
  app.use('*', refuseUnknownHost(hostPolicy(ctx.config)));
  app.use('*', refuseMalformedUrl());

  app.get('/healthz', async (c) => {
    try {
      await ctx.sql`select 1`;
      return c.json({ status: 'ok' });
    } catch {
      return c.json({ status: 'database unavailable' }, 503);
    }
  });

  app.route('/', opsRoutes(ctx));

  const api = apiRouter();
  api.use('*', authenticate(ctx, 'api'));
  api.route('/', openApiRoutes(() => app));
  api.route('/packages', packageRoutes(ctx));
  api.route('/sets', setRoutes(ctx));
  api.route('/sets', setConformanceRoutes(ctx));
  api.route('/hosts', hostRoutes(ctx));
  api.route('/components', componentRoutes(ctx));
  api.route('/tokens', tokenRoutes(ctx));
  api.route('/keys', keyRoutes(ctx));
  api.route('/exceptions', exceptionRoutes(ctx));
  api.route('/checks', recheckRoutes(ctx));
  api.route('/cleanup', cleanupRoutes(ctx));
  api.route('/mirrors/fetch', mirrorFetchRoute(ctx));
  api.route('/mirrors', mirrorRoutes(ctx));
  app.route('/api/v1', api);

  const repo = new Hono<HttpEnv>();
  repo.use('*', authenticate(ctx, 'repo'));
  repo.route('/', repoRoutes(ctx));
  app.route('/repo', repo);
  // The public key is public: hosts fetch it before they have any token.
  app.route('/keys', publicKeyRoutes(ctx));
  // The web console: its own session cookie and CSRF tokens (server/console).
  app.route('/ui', consoleRoutes(ctx));
  app.route('/', bootstrapRoutes(ctx));
  return app;
}
