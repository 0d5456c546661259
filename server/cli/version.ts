// rpmgate's version: fixed into the bundle at build time (server/cli/build-bundle.ts defines
// RPMGATE_VERSION), read from the checkout's package.json when run from the sources.
import { readFileSync } from 'node:fs';

declare const RPMGATE_VERSION: string | undefined;

export const rpmgateVersion: string =
  typeof RPMGATE_VERSION === 'string'
    ? RPMGATE_VERSION
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
