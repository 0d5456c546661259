// What the /api/v1/packages routes accept. The upload's body is the RPM itself, read by the RPM reader.
import { z } from '@hono/zod-openapi';
import { levels } from '../../../common/roles.ts';
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

// What the /api/v1/packages routes answer (documented; the routes build them in routes/packages.ts).
/** A level, obsolete included: where a set (or a package, by its sets) has got to. */
export const levelOrObsolete = z.enum([...levels, 'obsolete']);
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** What names a package: its NEVRA and the parts of it, and whether it is a source package. */
export const packageIdentity = z.object({
  nevra: z.string(),
  name: z.string(),
  epoch: z.number().int().nullable(),
  version: z.string(),
  release: z.string(),
  arch: z.string(),
  source: z.boolean(),
});

export const finding = z
  .object({
    check: z.string(),
    severity: z.enum(['error', 'warning']),
    message: z.string(),
    path: z.string().optional(),
    waivedBy: z.string().optional().openapi({ description: 'the exception that waives it' }),
  })
  .openapi('Finding');

export const packageSummary = packageIdentity
  .extend({
    sourcerpm: z.string().nullable(),
    filename: z.string(),
    sha256: sha256.openapi({ description: 'of the file served (signed by rpmgate)' }),
    size: z.number().int(),
    originalSha256: sha256.openapi({ description: 'of the file as uploaded' }),
    originalSize: z.number().int(),
    summary: z.string(),
    license: z.string(),
    buildtime: z.number().int(),
    uploadedAt: z.string().openapi({ format: 'date-time' }),
    uploadedBy: z.string(),
    level: levelOrObsolete.optional().openapi({ description: 'the highest level a set holding it reached' }),
    sets: z.array(z.string()).optional().openapi({ description: 'NAME/VERSION of the sets holding it' }),
  })
  .openapi('Package');

export const packageDetail = packageSummary.extend({ findings: z.array(finding) }).openapi('PackageDetail');

export const deletedPackage = z.object({ deleted: z.string(), freedBytes: z.number().int() }).openapi('DeletedPackage');
