// Progress of a large transfer (an upload of RPM files, a download), on stderr: a bar with the bytes
// moved, the total, the rate and the files done when stderr is a terminal (cli-progress draws it and
// keeps the per-file lines above it); without a terminal, a plain line every few seconds while it lasts.
// Small transfers show neither: they end before anyone could read it.
import cliProgress from 'cli-progress';

export interface TransferProgress {
  /** Bytes moved since the last call. */
  add(bytes: number): void;
  /** One file is done (its line is printed separately, through log). */
  fileDone(): void;
  /** A line for people, printed above the bar (or as is without one). */
  log(line: string): void;
  stop(): void;
}

export interface TransferProgressOptions {
  verb: 'uploading' | 'downloading';
  totalBytes: number;
  files: number;
  stream?: NodeJS.WriteStream;
  /** Below this many bytes in all, no progress is shown (default 8 MiB). */
  minBytes?: number;
  /** Between plain lines when the stream is not a terminal (default 5 s). */
  plainIntervalMs?: number;
}

export function startTransferProgress(options: TransferProgressOptions): TransferProgress {
  const stream = options.stream ?? process.stderr;
  const started = Date.now();
  let done = 0;
  let filesDone = 0;
  const rate = () => done / Math.max((Date.now() - started) / 1000, 0.001);
  const payload = () => ({ moved: formatBytes(done), whole: formatBytes(options.totalBytes), rate: `${formatBytes(rate())}/s`, filesDone, files: options.files });
  const large = options.totalBytes >= (options.minBytes ?? 8 * 1024 * 1024);

  if (large && stream.isTTY) {
    const bars = new cliProgress.MultiBar(
      {
        stream,
        format: `${options.verb} [{bar}] {percentage}% | {moved} of {whole} | {rate} | {filesDone}/{files} file(s) | ETA {eta_formatted}`,
        barCompleteChar: '=',
        barIncompleteChar: ' ',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.legacy,
    );
    const bar = bars.create(options.totalBytes, 0, payload());
    return {
      add(bytes) {
        done += bytes;
        bar.update(done, payload());
      },
      fileDone() {
        filesDone++;
        bar.update(done, payload());
      },
      log(line) {
        bars.log(`${line}\n`);
      },
      stop() {
        bar.update(done, payload());
        // Lines logged since the last frame are written by a frame: draw one before the final state.
        bars.update();
        bars.stop();
      },
    };
  }

  const timer = large
    ? setInterval(() => {
        const p = payload();
        stream.write(`${options.verb}: ${p.moved} of ${p.whole} (${p.rate}), ${p.filesDone}/${p.files} file(s) done\n`);
      }, options.plainIntervalMs ?? 5000)
    : null;
  timer?.unref();
  return {
    add(bytes) {
      done += bytes;
    },
    fileDone() {
      filesDone++;
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

/** 1536 → "1.5 KiB"; binary units, as the sizes of files are usually read. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}
