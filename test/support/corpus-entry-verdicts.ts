// What the shipped default entry checks (house policies and the real rpmlint) say of every valid
// corpus RPM: the unwaived errors that refuse it, by check id. docs/corpus-refusals.tsv holds the
// expected answer, which the README explains; run this file to write it again after a policy change:
//   npx tsx test/support/corpus-entry-verdicts.ts --write
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRpmFile } from '../../common/rpm/reader.ts';
import { applyExceptions } from '../../server/checks/exceptions.ts';
import { runHousePolicies } from '../../server/checks/house-policies.ts';
import { defaultPolicy } from '../../server/checks/policy.ts';
import { RpmlintRunner } from '../../server/checks/rpmlint.ts';
import { createLogger } from '../../server/log.ts';
import { corpusPath } from './corpus.ts';
import { corpusRpms } from './corpus-rpms.ts';

export const corpusRefusalsFile = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../docs/corpus-refusals.tsv');

/** "relative path\tcheck ids" for every refused corpus RPM, sorted; accepted ones are left out. */
export async function corpusEntryRefusals(): Promise<string[]> {
  const policy = defaultPolicy();
  const rpmlint = new RpmlintRunner({ enabled: true, policy, log: createLogger(false) });
  await rpmlint.open();
  const root = corpusPath('');
  const rpms = corpusRpms().filter((rpm) => rpm.kind !== 'drpm' && !rpm.damaged && !rpm.unsignable);
  const lines = await Promise.all(
    rpms.map(async (rpm) => {
      const parsed = await readRpmFile(rpm.path);
      const findings = applyExceptions([...runHousePolicies(parsed, policy), ...(await rpmlint.check(rpm.path, parsed.package))], [], parsed.package);
      const errors = [...new Set(findings.filter((f) => f.severity === 'error' && !f.waivedBy).map((f) => f.check))].sort();
      return errors.length === 0 ? null : `${path.relative(root, rpm.path)}\t${errors.join(' ')}`;
    }),
  );
  return lines.filter((line): line is string => line !== null).sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const lines = await corpusEntryRefusals();
  await writeFile(corpusRefusalsFile, `# corpus file\tchecks that refuse it under the shipped defaults (see README, "Entry checks")\n${lines.join('\n')}\n`);
  console.log(`${lines.length} refused corpus RPMs written to ${corpusRefusalsFile}`);
}
