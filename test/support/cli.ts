// Runs the real command-line programs (bin/rpmgate.js, bin/rpmgate-agent.js) as child processes.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(program: 'rpmgate' | 'rpmgate-agent', args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin', `${program}.js`), ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 2) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function rpmgate(server: { url: string }, token: string, args: string[]): Promise<CliResult> {
  return runCli('rpmgate', args, { RPMGATE_URL: server.url, RPMGATE_TOKEN: token });
}
