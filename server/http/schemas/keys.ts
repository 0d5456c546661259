// What the /api/v1/keys routes accept.
import { z } from '@hono/zod-openapi';
import { signingAlgorithms } from '../../signing/keyring.ts';

export const keyParams = z.object({
  fingerprint: z.string().regex(/^(?:0x)?[0-9A-Fa-f ]{8,100}$/, { error: 'expected a key fingerprint or key ID in hexadecimal' }),
});

/** Generate a key ({} or {algorithm}: the server's configured algorithm by default), or add one ({armored, passphrase?}). */
export const addKeyBody = z
  .strictObject({
    algorithm: z.enum(signingAlgorithms, { error: `expected one of ${signingAlgorithms.join(', ')}` }).optional(),
    armored: z.string().min(1).max(1024 * 1024).optional(),
    passphrase: z.string().max(1024).optional(),
  })
  .superRefine((body, context) => {
    if (body.armored !== undefined && body.algorithm !== undefined) {
      context.addIssue({ code: 'custom', path: ['algorithm'], message: 'not with armored: an added key has its own algorithm' });
    }
    if (body.armored === undefined && body.passphrase !== undefined) {
      context.addIssue({ code: 'custom', path: ['passphrase'], message: 'only with armored' });
    }
  });

/** activate and retire take no body: none, or an empty object. */
export const emptyBody = z.strictObject({});
