// What the /api/v1/exceptions routes accept.
import { z } from '@hono/zod-openapi';

const glob = (what: string) => z.string().min(1).max(200).regex(/^[^\p{Cc}]+$/u, { error: `expected ${what} without control characters` });

export const grantExceptionBody = z.strictObject({
  check: glob('a check id (or a glob over check ids, e.g. rpmlint:*)'),
  package: glob('a package name or a glob over names'),
  path: z.string().min(1).max(4096).regex(/^\/[^\p{Cc}]*$/u, { error: 'expected an absolute path or path glob' }).optional(),
  reason: z.string().min(1).max(2000).regex(/^[^\p{Cc}]+$/u, { error: 'expected a reason without control characters' }),
  expires: z.iso.datetime({ offset: true, error: 'expected an ISO date-time such as 2027-06-30T00:00:00Z' }).or(z.iso.date({ error: 'expected an ISO date' })).optional(),
  untilVersion: z.string().min(1).max(256).regex(/^[\w.+~^-]+$/u, { error: 'expected a version such as 2.0' }).optional(),
});

export const exceptionParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

/** POST /api/v1/checks: run the entry checks again over every stored package. */
export const recheckBody = z.strictObject({
  /** Report only: leave the recorded findings as they are. */
  dryRun: z.boolean().optional(),
});

// What the /api/v1/exceptions and /api/v1/checks routes answer.
export const exceptionAnswer = z
  .object({
    id: z.number().int(),
    check: z.string(),
    package: z.string(),
    path: z.string().nullable(),
    reason: z.string(),
    grantedBy: z.string(),
    grantedAt: z.string().openapi({ format: 'date-time' }),
    expires: z.string().openapi({ format: 'date-time' }).nullable(),
    untilVersion: z.string().nullable(),
    state: z.string().openapi({ description: 'active, expired (by date or version) or removed' }),
    removedBy: z.string().nullable(),
    removedAt: z.string().openapi({ format: 'date-time' }).nullable(),
  })
  .openapi('Exception');

const findingAnswer = z.object({ check: z.string(), severity: z.enum(['error', 'warning']), message: z.string(), path: z.string().optional(), waivedBy: z.string().optional() });

export const recheckAnswer = z
  .object({
    dryRun: z.boolean(),
    checked: z.number().int(),
    changed: z.number().int(),
    refused: z.array(z.object({ nevra: z.string(), findings: z.array(findingAnswer) })),
    unreadable: z.array(z.object({ nevra: z.string(), error: z.string() })),
  })
  .openapi('Recheck');
