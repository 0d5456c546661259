// /api/v1/cleanup: what each phase of the cleanup would do as of a date, with the reason for each
// item (the people who make and qualify sets read it; the console shows it), and running it (admin).
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { allow } from '../auth.ts';
import { cleanupPreviewAnswer, cleanupQuery, cleanupRunAnswer, cleanupRunBody } from '../schemas/cleanup.ts';
import { apiRouter, jsonContent, noQuery, optionalJsonRequest } from '../validation.ts';

const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;

export function cleanupRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const preview = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow(...readRoles)],
    request: { query: cleanupQuery },
    responses: { 200: { description: 'pending warnings, what is due, what would be warned or spared, and bytes given back', content: jsonContent(cleanupPreviewAnswer) } },
  });
  routes.openapi(preview, async (c) => {
    const { now, limit } = c.req.valid('query');
    return c.json(await ctx.cleanup.preview(now === undefined ? undefined : new Date(now), limit));
  });

  const run = createRoute({
    method: 'post',
    path: '/run',
    middleware: [allow('admin')],
    request: { query: noQuery, body: optionalJsonRequest(cleanupRunBody) },
    responses: { 200: { description: 'what the run deleted, warned, withdrew and gave back', content: jsonContent(cleanupRunAnswer) } },
  });
  routes.openapi(run, async (c) => c.json(await ctx.cleanup.run()));
  return routes;
}
