// `rpmgate wait [--timeout SECONDS]`: returns once the server answers and its database is up, so that
// a script can start the server in the background and go on (`npm start &` then `rpmgate wait`).
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';

export async function waitCommand(io: CommandIo, options: { timeout: string }): Promise<void> {
  const seconds = Number(options.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RpmgateError('usage', `--timeout takes a number of seconds, not "${options.timeout}"`);
  const started = Date.now();
  await io.client.waitUntilUp(seconds * 1000);
  const waited = ((Date.now() - started) / 1000).toFixed(1);
  io.out.result({ server: io.client.server, ready: true, waitedSeconds: Number(waited) }, () => `${io.client.server} is up (waited ${waited} s)`);
}
