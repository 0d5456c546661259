// /api/v1/mirrors: upstream repositories (admin only): add, list, show, remove, sync.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { addMirror, listMirrorViews, removeMirror, showMirror, syncMirrorNamed } from '../../services/mirrors.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { addMirrorBody, mirrorParams } from '../schemas/mirrors.ts';
import { apiRouter, jsonRequest, noQuery } from '../validation.ts';

export function mirrorRoutes(ctx: AppContext) {
  const routes = apiRouter();

  const add = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(addMirrorBody) },
    responses: { 201: { description: 'the mirror, not synced yet' } },
  });
  routes.openapi(add, async (c) => c.json(await addMirror(ctx, c.req.valid('json'), c.get('principal')!), 201));

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow('admin')],
    request: { query: noQuery },
    responses: { 200: { description: 'every mirror with its last sync, package count and cached count' } },
  });
  routes.openapi(list, async (c) => c.json(await listMirrorViews(ctx)));

  const show = createRoute({
    method: 'get',
    path: '/{name}',
    middleware: [allow('admin')],
    request: { params: mirrorParams, query: noQuery },
    responses: { 200: { description: 'one mirror' } },
  });
  routes.openapi(show, async (c) => c.json(await showMirror(ctx, c.req.valid('param').name)));

  const remove = createRoute({
    method: 'delete',
    path: '/{name}',
    middleware: [allow('admin')],
    request: { params: mirrorParams, query: noQuery },
    responses: { 200: { description: 'the removed mirror (adopted packages stay in the store)' } },
  });
  routes.openapi(remove, async (c) => c.json(await removeMirror(ctx, c.req.valid('param').name)));

  const sync = createRoute({
    method: 'post',
    path: '/{name}/sync',
    middleware: [allow('admin')],
    request: { params: mirrorParams, query: noQuery },
    responses: { 200: { description: 'the sync: packages recorded, added and removed; 502/504 when the upstream fails (the previous state is kept)' } },
  });
  routes.openapi(sync, async (c) => c.json(await syncMirrorNamed(ctx, c.req.valid('param').name)));
  return routes;
}
