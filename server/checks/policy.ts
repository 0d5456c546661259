// The entry-check policy: one file (RPMGATE_POLICY_FILE, YAML or JSON), validated at start with
// errors that name the field. Without a file, the defaults below (config/policy.default.yaml shows
// them, commented). Cleanup rules may live in the same file under their own key.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RpmgateError } from '../../common/errors.ts';

const severity = z.enum(['error', 'warning', 'off']);

export const policySchema = z
  .object({
    /** The configured vendor: packages must carry exactly this Vendor when set. */
    vendor: z.string().min(1).nullable().default(null),
    severities: z
      .object({
        'required-license': severity.default('error'),
        'required-url': severity.default('warning'),
        'required-packager': severity.default('warning'),
        'vendor-mismatch': severity.default('error'),
        'forbidden-path': severity.default('error'),
        'setuid-file': severity.default('error'),
        'world-writable': severity.default('error'),
        'arch-not-allowed': severity.default('error'),
        'release-pattern': severity.default('error'),
        'denied-dependency': severity.default('error'),
        'scriptlet-interpreter': severity.default('error'),
        'xml-unsafe-text': severity.default('error'),
        'source-missing': severity.default('warning'),
      })
      .strict()
      .prefault({}),
    forbiddenPathPrefixes: z.array(z.string().startsWith('/')).default(['/usr/local', '/home', '/tmp', '/opt/local']),
    /** Paths (globs) where setuid/setgid files are allowed. */
    setuidAllowed: z.array(z.string()).default([]),
    allowedArchitectures: z
      .array(z.string().min(1))
      .default(['noarch', 'src', 'nosrc', 'x86_64', 'aarch64', 'i686', 'ppc64le', 's390x', 'armv7hl', 'riscv64']),
    /** A regular expression every Release must match (e.g. "\\.el9(_\\d+)?$"); null: any release. */
    releasePattern: z
      .string()
      .nullable()
      .default(null)
      .refine((pattern) => pattern === null || isRegExp(pattern), { message: 'not a valid regular expression' }),
    deniedDependencies: z.array(z.string().min(1)).default([]),
    allowedInterpreters: z
      .array(z.string().min(1))
      .default(['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/bash', '<lua>', '/sbin/ldconfig', '/usr/sbin/ldconfig']),
    /** Days a binary package may wait for its source package before source-missing warns (check --all). */
    sourceWithinDays: z.number().int().min(0).default(30),
    rpmlint: z
      .object({
        timeoutSeconds: z.number().positive().max(600).default(60),
        memoryMegabytes: z.number().int().min(64).max(16384).default(1024),
        /** rpmlint errors recorded as warnings: opinions of rpmlint's that an ordinary package fails. */
        warningsOnly: z
          .array(z.string().regex(/^[\w.%-]+$/u, { message: 'an rpmlint check name' }))
          .default(['description-line-too-long', 'no-dependency-on', 'no-binary', 'no-changelogname-tag', 'multiple-specfiles', 'superfluous-%clean-section', 'explicit-lib-dependency', 'invalid-spec-name']),
      })
      .strict()
      .prefault({}),
    /** Retention rules (the cleanup issue): accepted here so that one file configures both. */
    cleanup: z.unknown().optional(),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;
export type PolicyCheckId = keyof Policy['severities'];

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

export function defaultPolicy(): Policy {
  return policySchema.parse({});
}

/** Reads and validates the policy file; every problem is named by its field, in one line. */
export async function loadPolicy(file: string | null): Promise<Policy> {
  if (!file) return defaultPolicy();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RpmgateError('usage', `cannot read RPMGATE_POLICY_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parsePolicy(text, file);
}

export function parsePolicy(text: string, name: string): Policy {
  let raw: unknown;
  try {
    raw = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RpmgateError('usage', `RPMGATE_POLICY_FILE ${name} is not valid ${name.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = policySchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new RpmgateError('usage', `RPMGATE_POLICY_FILE ${name}: ${problems.join('; ')}`);
  }
  return result.data;
}
