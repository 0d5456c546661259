// The agent's version: fixed into the bundle at build time (agent/packaging/build-bundle.ts defines
// RPMGATE_AGENT_VERSION), read from the checkout's package.json when run from the sources.
import { readFileSync } from 'node:fs';

declare const RPMGATE_AGENT_VERSION: string | undefined;

export const agentVersion: string =
  typeof RPMGATE_AGENT_VERSION === 'string'
    ? RPMGATE_AGENT_VERSION
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
