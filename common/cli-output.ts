// How both command-line programs print: human lines by default, one JSON document with --json;
// progress and warnings always go to stderr so that stdout stays parseable.
export interface Output {
  json: boolean;
  /** Prints a result: `human()` for people, `data` as JSON with --json. */
  result(data: unknown, human: () => string): void;
  /** Progress and warnings (stderr). */
  progress(line: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
    },
    progress(line) {
      process.stderr.write(`${line}\n`);
    },
  };
}
