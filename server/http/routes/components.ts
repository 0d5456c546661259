// /api/v1/components/{name}/usage: which hosts run which versions of a package, and which sets hold it.
import { createRoute } from '@hono/zod-openapi';
import { formatNevra } from '../../../common/rpm/nevra.ts';
import type { AppContext } from '../../context.ts';
import { componentUsage } from '../../services/components.ts';
import { evrString } from '../../services/conformance.ts';
import { allow } from '../auth.ts';
import { componentParams, componentUsage as componentUsageAnswer, componentUsageQuery } from '../schemas/hosts.ts';
import { apiRouter, jsonContent } from '../validation.ts';
import { fleetReadRoles } from './hosts.ts';

export function componentRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const usageRoute = createRoute({
    method: 'get',
    path: '/{name}/usage',
    middleware: [allow(...fleetReadRoles)],
    request: { params: componentParams, query: componentUsageQuery },
    responses: { 200: { description: 'the versions hosts run (with up to limit hosts each) and the sets that hold the package', content: jsonContent(componentUsageAnswer) } },
  });
  routes.openapi(usageRoute, async (c) => {
    const usage = await componentUsage(ctx.sql, c.req.valid('param').name, { hostsPerVersion: c.req.valid('query').limit });
    return c.json({
      name: usage.name,
      hostCount: usage.hostCount,
      versions: usage.versions.map(({ tuple, hostCount, hosts }) => ({
        nevra: formatNevra(tuple),
        evr: evrString(tuple),
        epoch: tuple.epoch,
        version: tuple.version,
        release: tuple.release,
        arch: tuple.arch,
        hostCount,
        hosts,
      })),
      sets: usage.sets.map((row) => ({
        set: `${row.set_name}/${row.set_version}`,
        level: row.level,
        nevra: row.nevra,
        evr: evrString(row),
        arch: row.arch,
        source: row.is_source,
        hostCount: row.host_count,
      })),
    });
  });
  return routes;
}
