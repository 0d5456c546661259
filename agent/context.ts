// What every agent command shares, resolved once from the global options and the environment:
// the server and token, the rpm root, where .repo files and spooled reports live, and the output.
import path from 'node:path';
import { RpmgateError } from '../common/errors.ts';
import { ApiClient } from '../common/http-client.ts';
import { createOutput, type Output } from '../common/cli-output.ts';
import { defaultEnvFile, readEnvFile } from './env-file.ts';

export interface GlobalOptions {
  server?: string;
  token?: string;
  rpmRoot?: string;
  reposDir?: string;
  spoolDir?: string;
  json?: boolean;
}

export interface AgentContext {
  /** Server URL, or null when neither --server nor RPMGATE_URL is given. */
  server: string | null;
  token: string | null;
  /** Absolute path of the inspected root, or null for the running system (/). */
  rpmRoot: string | null;
  reposDir: string;
  /** True when --repos-dir was given: dnf is then pointed at it explicitly (reposdir=). */
  reposDirExplicit: boolean;
  spoolDir: string;
  /** The environment file enroll writes and every command reads (under --rpm-root when given). */
  envFile: string;
  out: Output;
  /** The API client; a usage error when no server is configured. */
  client(): ApiClient;
}

export function createContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): AgentContext {
  // `--rpm-root /` (what the dnf hooks pass for the running system) is the running system.
  const rpmRoot = options.rpmRoot && path.resolve(options.rpmRoot) !== '/' ? path.resolve(options.rpmRoot) : null;
  // Under --rpm-root the repo files, the spool and the enrollment belong to that root (an image or
  // chroot being managed), not to the machine the agent happens to run on.
  const underRoot = (dir: string) => (rpmRoot ? path.join(rpmRoot, dir) : dir);
  const envFile = underRoot(defaultEnvFile);
  // Options first, then the environment (the service's EnvironmentFile sets it), then the file itself.
  // An empty option or variable (RPMGATE_TOKEN= in a unit file) counts as not given.
  const enrolled = options.server && options.token ? {} : readEnvFile(envFile);
  const server = options.server || env.RPMGATE_URL || enrolled.RPMGATE_URL || null;
  const token = options.token || env.RPMGATE_TOKEN || enrolled.RPMGATE_TOKEN || null;
  let client: ApiClient | null = null;
  return {
    server,
    token,
    rpmRoot,
    reposDir: options.reposDir ? path.resolve(options.reposDir) : underRoot('/etc/yum.repos.d'),
    reposDirExplicit: Boolean(options.reposDir),
    spoolDir: options.spoolDir ? path.resolve(options.spoolDir) : underRoot('/var/spool/rpmgate-agent'),
    envFile,
    out: createOutput(Boolean(options.json)),
    client() {
      if (!server) throw new RpmgateError('usage', 'no server: pass --server URL or set RPMGATE_URL');
      client ??= new ApiClient({ server, token });
      return client;
    },
  };
}
