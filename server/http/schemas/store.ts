// What the /api/v1/store routes accept.
import { z } from '@hono/zod-openapi';

export const fsckBody = z.strictObject({
  repair: z.boolean().optional(),
});
