// The OpenAPI 3.1 document of /api/v1, generated from the registry that @hono/zod-openapi fills as the
// routes are declared (the same zod schemas they validate with), then completed with what every route
// shares: bearer authentication and the problem+json answers (RFC 9457) it may give.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorCodes } from '../../common/errors.ts';
import { rpmgateVersion } from '../cli/version.ts';
import type { HttpEnv } from '../http/env.ts';
import { apiRouter, noQuery } from '../http/validation.ts';
import { problemTypeBase } from '../http/problem.ts';

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type Operation = { responses?: Record<string, unknown>; security?: unknown[] };

/** The problem document every error answer carries (server/http/problem.ts). */
const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri', description: `${problemTypeBase}CODE` },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.keys(errorCodes) },
    requestId: { type: 'string', description: 'the X-Request-Id of the request, to find its log lines' },
    invalidParams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'in', 'reason'],
        properties: { name: { type: 'string' }, in: { type: 'string', enum: ['path', 'query', 'header', 'body'] }, reason: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
} as const;

// The answers any route may give besides its own: input refused, token missing or refused, role not
// allowed, and the server's own failures. Routes list their specific ones (404, 409, 422...).
const sharedProblems: Record<string, string> = {
  '400': 'the input does not fit the schema (invalidParams names each field)',
  '401': 'no token, or a token that is unknown or revoked',
  '403': 'the token\'s role may not do this',
  '500': 'an internal error (logged with the request id)',
  '503': 'the database is unavailable',
};

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** Paths the document leaves without the bearer requirement (they answer anonymously). */
const anonymousPaths = new Set(['/api/v1/openapi.json']);

export function openApiDocument(app: OpenAPIHono<HttpEnv>): Document {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'rpmgate API',
      version: rpmgateVersion,
      description: 'dnf/yum repository server for qualified, immutable package sets. Errors are application/problem+json (RFC 9457).',
    },
    security: [{ bearer: [] }],
  });
  document.components ??= {};
  document.components.securitySchemes = { bearer: { type: 'http', scheme: 'bearer', description: 'a token from POST /api/v1/tokens (or RPMGATE_ADMIN_TOKEN)' } };
  document.components.schemas = { ...document.components.schemas, Problem: problemSchema as never };
  for (const [pathName, item] of Object.entries(document.paths ?? {})) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head'] as const) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      operation.responses ??= {};
      for (const [status, description] of Object.entries(sharedProblems)) {
        operation.responses[status] ??= { description, content: problemContent };
      }
      operation.responses.default ??= { description: 'any other error, as a problem document', content: problemContent };
      if (anonymousPaths.has(pathName)) operation.security = [];
    }
  }
  return document;
}

/**
 * GET /openapi.json (mounted under /api/v1): the document of `app`, made once at the first request
 * (every route is declared by then). Anonymous: it is the API's public shape, no data.
 */
export function openApiRoutes(app: () => OpenAPIHono<HttpEnv>) {
  const routes = apiRouter();
  let document: string | null = null;
  const route = createRoute({
    method: 'get',
    path: '/openapi.json',
    request: { query: noQuery },
    responses: {
      200: { description: 'this document (OpenAPI 3.1)', content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } } },
    },
  });
  routes.openapi(route, (c) => {
    document ??= JSON.stringify(openApiDocument(app()));
    return c.body(document, 200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }) as never;
  });
  return routes;
}
