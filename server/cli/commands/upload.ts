// `rpmgate upload FILE...`: streams each RPM to the server (several at a time), prints one line per file
// and a summary; exits 1 when any file was refused. Large uploads show their progress (bytes, rate) on
// stderr: a bar on a terminal, a plain line now and then otherwise (common/transfer-progress.ts).
import { storedPackageShape } from '../../../common/api-shapes.ts';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, Readable, Transform } from 'node:stream';
import { isRpmgateError, RpmgateError } from '../../../common/errors.ts';
import { startTransferProgress } from '../../../common/transfer-progress.ts';
import type { CommandIo } from '../global-options.ts';

interface FileOutcome {
  file: string;
  outcome: 'created' | 'exists' | 'refused';
  nevra?: string;
  status?: number;
  error?: string;
}

// Enough uploads in flight that the server's entry checks can batch them into shared rpmlint runs.
const parallelUploads = 16;

export async function uploadCommand(io: CommandIo, files: string[]): Promise<void> {
  // A mistyped file name is a usage error, found before anything is sent: no half-done upload run.
  const sizes = await Promise.all(files.map(regularFileSize));
  const outcomes: FileOutcome[] = [];
  const progress = startTransferProgress({ verb: 'uploading', totalBytes: sizes.reduce((a, b) => a + b, 0), files: files.length });
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      const outcome = await uploadOne(io, file, sizes[index]!, (bytes) => progress.add(bytes));
      outcomes.push(outcome);
      progress.fileDone();
      progress.log(`[${outcomes.length}/${files.length}] ${describe(outcome)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallelUploads, files.length) }, worker));
  } finally {
    progress.stop();
  }

  const count = (kind: FileOutcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  const summary = { created: count('created'), exists: count('exists'), refused: count('refused'), files: outcomes };
  io.out.result(summary, () => `${files.length} file(s): ${summary.created} stored, ${summary.exists} already present, ${summary.refused} refused`);
  if (summary.refused > 0) {
    // Every file was already reported; this only sets the exit status.
    throw new RpmgateError('unprocessable', `${summary.refused} of ${files.length} file(s) refused`);
  }
}

/** The file's size, or a usage error saying why it cannot be uploaded. */
export async function regularFileSize(file: string): Promise<number> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new RpmgateError('usage', `${file}: no such file; nothing was uploaded`);
  if (!info.isFile()) throw new RpmgateError('usage', `${file}: ${info.isDirectory() ? 'a directory' : 'not a regular file'}, not an RPM file; nothing was uploaded`);
  return info.size;
}

async function uploadOne(io: CommandIo, file: string, size: number, onBytes: (bytes: number) => void): Promise<FileOutcome> {
  try {
    const response = await postPackageFile(io, file, size, onBytes);
    return { file, outcome: response.status === 201 ? 'created' : 'exists', nevra: response.body.nevra, status: response.status };
  } catch (error) {
    // The server, not this file, is the problem: stop with its one line.
    if (isRpmgateError(error) && (error.code === 'connection' || error.code === 'not_rpmgate' || error.code === 'no_route')) throw error;
    if (isRpmgateError(error) && (error.code === 'unauthorized' || error.code === 'forbidden')) throw error;
    return { file, outcome: 'refused', error: error instanceof Error ? error.message : String(error) };
  }
}

/** Streams one RPM file to POST /api/v1/packages: 201 stored, 200 already there; anything else throws. */
export function postPackageFile(io: CommandIo, file: string, size: number, onBytes?: (bytes: number) => void) {
  return io.client.request<{ nevra: string }>('POST', '/api/v1/packages', {
    body: () => Readable.toWeb(onBytes ? counted(createReadStream(file), onBytes) : createReadStream(file)) as ReadableStream<Uint8Array>,
    headers: { 'content-type': 'application/x-rpm', 'content-length': String(size) },
    timeoutMs: null,
    expect: storedPackageShape,
  });
}

/** The file passed through, counting what the request has read of it (a read error reaches the request). */
function counted(source: Readable, onBytes: (bytes: number) => void): Transform {
  const through = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
  pipeline(source, through, () => undefined);
  return through;
}

function describe(outcome: FileOutcome): string {
  switch (outcome.outcome) {
    case 'created':
      return `${outcome.file}: stored as ${outcome.nevra}`;
    case 'exists':
      return `${outcome.file}: already present as ${outcome.nevra}`;
    case 'refused':
      return `${outcome.file}: refused: ${outcome.error}`;
  }
}
