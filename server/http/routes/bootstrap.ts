// GET /bootstrap.sh?set=NAME/VERSION: the script that takes a new host from nothing to enrolled,
// configured, installed and reporting (services/bootstrap.ts). Public, like /keys/rpmgate.asc: the host
// has no token yet, and the script holds no secret (the enrollment token stays on the host).
import { Hono } from 'hono';
import { RpmgateError } from '../../../common/errors.ts';
import type { AppContext } from '../../context.ts';
import { renderBootstrapScript } from '../../services/bootstrap.ts';
import type { HttpEnv } from '../env.ts';

export function bootstrapRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.on(['GET', 'HEAD'], '/bootstrap.sh', async (c) => {
    const queries = c.req.queries();
    const unknown = Object.keys(queries).filter((name) => name !== 'set');
    if (unknown.length > 0) throw new RpmgateError('bad_request', `unknown query parameter ${unknown[0]}: only set=NAME/VERSION`);
    const sets = queries.set ?? [];
    if (sets.length !== 1) throw new RpmgateError('bad_request', 'give the set once: /bootstrap.sh?set=NAME/VERSION');
    const script = await renderBootstrapScript(ctx, { set: sets[0]!, baseUrl: ctx.config.baseUrl ?? new URL(c.req.url).origin });
    return c.body(script, 200, { 'content-type': 'text/x-shellscript; charset=utf-8', 'cache-control': 'no-store' });
  });
  return routes;
}
