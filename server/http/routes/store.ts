// /api/v1/store: the package store's health (admin): which rows lost their blob, which blobs no row names.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { checkStore } from '../../services/store-fsck.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { fsckBody } from '../schemas/store.ts';
import { apiRouter, noQuery, optionalJsonRequest } from '../validation.ts';

export function storeRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const fsck = createRoute({
    method: 'post',
    path: '/fsck',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: optionalJsonRequest(fsckBody) },
    responses: { 200: { description: 'rows whose blob is missing or damaged, and blobs no row names (removed with repair when older than an hour)' } },
  });
  routes.openapi(fsck, async (c) => {
    const body = c.req.valid('json') ?? {};
    return c.json(await checkStore(ctx, { repair: body.repair === true }));
  });
  return routes;
}
