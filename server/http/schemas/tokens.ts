// What the /api/v1/tokens routes accept.
import { z } from '@hono/zod-openapi';
import { roles } from '../../../common/roles.ts';

export const tokenParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,17}$/, { error: 'expected a token id (a number; rpmgate token list shows them)' }) });

export const createTokenBody = z.strictObject({
  role: z.enum(roles, { error: `expected one of ${roles.join(', ')}` }),
  name: z.string().regex(/^[\w.@:/-]{1,100}$/, { error: 'expected 1 to 100 letters, digits and . _ - @ : /' }),
});

// What the /api/v1/tokens routes answer.
export const createdToken = z.object({ token: z.string().openapi({ description: 'shown this once, never again' }), role: z.enum(roles), name: z.string() }).openapi('CreatedToken');

export const tokenSummary = z
  .object({
    id: z.number().int(),
    name: z.string(),
    role: z.enum(roles),
    createdAt: z.string().openapi({ format: 'date-time' }),
    createdBy: z.string().nullable(),
    revokedAt: z.string().openapi({ format: 'date-time' }).nullable(),
    machineId: z.string().nullable(),
  })
  .openapi('TokenSummary');
