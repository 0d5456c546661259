// /api/v1/mirrors: upstream repositories (admin only): add, list, show, remove, sync.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { addMirror, listMirrorViews, removeMirror, showMirror, syncMirrorNamed } from '../../services/mirrors.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { addMirrorBody, fetchMirrorPackagesBody, fetchReport, mirrorParams, mirrorView, syncResult } from '../schemas/mirrors.ts';
import { fetchFromMirrors } from '../../mirrors/adopt.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { z } from '@hono/zod-openapi';
import { apiRouter, jsonContent, jsonRequest, noQuery } from '../validation.ts';

export function mirrorRoutes(ctx: AppContext) {
  const routes = apiRouter();

  const add = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(addMirrorBody) },
    responses: { 201: { description: 'the mirror, not synced yet', content: jsonContent(mirrorView) } },
  });
  routes.openapi(add, async (c) => c.json(await addMirror(ctx, c.req.valid('json'), c.get('principal')!), 201));

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow('admin')],
    request: { query: noQuery },
    responses: { 200: { description: 'every mirror with its last sync, package count and cached count', content: jsonContent(z.array(mirrorView)) } },
  });
  routes.openapi(list, async (c) => c.json(await listMirrorViews(ctx)));

  const show = createRoute({
    method: 'get',
    path: '/{name}',
    middleware: [allow('admin')],
    request: { params: mirrorParams, query: noQuery },
    responses: { 200: { description: 'one mirror', content: jsonContent(mirrorView) } },
  });
  routes.openapi(show, async (c) => c.json(await showMirror(ctx, c.req.valid('param').name)));

  const remove = createRoute({
    method: 'delete',
    path: '/{name}',
    middleware: [allow('admin')],
    request: { params: mirrorParams, query: noQuery },
    responses: { 200: { description: 'the removed mirror (adopted packages stay in the store)', content: jsonContent(mirrorView) } },
  });
  routes.openapi(remove, async (c) => c.json(await removeMirror(ctx, c.req.valid('param').name)));

  const sync = createRoute({
    method: 'post',
    path: '/{name}/sync',
    middleware: [allow('admin')],
    request: { params: mirrorParams, query: noQuery },
    responses: { 200: { description: 'the sync: packages recorded, added and removed; 502/504 when the upstream fails (the previous state is kept)', content: jsonContent(syncResult) } },
  });
  routes.openapi(sync, async (c) => c.json(await syncMirrorNamed(ctx, c.req.valid('param').name)));
  return routes;
}

/** POST /api/v1/mirrors/fetch: adopt upstream packages by NEVRA (rpmgate mirror fetch), admin only. */
export function mirrorFetchRoute(ctx: AppContext) {
  const routes = apiRouter();
  const fetchPackages = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(fetchMirrorPackagesBody) },
    responses: {
      200: { description: 'every package adopted (or already stored)', content: jsonContent(fetchReport) },
      422: { description: 'some were unknown or refused (listed in the problem, as in the report)' },
    },
  });
  routes.openapi(fetchPackages, async (c) => {
    const report = await fetchFromMirrors(ctx, c.req.valid('json').packages, c.get('principal')!);
    if (report.unknown.length > 0 || report.refused.length > 0) {
      const parts = [
        ...(report.unknown.length > 0 ? [`not in any mirror: ${report.unknown.slice(0, 10).join(', ')}`] : []),
        ...report.refused.slice(0, 5).map((r) => `${r.nevra} refused: ${r.reason}`),
      ];
      throw new RpmgateError('unprocessable', parts.join('; '), { ...report });
    }
    return c.json(report, 200);
  });
  return routes;
}
