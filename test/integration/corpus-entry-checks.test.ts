// The shipped default entry checks (house policies and Debian's rpmlint with config/rpmlint.toml)
// over every valid corpus RPM: what they refuse, and for which checks, is exactly docs/corpus-refusals.tsv,
// which the README explains. A policy or rpmlint change that moves a verdict fails here until the file
// (and the README's account of it) is written again: npx tsx test/support/corpus-entry-verdicts.ts --write
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { corpusAvailable } from '../support/corpus.ts';
import { corpusEntryRefusals, corpusRefusalsFile } from '../support/corpus-entry-verdicts.ts';

describe.skipIf(!corpusAvailable)('the corpus under the shipped entry checks', () => {
  it('refuses exactly the files docs/corpus-refusals.tsv lists, for the checks it names', async () => {
    const expected = (await readFile(corpusRefusalsFile, 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));
    expect(await corpusEntryRefusals()).toEqual(expected);
  }, 600_000);
});
