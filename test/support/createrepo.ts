// Runs the real createrepo_c (Debian's 0.17) on a temporary directory of RPMs and hands back the paths
// of the repodata it wrote, so that tests can compare rpmgate's repodata with the reference tool's.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
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
  /** repomd.xml as createrepo_c wrote it. */
  repomdXml: string;
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
    const repomdXml = await readFile(repomdPath, 'utf8');
    const repomd = await parseRepomd(repomdXml);
    const hrefOf = (type: string): string => {
      const record = repomd.records.find((r) => r.type === type);
      if (!record) throw new Error(`createrepo_c wrote no ${type} record`);
      return path.join(dir, record.href);
    };
    return { dir, repomdPath, repomdXml, repomd, primary: hrefOf('primary'), filelists: hrefOf('filelists'), other: hrefOf('other'), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * repomd.xml with what two writers of the same packages may not share blanked out: checksums (file
 * names carry them too), sizes, timestamps and the revision. What is left must agree with
 * createrepo_c: the XML declaration, namespaces, elements, attributes and their order, the records
 * present and their order.
 */
export function repomdSkeleton(xml: string): string {
  return xml
    .replace(/<revision>[^<]*<\/revision>/, '<revision>REVISION</revision>')
    .replace(/\b[0-9a-f]{64}\b/g, 'SHA256')
    .replace(/<(timestamp|size|open-size)>\d+<\/\1>/g, '<$1>N</$1>');
}

/** What a repomd.xml record must state of the file it names, computed from the file's bytes. */
export function recordFacts(bytes: Buffer, href: string): { checksum: string; size: number; openChecksum?: string; openSize?: number } {
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  if (!href.endsWith('.gz')) return { checksum: sha256(bytes), size: bytes.length };
  const open = gunzipSync(bytes);
  return { checksum: sha256(bytes), size: bytes.length, openChecksum: sha256(open), openSize: open.length };
}
