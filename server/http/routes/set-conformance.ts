// /api/v1/sets/{name}/{version}/conformance: every host assigned to a set and how it drifts, from the
// summaries stored at report time. Mounted beside the /sets router: it owns only this three-segment path.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { setConformance } from '../../services/conformance.ts';
import { allow } from '../auth.ts';
import { setConformanceQuery, setParams } from '../schemas/sets.ts';
import { setConformanceAnswer } from '../schemas/hosts.ts';
import { apiRouter, jsonContent } from '../validation.ts';
import { fleetReadRoles, hostDriftView } from './hosts.ts';

export function setConformanceRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const conformance = createRoute({
    method: 'get',
    path: '/{name}/{version}/conformance',
    middleware: [allow(...fleetReadRoles)],
    request: { params: setParams, query: setConformanceQuery },
    responses: { 200: { description: 'every host assigned to the set and how it drifts', content: jsonContent(setConformanceAnswer) } },
  });
  routes.openapi(conformance, async (c) => {
    const { name, version } = c.req.valid('param');
    const { strict } = c.req.valid('query');
    const { set, hosts } = await setConformance(ctx.sql, name, version);
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
