// Reads a route's JSON body before its schema sees it: a size limit, UTF-8 that decodes, JSON that
// parses to an object, and no text PostgreSQL would refuse (a NUL, half a surrogate pair). Each
// refusal is a 400 naming what was wrong; the checked text is what the route's validator then reads.
import type { Context, MiddlewareHandler } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { HttpEnv } from './env.ts';
import { invalidInput } from './validation.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const jsonMediaType = /^application\/(?:[\w.-]+\+)?json$/i;
/** A NUL, or a UTF-16 surrogate without its other half (JSON's \ud800): neither can be stored as text. */
const unstorableText = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function jsonBody(limit: number): MiddlewareHandler<HttpEnv> {
  return async function readJsonBody(c, next) {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
    if (!jsonMediaType.test(mediaType)) {
      throw new RpmgateError('bad_request', `the body must be JSON sent as Content-Type: application/json${mediaType ? `, not ${mediaType}` : ''}`);
    }
    const bytes = await readLimited(c, limit);
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new RpmgateError('bad_request', 'the body is not valid UTF-8');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new RpmgateError('bad_request', `the body is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new RpmgateError('bad_request', 'the body must be a JSON object');
    }
    const unstorable = findUnstorableText(value);
    if (unstorable) throw invalidInput([{ name: unstorable, in: 'body', reason: 'contains a NUL character or invalid UTF-16' }]);
    // The route's validator reads the body again: let it read the very text checked here.
    const raw = c.req.raw;
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: text, signal: raw.signal });
    await next();
  };
}

async function readLimited(c: Context, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new RpmgateError('payload_too_large', `the body is larger than the limit of ${limit} bytes`);
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) throw new RpmgateError('bad_request', 'a JSON body is required');
  // The length is known and within the limit: one read, much faster than iterating small chunks.
  if (Number.isInteger(declared)) return new Uint8Array(await c.req.raw.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The field (name or key) holding text that cannot be stored, or null. Iterative: JSON may nest deeply. */
function findUnstorableText(root: object): string | null {
  const pending: [unknown, string][] = [[root, '']];
  while (pending.length > 0) {
    const [value, name] = pending.pop()!;
    if (typeof value === 'string') {
      if (unstorableText.test(value)) return name || 'body';
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) pending.push([value[i], `${name}[${i}]`]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, member] of Object.entries(value)) {
        const field = name === '' ? key : `${name}.${key}`;
        if (unstorableText.test(key)) return JSON.stringify(field);
        pending.push([member, field]);
      }
    }
  }
  return null;
}
