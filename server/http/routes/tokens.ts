// /api/v1/tokens: admins mint tokens; the secret is in the response once and never again.
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { createToken, listTokenSummaries, revokeToken } from '../../services/tokens.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { emptyBody } from '../schemas/keys.ts';
import { createdToken, createTokenBody, tokenParams, tokenSummary } from '../schemas/tokens.ts';
import { z } from '@hono/zod-openapi';
import { apiRouter, jsonRequest, noQuery, optionalJsonRequest } from '../validation.ts';

export function tokenRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const create = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(createTokenBody) },
    responses: { 201: { description: 'the token (shown once), its role and name', content: { 'application/json': { schema: createdToken } } } },
  });
  routes.openapi(create, async (c) => {
    const created = await createToken(ctx.sql, c.req.valid('json'), c.get('principal')!);
    ctx.log.info('token created', { name: created.name, role: created.role, by: c.get('principal')!.name });
    return c.json(created, 201);
  });

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow('admin')],
    request: { query: noQuery },
    responses: { 200: { description: 'every token (never its secret), newest first, revoked ones with their date', content: { 'application/json': { schema: z.array(tokenSummary) } } } },
  });
  routes.openapi(list, async (c) => c.json(await listTokenSummaries(ctx.sql)));

  const revoke = createRoute({
    method: 'post',
    path: '/{id}/revoke',
    middleware: [allow('admin')],
    request: { params: tokenParams, query: noQuery, body: optionalJsonRequest(emptyBody) },
    responses: { 200: { description: 'the revoked token; requests presenting it are refused from now on', content: { 'application/json': { schema: tokenSummary } } } },
  });
  routes.openapi(revoke, async (c) => {
    const revoked = await revokeToken(ctx.sql, Number(c.req.valid('param').id));
    ctx.log.info('token revoked', { id: revoked.id, name: revoked.name, role: revoked.role, by: c.get('principal')!.name });
    return c.json(revoked);
  });
  return routes;
}
