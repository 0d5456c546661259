// Options every admin command shares: where the server is, the token, and --json.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ApiClient } from '../../common/http-client.ts';
import { createOutput, type Output } from '../../common/cli-output.ts';

export interface GlobalOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

export interface CommandIo {
  client: ApiClient;
  out: Output;
  /** A token was given (option or environment). */
  authenticated: boolean;
}

const startWaitMs = 30_000;

/** True when the data dir of this shell (RPMGATE_DATA_DIR, default ./var) is locked by a live rpmgate. */
function localServerRunning(): boolean {
  try {
    const pid = Number(readFileSync(path.join(process.env.RPMGATE_DATA_DIR || 'var', 'rpmgate.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Builds the API client and output from the root command's options and the environment. */
export function commandIo(command: Command): CommandIo {
  const options = command.optsWithGlobals<GlobalOptions>();
  const server = options.server ?? process.env.RPMGATE_URL ?? 'http://127.0.0.1:8080';
  const token = options.token || process.env.RPMGATE_TOKEN || null;
  const out = createOutput(Boolean(options.json));
  // A server of this machine that is still starting (`npm start &`, then a command at once: its data
  // dir is locked by a live process) is waited for; otherwise a refused connection is said within 3 s,
  // so that a wrong URL or a stopped server does not cost half a minute.
  const client = new ApiClient({ server, token, waitForStartMs: startWaitMs, serverStarting: localServerRunning, onWait: (line) => out.progress(`rpmgate: ${line}`) });
  return { client, out, authenticated: token !== null };
}
