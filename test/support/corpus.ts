// Access to ../shared/corpus: real RPMs and fact tables from other projects, read in place (never copied).
// On a developer's machine the corpus may be absent, and its tests skip loudly; in CI
// (RPMGATE_REQUIRE_TOOLS=1) it is required: every test file that uses it fails to load without it,
// rather than passing with fewer packages. RPMGATE_CORPUS_DIR points elsewhere (tests of this rule).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { toolsRequired } from './requirements.ts';

export const corpusDir = process.env.RPMGATE_CORPUS_DIR
  ? path.resolve(process.env.RPMGATE_CORPUS_DIR)
  : path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/corpus');
export const corpusAvailable = existsSync(path.join(corpusDir, 'RPMS.tsv'));

if (!corpusAvailable) {
  if (toolsRequired) {
    throw new Error(`../shared/corpus not found at ${corpusDir}: RPMGATE_REQUIRE_TOOLS=1 requires it, corpus tests cannot be skipped`);
  }
  console.warn(`\n*** ../shared/corpus not found at ${corpusDir}: corpus tests are SKIPPED ***\n`);
}

/** Rows of a corpus TSV file as objects keyed by the header line (lines starting with # are skipped). */
export function readCorpusTsv(name: string): Record<string, string>[] {
  const text = readFileSync(path.join(corpusDir, name), 'utf8');
  const lines = text.split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
  const header = (lines.shift() ?? '').split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(header.map((key, i) => [key, cells[i] ?? '']));
  });
}

export function corpusPath(relative: string): string {
  return path.join(corpusDir, relative);
}
