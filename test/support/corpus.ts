// Access to ../shared/corpus: real RPMs and fact tables from other projects, read in place (never copied).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const corpusDir = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/corpus');
export const corpusAvailable = existsSync(path.join(corpusDir, 'RPMS.tsv'));

if (!corpusAvailable) {
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
