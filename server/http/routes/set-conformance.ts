// /api/v1/sets/{name}/{version}/conformance: every host assigned to a set and how it drifts, from the
// summaries stored at report time. Mounted beside the /sets router: it owns only this three-segment path.
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { setConformance } from '../../services/conformance.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { booleanQuery, fleetReadRoles, hostDriftView } from './hosts.ts';

export function setConformanceRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.get('/:name/:version/conformance', allow(...fleetReadRoles), async (c) => {
    const strict = booleanQuery(c.req.query('strict'), 'strict') ?? false;
    const { set, hosts } = await setConformance(ctx.sql, c.req.param('name'), c.req.param('version'));
    const views = hosts.map((host) => hostDriftView(host, strict));
    return c.json({
      set: `${set.name}/${set.version}`,
      level: set.level,
      summary: {
        hosts: views.length,
        conforming: views.filter((host) => host.status === 'conforming').length,
        drifting: views.filter((host) => host.status === 'drifting').length,
      },
      hosts: views,
    });
  });
  return routes;
}
