// The cleanup rules: their settings, read from the `cleanup` section of the policy file
// (RPMGATE_POLICY_FILE, YAML or JSON; other sections belong to other features, e.g. entry checks) and
// validated with zod, with the defaults issue 14 names. Pure: no database, no clock.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RpmgateError } from '../../common/errors.ts';

const days = (fallback: number, what: string) =>
  z.number({ error: `expected a number of days (${what})` }).int({ error: 'expected whole days' }).min(0).max(36500).default(fallback);

const emailAddress = z.email({ error: 'expected an e-mail address' });

export const cleanupRulesSchema = z
  .strictObject({
    /** Turns each rule on or off. */
    rules: z
      .strictObject({
        redundant: z.boolean().default(true),
        tooOld: z.boolean().default(true),
        obsolete: z.boolean().default(true),
        orphans: z.boolean().default(true),
        previousFiles: z.boolean().default(true),
      })
      .prefault({}),
    /** A set that stayed at integ or qa_ready this long is too old. */
    tooOldDays: days(90, 'a set at integ or qa_ready for this long is too old'),
    /** An obsolete set is eligible this long after it was made obsolete. */
    obsoleteGraceDays: days(0, 'an obsolete set goes this long after it became obsolete'),
    /** A package in no set, stored this long ago, is an orphan. */
    orphanDays: days(30, 'a package in no set stored this long ago is an orphan'),
    /** A set that a host reported as its set within this long is kept. */
    hostReportDays: days(30, 'a set a host reported within this long is kept'),
    /** Deletion comes no sooner than this after the warning was mailed. */
    warningDays: days(14, 'the delay between the warning and the deletion'),
    /** A file a key rotation replaced is kept this long after it was replaced. */
    previousFileHoldDays: days(30, 'files replaced by a key rotation are kept this long'),
    /** Files in the store that no row names are removed once they are this old (uploads in flight are younger). */
    strayBlobGraceHours: z.number().int().min(1).max(24 * 365).default(6),
    /** Who receives every warning, besides the set's creator or the package's uploader (when an e-mail address). */
    recipients: z.array(emailAddress).max(100).default([]),
  })
  .prefault({});

export type CleanupRules = z.infer<typeof cleanupRulesSchema>;

/** The policy file: its `cleanup` section is this module's; other sections are left to their readers. */
const policyFileSchema = z.looseObject({ cleanup: cleanupRulesSchema });

export const defaultCleanupRules: CleanupRules = cleanupRulesSchema.parse(undefined);

/** The rules from the policy file's `cleanup` section (defaults without a file), or a usage error naming each wrong field. */
export async function readCleanupRules(policyFile: string | null): Promise<CleanupRules> {
  if (!policyFile) return defaultCleanupRules;
  let text: string;
  try {
    text = await readFile(policyFile, 'utf8');
  } catch (error) {
    throw new RpmgateError('usage', `RPMGATE_POLICY_FILE ${policyFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseCleanupRules(text, policyFile);
}

export function parseCleanupRules(text: string, source = 'the policy file'): CleanupRules {
  let document: unknown;
  // One file for entry checks and cleanup (server/checks/policy.ts): YAML, or JSON (which YAML reads too).
  const json = source.endsWith('.json');
  try {
    document = json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RpmgateError('usage', `${source} is not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = policyFileSchema.safeParse(document ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => `${[...issue.path, key].join('.')}: not a known setting`).join('; ')
        : `${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
    throw new RpmgateError('usage', `${source}: ${problems.join('; ')}`);
  }
  return parsed.data.cleanup;
}
