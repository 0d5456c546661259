// What the /api/v1/cleanup routes accept.
import { z } from '@hono/zod-openapi';
import { integerQuery } from '../validation.ts';

/** ?now=ISO-DATE: the date the dry run is computed as of (a date, or a date and time with a zone). */
export const cleanupQuery = z.strictObject({
  now: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/, {
      error: 'expected an ISO date (2026-12-31) or date and time with a zone (2026-12-31T08:00:00Z)',
    })
    .refine((value) => !Number.isNaN(Date.parse(value)), { error: 'expected a date that exists' })
    .optional(),
  /** Items listed per list (counts and bytes cover all). */
  limit: integerQuery(1000, 1, 1_000_000),
});

export const cleanupRunBody = z.strictObject({});
