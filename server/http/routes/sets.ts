// /api/v1/sets: create, list, show, promote.
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { parsePromoteRequest, promoteSet } from '../../services/promotion.ts';
import { createSet, findSets, getSet, parseCreateSetRequest, type SetDetail } from '../../services/sets.ts';
import type { SetRow } from '../../db/sets.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { readJson } from '../json-body.ts';

// Agents read sets too: `rpmgate-agent check` compares a host with its set's package list.
const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] as const;
// Who may promote depends on the target level (promotionRoles): any token may ask, and promoteSet
// answers a 403 that names the roles allowed for the level asked for.
const askRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] as const;

export function setRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();

  routes.post('/', allow('integ', 'admin'), async (c) => {
    const request = parseCreateSetRequest(await readJson(c, ctx.config.maxJsonBytes));
    const detail = await createSet(ctx, request, c.get('principal')!);
    return c.json(setDetailView(detail), 201);
  });

  routes.get('/', allow(...readRoles), async (c) => {
    const rows = await findSets(ctx.sql, { name: c.req.query('name'), level: c.req.query('level') });
    return c.json(rows.map(setSummaryView));
  });

  routes.get('/:name/:version', allow(...readRoles), async (c) => {
    const detail = await getSet(ctx.sql, c.req.param('name'), c.req.param('version'));
    return c.json(setDetailView(detail));
  });

  routes.post('/:name/:version/promote', allow(...askRoles), async (c) => {
    const request = parsePromoteRequest(await readJson(c, ctx.config.maxJsonBytes));
    const detail = await promoteSet(ctx, c.req.param('name'), c.req.param('version'), request, c.get('principal')!);
    return c.json(setDetailView(detail));
  });

  return routes;
}

export function setSummaryView(row: SetRow) {
  return {
    name: row.name,
    version: row.version,
    id: `${row.name}/${row.version}`,
    level: row.level,
    description: row.description,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

export function setDetailView(detail: SetDetail) {
  return {
    ...setSummaryView(detail.set),
    packages: detail.members.map((member) => member.nevra),
    members: detail.members.map((member) => ({
      nevra: member.nevra,
      name: member.name,
      epoch: member.epoch,
      version: member.version,
      release: member.release,
      arch: member.arch,
      source: member.is_source,
      sha256: member.sha256,
    })),
    history: detail.history.map((step) => ({
      from: step.from_level,
      to: step.to_level,
      by: step.promoted_by,
      at: step.promoted_at.toISOString(),
      comment: step.comment,
    })),
    added: detail.added,
  };
}
