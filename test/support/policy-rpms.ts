// The entry-check fixtures: test/fixtures/policy-specs/*.spec built with the host's rpmbuild (cached),
// each breaking one policy, plus a clean one.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSpecTexts } from './small-rpms.ts';

const specsDir = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../fixtures/policy-specs');

/** name → .rpm path; `versions` builds rg-legacy (or any spec with rg_version) at other versions too. */
export async function buildPolicyRpms(names: readonly string[], versions: Record<string, string[]> = {}): Promise<Map<string, string>> {
  const jobs: { key: string; spec: string }[] = [];
  for (const name of names) {
    const text = await readFile(path.join(specsDir, `${name}.spec`), 'utf8');
    jobs.push({ key: name, spec: text });
    for (const version of versions[name] ?? []) jobs.push({ key: `${name}-${version}`, spec: `%global rg_version ${version}\n${text}` });
  }
  const files = await buildSpecTexts(jobs.map((job) => job.spec));
  return new Map(jobs.map((job, index) => [job.key, files[index]!]));
}

/** A policy with every house policy off: for tests of the reader and the signer over the whole corpus. */
export const checksOffPolicy = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../fixtures/policies/checks-off.yaml');
