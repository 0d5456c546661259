// Reads a JSON object body with a size limit; anything else is a 400 with a reason.
import type { Context } from 'hono';
import { RpmgateError } from '../../common/errors.ts';

export async function readJson(c: Context, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > limit) throw new RpmgateError('payload_too_large', `the body is larger than the limit of ${limit} bytes`);
  const body = c.req.raw.body;
  if (!body) throw new RpmgateError('bad_request', 'a JSON body is required');
  let bytes: Buffer;
  if (Number.isInteger(declared)) {
    // The length is known and within the limit: one read, much faster than iterating small chunks.
    bytes = Buffer.from(await c.req.raw.arrayBuffer());
  } else {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > limit) throw new RpmgateError('payload_too_large', `the body is larger than the limit of ${limit} bytes`);
      chunks.push(chunk);
    }
    bytes = Buffer.concat(chunks);
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new RpmgateError('bad_request', `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RpmgateError('bad_request', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
