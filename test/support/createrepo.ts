// Runs the real createrepo_c (Debian's 0.17) on a temporary directory of RPMs and hands back the paths
// of the repodata it wrote, so that tests can compare rpmgate's repodata with the reference tool's.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseRepomd, type ParsedRepomd } from '../../common/repodata/parse.ts';

const run = promisify(execFile);

export interface CreaterepoInput {
  /** The RPM to list (symlinked, so createrepo_c sees the source's size and mtime). */
  source: string;
  /** Its file name in the repository (must end in .rpm); also its location href. */
  name: string;
}

export interface CreaterepoResult {
  /** The repository directory (holding the symlinks and repodata/). */
  dir: string;
  repomdPath: string;
  repomd: ParsedRepomd;
  primary: string;
  filelists: string;
  other: string;
  /** Removes the temporary directory. */
  cleanup(): Promise<void>;
}

let version: Promise<string | null> | undefined;

/** createrepo_c's version line ("0.17.3"), or null when it is not installed. */
export function createrepoVersion(): Promise<string | null> {
  version ??= run('createrepo_c', ['--version']).then(
    ({ stdout }) => /Version:\s*(\S+)/.exec(stdout)?.[1] ?? stdout.trim(),
    () => null,
  );
  return version;
}

/** Run `createrepo_c --no-database` on the given RPMs in a fresh temporary directory. */
export async function runCreaterepo(inputs: readonly CreaterepoInput[], extraArgs: readonly string[] = []): Promise<CreaterepoResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rpmgate-createrepo-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const names = new Set<string>();
    for (const input of inputs) {
      if (!input.name.endsWith('.rpm') || input.name.includes('/') || names.has(input.name)) {
        throw new Error(`bad or duplicate repository file name: ${input.name}`);
      }
      names.add(input.name);
      await symlink(path.resolve(input.source), path.join(dir, input.name));
    }
    await run('createrepo_c', ['--no-database', '--workers', '1', ...extraArgs, dir], { maxBuffer: 16 * 1024 * 1024 });
    const repomdPath = path.join(dir, 'repodata', 'repomd.xml');
    const repomd = await parseRepomd(await readFile(repomdPath));
    const hrefOf = (type: string): string => {
      const record = repomd.records.find((r) => r.type === type);
      if (!record) throw new Error(`createrepo_c wrote no ${type} record`);
      return path.join(dir, record.href);
    };
    return { dir, repomdPath, repomd, primary: hrefOf('primary'), filelists: hrefOf('filelists'), other: hrefOf('other'), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
