// Options every admin command shares: where the server is, the token, and --json.
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
}

const startWaitMs = 30_000;

/** Builds the API client and output from the root command's options and the environment. */
export function commandIo(command: Command): CommandIo {
  const options = command.optsWithGlobals<GlobalOptions>();
  const server = options.server ?? process.env.RPMGATE_URL ?? 'http://127.0.0.1:8080';
  const token = options.token ?? process.env.RPMGATE_TOKEN ?? null;
  const out = createOutput(Boolean(options.json));
  // A server on this machine that is still starting (`npm start &`, then a command at once) is waited for.
  const client = new ApiClient({ server, token, waitForStartMs: startWaitMs, onWait: (line) => out.progress(`rpmgate: ${line}`) });
  return { client, out };
}
