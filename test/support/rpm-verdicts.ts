// rpm's own verdict on many package files, in few invocations: `rpm -K --nosignature` (digests of
// header and payload, as rpm -i and dnf require them) and `rpm -qp` (what every query and install
// reads: header structure, header digests and signatures, the signature tags rpm merges into the
// header). rpm runs with a throwaway --dbpath and HOME, LC_ALL=C. A file that does not start with
// a whole lead with its magic is judged without running rpm: rpm -qp would read it as a manifest.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTool } from './rpm-tools.ts';

export interface RpmVerdict {
  ok: boolean;
  /** What rpm said about the file (its error lines, or "DIGESTS NOT OK"); empty when ok. */
  message: string;
}

export interface RpmVerdicts {
  /** rpm -K --nosignature */
  verify: RpmVerdict;
  /** rpm -qp (or rpm -qp --nosignature for the files given in `querySkippingSignatures`) */
  query: RpmVerdict;
}

const LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);

/**
 * rpm's verdicts for `files` (absolute paths, none a suffix of another), `batchSize` files per rpm
 * run. A batch whose exit status disagrees with the files it flagged (rpm counts failed files) is
 * run again one file at a time, so a crash cannot be taken for a verdict.
 */
export async function rpmVerdicts(
  files: readonly string[],
  options: { querySkippingSignatures?: ReadonlySet<string>; batchSize?: number } = {},
): Promise<Map<string, RpmVerdicts>> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'rpmgate-rpm-verdicts-'));
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, LC_ALL: 'C' };
  const base = ['--dbpath', path.join(scratch, 'db')];
  const results = new Map<string, RpmVerdicts>();
  try {
    const rpmFiles: string[] = [];
    for (const file of files) {
      if (await hasLeadMagic(file)) rpmFiles.push(file);
      else {
        const notRpm = { ok: false, message: 'not an rpm package (no lead)' };
        results.set(file, { verify: notRpm, query: notRpm });
      }
    }
    const skipping = rpmFiles.filter((file) => options.querySkippingSignatures?.has(file));
    const verify = await judge(rpmFiles, [...base, '-K', '--nosignature'], env, options.batchSize, verifyVerdict);
    const query = await judge(rpmFiles.filter((file) => !skipping.includes(file)), [...base, '-qp', '--qf', '%{NAME}\\n'], env, options.batchSize, queryVerdict);
    const queryNoSig = await judge(skipping, [...base, '-qp', '--nosignature', '--qf', '%{NAME}\\n'], env, options.batchSize, queryVerdict);
    for (const file of rpmFiles) results.set(file, { verify: verify.get(file)!, query: (query.get(file) ?? queryNoSig.get(file))! });
    return results;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

type Judge = (file: string, stdout: string, stderr: string) => RpmVerdict;

/** rpm -K prints "FILE: digests OK" for a file it verified; anything else is a failure. */
const verifyVerdict: Judge = (file, stdout, stderr) =>
  stdout.includes(`${file}: digests OK\n`) ? { ok: true, message: '' } : { ok: false, message: errorLines(file, stderr) || `${file}: DIGESTS NOT OK` };

/** rpm -qp prints "error: FILE: ..." for every file it cannot read. */
const queryVerdict: Judge = (file, _stdout, stderr) => {
  const message = errorLines(file, stderr);
  return { ok: message === '', message };
};

function errorLines(file: string, stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith(`error: ${file}: `))
    .join(' | ');
}

async function judge(files: readonly string[], args: string[], env: Record<string, string>, batchSize = 400, verdict: Judge): Promise<Map<string, RpmVerdict>> {
  const verdicts = new Map<string, RpmVerdict>();
  const runBatch = async (batch: readonly string[]): Promise<boolean> => {
    const result = await runTool('rpm', [...args, ...batch], env);
    const judged = batch.map((file) => [file, verdict(file, result.stdout, result.stderr)] as const);
    const failed = judged.filter(([, v]) => !v.ok).length;
    if (result.code !== failed % 256) return false;
    for (const [file, v] of judged) verdicts.set(file, v);
    return true;
  };
  for (let i = 0; i < files.length; i += batchSize) {
    const batch = files.slice(i, i + batchSize);
    if (await runBatch(batch)) continue;
    for (const file of batch) {
      if (!(await runBatch([file]))) verdicts.set(file, { ok: false, message: `rpm ${args.join(' ')} ${file} failed without saying why` });
    }
  }
  return verdicts;
}

async function hasLeadMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    // rpmLeadRead: a file shorter than the 96-byte lead is "not an rpm package" too.
    const lead = Buffer.alloc(96);
    const { bytesRead } = await handle.read(lead, 0, 96, 0);
    return bytesRead === 96 && lead.subarray(0, 4).equals(LEAD_MAGIC);
  } finally {
    await handle.close();
  }
}
