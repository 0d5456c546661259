// /api/v1/components/{name}/usage: which hosts run which versions of a package, and which sets hold it.
import { Hono } from 'hono';
import { formatNevra } from '../../../common/rpm/nevra.ts';
import type { AppContext } from '../../context.ts';
import { componentUsage } from '../../services/components.ts';
import { evrString } from '../../services/conformance.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { fleetReadRoles, integerQuery } from './hosts.ts';

export function componentRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.get('/:name/usage', allow(...fleetReadRoles), async (c) => {
    const usage = await componentUsage(ctx.sql, c.req.param('name'), {
      hostsPerVersion: integerQuery(c.req.query('limit'), 100, 0, 100_000, 'limit'),
    });
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
