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

// What the /api/v1/cleanup routes answer (the items of each list are described in retention/preview.ts).
const listed = z.array(z.looseObject({}));

export const cleanupPreviewAnswer = z
  .object({
    now: z.string(),
    mail: z.enum(['on', 'off']),
    warningDays: z.number(),
    delete: listed,
    warn: listed,
    waiting: listed,
    withdraw: listed,
    kept: listed,
    previousFiles: z.object({ files: z.number().int(), bytes: z.number().int() }),
    bytes: z.object({ delete: z.number().int(), warn: z.number().int(), previousFiles: z.number().int() }),
    counts: z.object({ delete: z.number().int(), warn: z.number().int(), waiting: z.number().int(), withdraw: z.number().int(), kept: z.number().int() }),
    limit: z.number().int().nullable(),
  })
  .openapi('CleanupPreview');

export const cleanupRunAnswer = z
  .object({
    now: z.string(),
    withdrawn: z.array(z.object({ object: z.string(), sparedBecause: z.string() })),
    deleted: z.array(z.object({ kind: z.enum(['set', 'package']), object: z.string(), rule: z.string(), reason: z.string() })),
    skipped: z.array(z.string()),
    warned: z.number().int(),
    previousFiles: z.number().int(),
    strayBlobs: z.number().int(),
    bytesFreed: z.number().int(),
    mail: z.object({ on: z.boolean(), sent: z.number().int(), failed: z.array(z.object({ recipient: z.string(), error: z.string() })) }),
    counts: z.object({ deleted: z.number().int(), withdrawn: z.number().int(), skipped: z.number().int() }),
    listed: z.number().int(),
  })
  .openapi('CleanupRun');
