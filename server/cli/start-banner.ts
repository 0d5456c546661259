// What `rpmgate serve` says once it listens: the URL, the data directory, the signing key's fingerprint
// and the next command to run. Plain lines for a person when stdout is a terminal (and
// RPMGATE_LOG_FORMAT is not json); otherwise one JSON log record with the same facts. The location of
// a first start's admin token is told here, once; the token itself is never printed or logged.
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { RunningServer } from '../runtime.ts';

export interface StartFacts {
  url: string;
  dataDir: string;
  keyFingerprint: string;
  /** Written by this start (server/services/initial-admin-token.ts), or null. */
  initialAdminTokenFile: string | null;
  /** RPMGATE_ADMIN_TOKEN is set. */
  adminTokenFromEnvironment: boolean;
}

export function startFacts(config: Config, server: Pick<RunningServer, 'url' | 'context' | 'initialAdminTokenFile'>): StartFacts {
  return {
    url: server.url,
    dataDir: config.dataDir,
    keyFingerprint: server.context.keyring.current().info.fingerprint,
    initialAdminTokenFile: server.initialAdminTokenFile,
    adminTokenFromEnvironment: config.adminToken !== null,
  };
}

/** The commands a person runs next, in the shell, against this server. */
export function nextCommands(facts: StartFacts): string[] {
  const token = facts.initialAdminTokenFile
    ? `$(cat ${shellWord(facts.initialAdminTokenFile)})`
    : facts.adminTokenFromEnvironment
      ? '$RPMGATE_ADMIN_TOKEN'
      : '<an admin token>';
  return [`export RPMGATE_URL=${facts.url} RPMGATE_TOKEN=${token}`, 'npx rpmgate token create --role developer --name alice'];
}

export function startBannerText(facts: StartFacts): string {
  const lines = [
    `rpmgate is ready at ${facts.url}`,
    `  data directory  ${facts.dataDir}`,
    `  signing key     ${groupFingerprint(facts.keyFingerprint)}  (hosts trust ${facts.url}/keys/rpmgate.asc)`,
  ];
  if (facts.initialAdminTokenFile) {
    lines.push(`  admin token     written to ${facts.initialAdminTokenFile} (first start; readable by this user only)`);
  } else if (!facts.adminTokenFromEnvironment) {
    lines.push('  admin token     an admin token exists already; ask its holder, or restart with RPMGATE_ADMIN_TOKEN set');
  }
  lines.push('next:', ...nextCommands(facts).map((command) => `  ${command}`));
  return `${lines.join('\n')}\n`;
}

export function announceStart(facts: StartFacts, log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  if (process.stdout.isTTY && env.RPMGATE_LOG_FORMAT !== 'json') {
    process.stdout.write(startBannerText(facts));
    return;
  }
  const { initialAdminTokenFile, adminTokenFromEnvironment: _fromEnvironment, ...rest } = facts;
  log.info('rpmgate ready', { ...rest, ...(initialAdminTokenFile ? { initialAdminTokenFile } : {}), next: nextCommands(facts) });
}

/** 40 hex digits in groups of four, as gpg prints a fingerprint. */
function groupFingerprint(fingerprint: string): string {
  return fingerprint.toUpperCase().replace(/(.{4})(?=.)/g, '$1 ');
}

function shellWord(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
