// /api/v1/exceptions: entry-check exceptions. Granting and removing: admin, integ, release_manager
// (INTERFACE.md); every grant and removal is audited (check_exception_audit). Reading: any reader.
import { createRoute } from '@hono/zod-openapi';
import { RpmgateError } from '../../../common/errors.ts';
import { exceptionGrantRoles, exceptionState, expiryOf, grantException, listExceptions, removeException, type ExceptionRow } from '../../checks/exceptions.ts';
import { recheckStore } from '../../checks/recheck.ts';
import type { AppContext } from '../../context.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { z } from '@hono/zod-openapi';
import { exceptionAnswer, exceptionParams, grantExceptionBody, recheckAnswer, recheckBody } from '../schemas/exceptions.ts';
import { apiRouter, jsonContent, jsonRequest, noQuery } from '../validation.ts';

const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;
const grantRoles = exceptionGrantRoles;

export function exceptionRoutes(ctx: AppContext) {
  const routes = apiRouter();

  const grant = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow(...grantRoles), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(grantExceptionBody) },
    responses: { 201: { description: 'the exception, active from now', content: jsonContent(exceptionAnswer) } },
  });
  routes.openapi(grant, async (c) => {
    const body = c.req.valid('json');
    const expires = expiryOf(body.expires, new Date());
    const row = await grantException(ctx.sql, { ...body, expires }, c.get('principal')!.name);
    return c.json(exceptionView(row), 201);
  });

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow(...readRoles)],
    request: { query: noQuery },
    responses: { 200: { description: 'exceptions not removed, newest first, each with its state (active or expired)', content: jsonContent(z.array(exceptionAnswer)) } },
  });
  routes.openapi(list, async (c) => c.json((await listExceptions(ctx.sql)).map(exceptionView)));

  const remove = createRoute({
    method: 'delete',
    path: '/{id}',
    middleware: [allow(...grantRoles)],
    request: { params: exceptionParams, query: noQuery },
    responses: { 200: { description: 'the removed exception', content: jsonContent(exceptionAnswer) } },
  });
  routes.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const row = await removeException(ctx.sql, id, c.get('principal')!.name);
    if (!row) throw new RpmgateError('not_found', `no exception ${id} (or it was removed already)`);
    return c.json(exceptionView(row));
  });
  return routes;
}

/** /api/v1/checks: the entry checks run again over the store (rpmgate check --all), admin only. */
export function recheckRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const run = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow('admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(recheckBody) },
    responses: { 200: { description: 'what the checks say today: packages that would now be refused; nothing is deleted', content: jsonContent(recheckAnswer) } },
  });
  routes.openapi(run, async (c) => c.json(await recheckStore(ctx, { dryRun: c.req.valid('json').dryRun === true })));
  return routes;
}

export function exceptionView(row: ExceptionRow) {
  return {
    id: Number(row.id),
    check: row.check_id,
    package: row.package_glob,
    path: row.path_glob,
    reason: row.reason,
    grantedBy: row.granted_by,
    grantedAt: row.granted_at.toISOString(),
    expires: row.expires_at?.toISOString() ?? null,
    untilVersion: row.until_version,
    state: exceptionState(row, new Date()),
    removedBy: row.removed_by,
    removedAt: row.removed_at?.toISOString() ?? null,
  };
}
