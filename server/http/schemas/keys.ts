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

// What the /api/v1/keys routes answer.
export const keyInfo = z
  .object({
    fingerprint: z.string(),
    keyId: z.string(),
    shortKeyId: z.string(),
    algorithm: z.string(),
    userId: z.string(),
    createdAt: z.string(),
    status: z.enum(['current', 'published', 'retired']),
    source: z.enum(['generated', 'file', 'added']),
    file: z.string().nullable(),
    retiredAt: z.string().nullable(),
  })
  .openapi('SigningKey');

export const rotationStatus = z
  .object({
    state: z.enum(['idle', 'running', 'done', 'failed', 'elsewhere']),
    fingerprint: z.string().nullable(),
    total: z.number().int(),
    resigned: z.number().int(),
    failed: z.array(z.object({ nevra: z.string(), error: z.string() })),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .openapi('ResigningJob');

export const keysAnswer = z.object({ current: keyInfo, keys: z.array(keyInfo), rotation: rotationStatus }).openapi('SigningKeys');
export const activationAnswer = z.object({ current: keyInfo, rotation: rotationStatus }).openapi('KeyActivation');
