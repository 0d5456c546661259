// /api/v1/tokens: admins mint tokens; the secret is in the response once and never again.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { createToken } from '../../services/tokens.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { createTokenBody } from '../schemas/tokens.ts';
import { apiRouter, jsonRequest, noQuery } from '../validation.ts';

export function tokenRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const create = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(createTokenBody) },
    responses: { 201: { description: 'the token (shown once), its role and name' } },
  });
  routes.openapi(create, async (c) => {
    const created = await createToken(ctx.sql, c.req.valid('json'), c.get('principal')!);
    return c.json(created, 201);
  });
  return routes;
}
