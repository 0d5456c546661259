// Request validation. Every API route is declared with createRoute (@hono/zod-openapi): its path
// parameters, query and JSON body as zod schemas, the declarations that also describe the API
// (OpenAPI 3.1). Whatever does not fit is a 400 problem naming each field and what it expected.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { RpmgateError } from '../../common/errors.ts';
import type { HttpEnv } from './env.ts';

export type InputPlace = 'path' | 'query' | 'header' | 'body';

/** One field that failed: RFC 9457's "invalid-params", with where the field was. */
export interface InvalidParam {
  name: string;
  in: InputPlace;
  reason: string;
}

/** A router whose routes validate what they declare, and refuse the rest as a bad_request problem. */
export function apiRouter(): OpenAPIHono<HttpEnv> {
  return new OpenAPIHono<HttpEnv>({ defaultHook: refuseInvalidInput });
}

function refuseInvalidInput(result: { success: boolean; error?: z.ZodError; target: string }): void {
  if (result.success || !result.error) return;
  throw invalidInput(result.error.issues.map((issue) => describeIssue(issue, placeOf(result.target))));
}

/** The problem for fields that failed: the detail lists them, invalidParams carries them one by one. */
export function invalidInput(params: InvalidParam[]): RpmgateError {
  const detail = params.map((param) => `${param.name}: ${param.reason}`).join('; ');
  return new RpmgateError('bad_request', detail, { invalidParams: params });
}

function placeOf(target: string): InputPlace {
  if (target === 'param') return 'path';
  if (target === 'json') return 'body';
  return target === 'query' ? 'query' : 'header';
}

function describeIssue(issue: z.core.$ZodIssue, place: InputPlace): InvalidParam {
  const name = fieldName(issue.path) || (place === 'body' ? 'body' : place);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => fieldName([...issue.path, key]));
    return { name: keys.join(', '), in: place, reason: keys.length === 1 ? 'not a known field' : 'not known fields' };
  }
  // zod says "Invalid input: expected boolean, received string": the field name says the rest.
  let reason = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && reason.endsWith('received undefined')) reason = `required (${reason.replace(/, received undefined$/, '')})`;
  return { name, in: place, reason };
}

/** resolve, packages[3], members[0].name: the path as a JSON reader would write it. */
function fieldName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const key of path) {
    if (typeof key === 'number') name += `[${key}]`;
    else name += name === '' ? String(key) : `.${String(key)}`;
  }
  return name;
}

// Query values arrive as text: these read them into what the route means, and refuse anything else.
// An empty value (?strict=) counts as absent, as it always has.

/** true, false, 1 or 0; absent means the fallback (null: "either"). */
export function booleanQuery<T extends boolean | null>(fallback: T) {
  return z
    .enum(['true', 'false', '1', '0', ''], { error: 'expected true or false' })
    .optional()
    .transform((value): boolean | T => (value === undefined || value === '' ? fallback : value === 'true' || value === '1'));
}

/** A decimal integer within bounds; absent means the fallback. */
export function integerQuery(fallback: number, min: number, max: number) {
  const expected = `expected an integer between ${min} and ${max}`;
  return z
    .string()
    .regex(/^\d*$/, { error: expected })
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : Number(value)))
    .pipe(z.number().int().min(min, { error: expected }).max(max, { error: expected }));
}

/** Text of bounded length; absent when empty. */
export function textQuery(max: number) {
  return z
    .string()
    .max(max)
    .optional()
    .transform((value) => (value === '' ? undefined : value));
}

/** The query of a route that takes none: any parameter is refused, so a misspelt one never goes unnoticed. */
export const noQuery = z.strictObject({});

/** A route's JSON body as createRoute declares it (read first by jsonBody: limit, UTF-8, no NUL). */
export function jsonRequest<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

/** A JSON body the route may go without (activate, retire): absent, or an object the schema accepts. */
export function optionalJsonRequest<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: false } as const;
}

/** A JSON answer as createRoute documents it. */
export function jsonContent<T extends z.ZodType>(schema: T) {
  return { 'application/json': { schema } } as const;
}
