// What the /api/v1/sets routes accept: path parameters, queries and bodies (set-conformance too).
import { z } from '@hono/zod-openapi';
import { levels } from '../../../common/roles.ts';
import { setNamePattern, setVersionPattern } from '../../services/sets.ts';
import { booleanQuery, textQuery } from '../validation.ts';
import { levelOrObsolete, packageIdentity, sha256 } from './packages.ts';

const levelNames = [...levels, 'obsolete'] as const;

export const setName = z.string().regex(setNamePattern, { error: 'expected 1 to 100 letters, digits and . _ + - (starting with a letter or digit)' });
export const setVersion = z
  .string()
  .regex(setVersionPattern, { error: 'expected 1 to 100 letters, digits and . _ + ~ ^ - (starting with a letter or digit)' })
  .refine((version) => version !== 'latest', { error: '"latest" names a channel, not a version' });

/** A set named in a URL: looked up as given, so a name no set can have is simply not found. */
export const setParams = z.object({ name: z.string().min(1).max(256), version: z.string().min(1).max(256) });

export const createSetBody = z.strictObject({
  name: setName,
  version: setVersion,
  packages: z.array(z.string().min(1).max(512)).min(1).max(200_000),
  description: z.string().max(10_000).optional(),
  /** Add what the named packages require, from the store. */
  resolve: z.boolean().optional(),
  /** Create the set even when dependencies stay unresolved. */
  allowUnresolved: z.boolean().optional(),
  /** Leave out the source packages of the binaries. */
  noSources: z.boolean().optional(),
  /** Which provider resolution adds: the highest level reached, then the newest (proven, default), or the newest. */
  prefer: z.enum(['proven', 'newest']).optional(),
  /** Resolution adds nothing below this level. */
  minLevel: z.enum(['integ', 'qa_ready', 'pre_release', 'release']).optional(),
  /** Refuse members with unwaived entry-check errors. */
  requireClean: z.boolean().optional(),
});

export const listSetsQuery = z.strictObject({
  name: textQuery(256),
  level: z.enum(levelNames, { error: `expected one of ${levelNames.join(', ')}` }).optional(),
});

export const promoteBody = z.strictObject({
  level: z.enum(['qa_ready', 'pre_release', 'release', 'obsolete'], { error: 'expected one of qa_ready, pre_release, release, obsolete' }),
  comment: z.string().max(10_000).optional(),
});

export const setConformanceQuery = z.strictObject({ strict: booleanQuery(false) });

// What the /api/v1/sets routes answer (documented; the routes build them in routes/sets.ts).

export const setSummary = z
  .object({
    name: z.string(),
    version: z.string(),
    id: z.string().openapi({ description: 'NAME/VERSION' }),
    level: levelOrObsolete,
    description: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    createdBy: z.string().nullable(),
  })
  .openapi('SetSummary');

export const setDetail = setSummary
  .extend({
    packages: z.array(z.string()).openapi({ description: 'the members\' NEVRAs' }),
    members: z.array(packageIdentity.extend({ sha256 })),
    history: z.array(
      z.object({ from: levelOrObsolete, to: levelOrObsolete, by: z.string(), at: z.string().openapi({ format: 'date-time' }), comment: z.string().nullable() }),
    ),
    added: z.array(z.object({ nevra: z.string(), reason: z.string(), level: levelOrObsolete.optional() })).openapi({ description: 'what resolution or source tying added beyond the packages named' }),
    unresolved: z.array(z.object({ nevra: z.string(), requirement: z.string() })).openapi({ description: 'requirements left unresolved at creation (allowUnresolved)' }),
    complete: z.boolean().openapi({ description: 'every member is in the store and served (no pending or failed upstream member)' }),
    pending: z
      .array(
        z.object({
          nevra: z.string(),
          mirror: z.string(),
          state: z.enum(['pending', 'failed']),
          attempts: z.number().int(),
          lastError: z.string().nullable(),
          nextAttemptAt: z.string().openapi({ format: 'date-time' }).nullable(),
        }),
      )
      .openapi({ description: 'upstream members not adopted yet: pending (fetched in the background, retried while the upstream fails) or failed for good (refused; never served, and the set cannot be promoted)' }),
  })
  .openapi('SetDetail');
export const deletedSet = z.object({ deleted: z.string().openapi({ description: 'NAME/VERSION' }), level: levelOrObsolete }).openapi('DeletedSet');

/** DELETE of a set or a package: an optional comment for the audit record. */
export const deleteQuery = z.strictObject({ comment: textQuery(1000) });
