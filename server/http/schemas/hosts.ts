// What the /api/v1/hosts and /api/v1/components routes accept: path parameters, queries, headers, bodies.
import { z } from '@hono/zod-openapi';
import { hostnamePattern, machineIdPattern, maxReportPackages } from '../../../common/host-report.ts';
import { setNamePattern, setVersionPattern } from '../../services/sets.ts';
import { booleanQuery, integerQuery } from '../validation.ts';

const setReference = z.string().refine(
  (value) => {
    const slash = value.indexOf('/');
    return slash > 0 && setNamePattern.test(value.slice(0, slash)) && setVersionPattern.test(value.slice(slash + 1));
  },
  { error: 'expected a package set named NAME/VERSION, e.g. billing/4.2.0' },
);

export const listHostsQuery = z.strictObject({
  /** Hosts assigned to this set; empty means any. */
  set: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(setReference.optional()),
  drifting: booleanQuery(null),
  strict: booleanQuery(false),
  limit: integerQuery(10_000, 1, 100_000),
  offset: integerQuery(0, 0, Number.MAX_SAFE_INTEGER),
});

/** Looked up as given: an id no host can have is simply not found. */
export const hostParams = z.object({ machineId: z.string().min(1).max(256) });

export const hostQuery = z.strictObject({
  strict: booleanQuery(false),
  history: integerQuery(50, 0, 10_000),
  packages: booleanQuery(false),
});

export const enrollBody = z.strictObject({
  machineId: z.string().regex(machineIdPattern, { error: 'expected 32 lowercase hexadecimal digits, as in /etc/machine-id' }),
  hostname: z.string().regex(hostnamePattern, { error: 'expected 1 to 253 letters, digits and . _ -' }),
  /** Revoke the host's live agent token and mint another (admin only). */
  replace: z.boolean().optional(),
});

export const reportHeaders = z.object({
  /** When the agent read the inventory: a report delivered late from its spool dates its changes by it. */
  'X-Rpmgate-Collected-At': z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/, { error: 'expected an ISO 8601 time such as 2026-12-02T10:00:00Z' })
    .refine((value) => !Number.isNaN(new Date(value).getTime()), { error: 'expected an ISO 8601 time such as 2026-12-02T10:00:00Z' })
    .optional(),
});

/**
 * The inventory report, as the API describes it. It is validated by parseHostReport (common/
 * host-report.ts, which the agent shares): hand-written for speed, as zod takes 1.8 ms for a report
 * of 1,500 packages where that parser takes 0.1 ms (about half the server's whole CPU per report).
 * test/integration/input-validation.test.ts holds the two to the same answers.
 */
export const reportBody = z.object({
  machineId: z.string().regex(machineIdPattern),
  hostname: z.string().regex(hostnamePattern),
  os: z.string().min(1).max(200).regex(/^[^\x00-\x1f\x7f]*$/),
  arch: z.string().regex(/^[A-Za-z0-9_]{1,32}$/),
  set: setReference.nullable().optional(),
  packages: z
    .array(
      z.object({
        name: z.string().regex(/^[\x21-\x7e]{1,256}$/),
        epoch: z.number().int().min(0).max(2 ** 31 - 1).nullable().optional(),
        version: z.string().regex(/^[\x21-\x7e]{1,128}$/),
        release: z.string().regex(/^[\x21-\x7e]{1,128}$/),
        arch: z.string().regex(/^(?:[A-Za-z0-9_]{1,32}|\(none\))$/),
      }),
    )
    .max(maxReportPackages),
});

export const componentParams = z.object({ name: z.string().min(1).max(256) });

export const componentUsageQuery = z.strictObject({ limit: integerQuery(100, 0, 100_000) });

// What the /api/v1/hosts routes answer (documented; the views are built in routes/hosts.ts).
const dateTime = z.string().openapi({ format: 'date-time' });
const versionMismatch = z.object({ name: z.string(), arch: z.string(), expected: z.string(), installed: z.string() });

export const hostCounts = z.object({
  expected: z.number().int(),
  matched: z.number().int(),
  missing: z.number().int(),
  older: z.number().int(),
  newer: z.number().int(),
  different: z.number().int(),
  foreign: z.number().int(),
});

export const hostSummary = z
  .object({
    machineId: z.string(),
    hostname: z.string(),
    os: z.string().nullable(),
    arch: z.string(),
    set: z.string().nullable().openapi({ description: 'the set the host says it runs (NAME/VERSION)' }),
    setKnown: z.boolean(),
    status: z.enum(['conforming', 'drifting', 'no_set', 'unknown_set']),
    conforming: z.boolean().nullable(),
    counts: hostCounts,
    packageCount: z.number().int(),
    reports: z.number().int(),
    firstReportAt: dateTime,
    lastReportAt: dateTime,
    lastChangeAt: dateTime,
  })
  .openapi('HostSummary');

export const hostDrift = z.object({
  missing: z.array(z.string()),
  older: z.array(versionMismatch),
  newer: z.array(versionMismatch),
  different: z.array(z.string()),
});

export const hostReportAnswer = hostSummary
  .extend({ drift: hostDrift, unchanged: z.boolean(), changes: z.object({ installed: z.number().int(), removed: z.number().int(), changed: z.number().int() }) })
  .openapi('HostReportAnswer');

export const conformance = z
  .object({ conforming: z.boolean(), strict: z.boolean(), counts: hostCounts, foreign: z.array(z.string()) })
  .extend(hostDrift.shape)
  .openapi('Conformance');

export const hostDetail = hostSummary
  .extend({
    conformance: conformance.nullable(),
    history: z.array(z.object({ at: dateTime, kind: z.enum(['installed', 'removed', 'changed']), from: z.string().nullable(), to: z.string().nullable() })),
    packages: z.array(z.string()).optional().openapi({ description: 'the installed packages (with packages=true)' }),
  })
  .openapi('HostDetail');

export const hostList = z.object({ total: z.number().int(), hosts: z.array(hostSummary) }).openapi('HostList');

export const enrolledHost = z
  .object({
    token: z.string().openapi({ description: "the host's agent token, shown this once" }),
    role: z.string().openapi({ description: 'agent' }),
    name: z.string(),
    machineId: z.string(),
    replaced: z.boolean(),
  })
  .openapi('EnrolledHost');

export const componentUsage = z
  .object({
    name: z.string(),
    hostCount: z.number().int(),
    versions: z.array(
      z.object({
        nevra: z.string(),
        evr: z.string(),
        epoch: z.number().int().nullable(),
        version: z.string(),
        release: z.string(),
        arch: z.string(),
        hostCount: z.number().int(),
        hosts: z.array(z.object({ machineId: z.string(), hostname: z.string(), set: z.string().nullable() })),
      }),
    ),
    sets: z.array(z.object({ set: z.string(), level: z.string(), nevra: z.string(), evr: z.string(), arch: z.string(), source: z.boolean(), hostCount: z.number().int() })),
  })
  .openapi('ComponentUsage');

export const setConformanceAnswer = z
  .object({
    set: z.string(),
    level: z.string(),
    summary: z.object({ hosts: z.number().int(), conforming: z.number().int(), drifting: z.number().int() }),
    hosts: z.array(hostSummary.extend({ drift: hostDrift })),
  })
  .openapi('SetConformance');
