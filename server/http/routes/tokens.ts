// /api/v1/tokens: admins mint tokens; the secret is in the response once and never again.
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { createToken } from '../../services/tokens.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { readJson } from '../json-body.ts';

export function tokenRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.post('/', allow('admin'), async (c) => {
    const body = await readJson(c, ctx.config.maxJsonBytes);
    const created = await createToken(ctx.sql, { role: body.role, name: body.name }, c.get('principal')!);
    return c.json(created, 201);
  });
  return routes;
}
