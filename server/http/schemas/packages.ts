// What the /api/v1/packages routes accept. The upload's body is the RPM itself, read by the RPM reader.
import { z } from '@hono/zod-openapi';
import { integerQuery, textQuery } from '../validation.ts';

export const uploadBody = z.string().openapi({ format: 'binary', description: 'the RPM file, as built' });

export const listPackagesQuery = z.strictObject({
  name: textQuery(256),
  limit: integerQuery(1000, 1, 10_000),
  /** Keyset pagination: packages with an id above this one. */
  after: integerQuery(0, 0, Number.MAX_SAFE_INTEGER),
});

/** Looked up as given: a NEVRA no package has is simply not found. */
export const packageParams = z.object({ nevra: z.string().min(1).max(1024) });
