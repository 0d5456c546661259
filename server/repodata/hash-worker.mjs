// A worker thread that computes sha256 digests of byte streams given as pieces: bytes sent along, or
// ranges of files (repodata chunks) it reads itself. It takes a document's open-checksum (the digest of
// up to ≈ 250 MB of uncompressed XML at 100,000 packages) off the main thread, and lets the three
// documents be hashed at once. Plain JavaScript so that it loads in any runtime the server runs in
// (tsx, vitest, node) without a TypeScript loader; its protocol is typed in open-hasher.ts.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const jobs = new Map();
const buffer = Buffer.allocUnsafe(1024 * 1024);

function hashFileRange(job, path, offset, length) {
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, length - done), offset + done);
      if (read === 0) throw new Error(`${path} ends before byte ${offset + length}`);
      job.hash.update(buffer.subarray(0, read));
      done += read;
    }
    job.length += length;
  } finally {
    closeSync(fd);
  }
}

parentPort.on('message', (message) => {
  const { id, op } = message;
  if (op === 'start') {
    jobs.set(id, { hash: createHash('sha256'), length: 0, error: null });
    return;
  }
  const job = jobs.get(id);
  if (!job) return;
  if (op === 'end') {
    jobs.delete(id);
    parentPort.postMessage(job.error ? { id, error: job.error } : { id, digest: job.hash.digest('hex'), length: job.length });
    return;
  }
  if (op === 'abort') {
    jobs.delete(id);
    return;
  }
  if (job.error) return;
  try {
    if (op === 'bytes') {
      job.hash.update(message.bytes);
      job.length += message.bytes.length;
    } else if (op === 'file') {
      hashFileRange(job, message.path, message.offset, message.length);
    }
  } catch (error) {
    job.error = String(error instanceof Error ? error.message : error);
  }
});
