// The corpus (../shared/corpus) may be missing on a developer's machine, where its tests skip loudly,
// but never in CI: with RPMGATE_REQUIRE_TOOLS=1 every test file that reads it must fail to load.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const absent = path.join(root, 'no-such-corpus-dir');
const present = existsSync(path.join(root, '../shared/corpus/RPMS.tsv'));

/** Loads test/support/corpus.ts in a fresh process, as a test file importing it would. */
function loadCorpusModule(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const script = "import { register } from 'tsx/esm/api'; register(); await import('./test/support/corpus.ts');";
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: { ...process.env, ...env } }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 2) : 0, stderr });
    });
  });
}

describe('the corpus requirement', () => {
  it('fails under RPMGATE_REQUIRE_TOOLS=1 when the corpus is missing', async () => {
    const result = await loadCorpusModule({ RPMGATE_CORPUS_DIR: absent, RPMGATE_REQUIRE_TOOLS: '1' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('RPMGATE_REQUIRE_TOOLS=1 requires it');
  });

  it('skips loudly without RPMGATE_REQUIRE_TOOLS', async () => {
    const result = await loadCorpusModule({ RPMGATE_CORPUS_DIR: absent, RPMGATE_REQUIRE_TOOLS: '' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('corpus tests are SKIPPED');
  });

  it.runIf(present)('loads quietly when the corpus is there', async () => {
    const result = await loadCorpusModule({ RPMGATE_REQUIRE_TOOLS: '1' });
    expect(result).toEqual({ code: 0, stderr: '' });
  });
});
