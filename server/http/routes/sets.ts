// /api/v1/sets: create, list, show, promote, delete.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { parsePromoteRequest, promoteSet } from '../../services/promotion.ts';
import { createSet, findSets, getSet, parseCreateSetRequest, type SetDetail } from '../../services/sets.ts';
import type { SetRow } from '../../db/sets.ts';
import type { Level } from '../../../common/roles.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { createSetBody, deletedSet, deleteQuery, listSetsQuery, promoteBody, setDetail, setParams, setSummary } from '../schemas/sets.ts';
import { deleteSetByName } from '../../services/user-deletion.ts';
import { z } from '@hono/zod-openapi';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
import { apiRouter, jsonRequest, noQuery } from '../validation.ts';

// Agents read sets too: `rpmgate-agent check` compares a host with its set's package list.
const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] as const;
// Who may promote depends on the target level (promotionRoles): any token may ask, and promoteSet
// answers a 403 that names the roles allowed for the level asked for.
const askRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent'] as const;

export function setRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const jsonLimit = jsonBody(ctx.config.maxJsonBytes);

  const create = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('integ', 'admin'), jsonLimit],
    request: { query: noQuery, body: jsonRequest(createSetBody) },
    responses: { 201: { description: 'the new set with its members and what resolution added', content: json(setDetail) } },
  });
  routes.openapi(create, async (c) => {
    const detail = await createSet(ctx, parseCreateSetRequest(c.req.valid('json')), c.get('principal')!);
    return c.json(setDetailView(detail), 201);
  });

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow(...readRoles)],
    request: { query: listSetsQuery },
    responses: { 200: { description: 'the sets, by name then newest version first', content: json(z.array(setSummary)) } },
  });
  routes.openapi(list, async (c) => {
    const rows = await findSets(ctx.sql, c.req.valid('query'));
    return c.json(rows.map(setSummaryView));
  });

  const show = createRoute({
    method: 'get',
    path: '/{name}/{version}',
    middleware: [allow(...readRoles)],
    request: { params: setParams, query: noQuery },
    responses: { 200: { description: 'the set with its members and promotion history', content: json(setDetail) } },
  });
  routes.openapi(show, async (c) => {
    const { name, version } = c.req.valid('param');
    return c.json(setDetailView(await getSet(ctx.sql, name, version)));
  });

  const promote = createRoute({
    method: 'post',
    path: '/{name}/{version}/promote',
    middleware: [allow(...askRoles), jsonLimit],
    request: { params: setParams, query: noQuery, body: jsonRequest(promoteBody) },
    responses: { 200: { description: 'the set at its new level', content: json(setDetail) } },
  });
  routes.openapi(promote, async (c) => {
    const { name, version } = c.req.valid('param');
    const request = parsePromoteRequest(c.req.valid('json'));
    const detail = await promoteSet(ctx, name, version, request, c.get('principal')!);
    ctx.log.info('set promoted', { set: `${name}/${version}`, level: detail.set.level, by: c.get('principal')!.name, ...(request.comment ? { comment: request.comment } : {}) });
    return c.json(setDetailView(detail));
  });

  // Deleting is an administrator's act (the cleanup does the rest): never a set that was released.
  const remove = createRoute({
    method: 'delete',
    path: '/{name}/{version}',
    middleware: [allow('admin')],
    request: { params: setParams, query: deleteQuery },
    responses: { 200: { description: 'the set is gone', content: json(deletedSet) } },
  });
  routes.openapi(remove, async (c) => {
    const { name, version } = c.req.valid('param');
    const { comment } = c.req.valid('query');
    const by = c.get('principal')!;
    const deleted = await deleteSetByName(ctx, name, version, by, comment);
    ctx.log.info('set deleted', { set: deleted.deleted, level: deleted.level, by: by.name, ...(comment ? { comment } : {}) });
    return c.json(deleted);
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
      // The schema's level check (sql/0001) keeps these to the level names.
      from: step.from_level as Level,
      to: step.to_level as Level,
      by: step.promoted_by,
      at: step.promoted_at.toISOString(),
      comment: step.comment,
    })),
    added: detail.added,
    /** Requirements left unresolved at creation (--allow-unresolved), for the record. */
    unresolved: detail.unresolved,
    complete: detail.pending.length === 0,
    pending: detail.pending,
  };
}
