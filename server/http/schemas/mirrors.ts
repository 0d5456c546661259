// What the /api/v1/mirrors routes accept.
import { z } from '@hono/zod-openapi';

const mirrorName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected 1 to 64 letters, digits and . _ - (starting with a letter or digit)' });
const url = z.string().min(8).max(2000).regex(/^https?:\/\/[^\s\p{Cc}]+$/u, { error: 'expected an http:// or https:// URL' });
const armoredKey = z.string().min(1).max(1024 * 1024).regex(/-----BEGIN PGP PUBLIC KEY BLOCK-----/, { error: 'expected an ASCII-armored OpenPGP public key' });

export const addMirrorBody = z.strictObject({
  name: mirrorName,
  baseurl: url,
  /** One key or several (an upstream that rotates keys signs with either). */
  key: armoredKey.or(z.array(armoredKey).max(16)).optional(),
  sourceBaseurl: url.optional(),
  arches: z.array(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, { error: 'expected an arch such as x86_64' })).max(32).optional(),
});

export const mirrorParams = z.object({ name: mirrorName });

export const fetchMirrorPackagesBody = z.strictObject({
  packages: z.array(z.string().min(1).max(512).regex(/^[^\s\p{Cc}]+$/u, { error: 'expected a NEVRA' })).min(1).max(10_000),
});

// What the /api/v1/mirrors routes answer (documented; built by services/mirrors.ts and mirrors/*.ts).
const dateTime = z.string().openapi({ format: 'date-time' });

export const mirrorView = z
  .object({
    name: z.string(),
    baseurl: z.string(),
    sourceBaseurl: z.string().nullable(),
    arches: z.array(z.string()).nullable(),
    keys: z.array(z.object({ fingerprint: z.string(), userIds: z.array(z.string()) })),
    revision: z.string().nullable(),
    syncedAt: dateTime.nullable(),
    lastAttemptAt: dateTime.nullable(),
    lastError: z.string().nullable(),
    packages: z.number().int().optional().openapi({ description: 'packages recorded by the last sync (listing only)' }),
    cached: z.number().int().optional().openapi({ description: 'of which pulled through and cached (listing only)' }),
  })
  .openapi('Mirror');

export const syncResult = z
  .object({
    mirror: z.string(),
    status: z.enum(['synced', 'unchanged']),
    revision: z.string().nullable(),
    packages: z.number().int(),
    added: z.number().int(),
    removed: z.number().int(),
    seconds: z.number(),
  })
  .openapi('MirrorSync');

export const fetchReport = z
  .object({
    adopted: z.array(
      z.object({
        packageId: z.number().int(),
        nevra: z.string(),
        mirror: z.string(),
        status: z.enum(['created', 'exists']),
        source: z.union([z.object({ nevra: z.string(), status: z.enum(['created', 'exists']) }), z.object({ missing: z.string() })]).optional(),
      }),
    ),
    unknown: z.array(z.string()),
    refused: z.array(z.object({ nevra: z.string(), mirror: z.string(), code: z.string(), reason: z.string(), findings: z.unknown().optional() })),
  })
  .openapi('MirrorFetchReport');
