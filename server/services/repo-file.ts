// dnf .repo files for level repositories, set repositories and channels: gpgcheck and repo_gpgcheck on,
// the server's key, and a disabled "<id>-source" section (the name `dnf download --source` looks for).

export interface RepoFileInput {
  /** dnf repo id: letters, digits and -_.: only. */
  id: string;
  title: string;
  baseUrl: string;
  keyUrl: string;
  /** Seconds dnf may keep metadata: short for moving repositories, long for pinned ones. */
  metadataExpire: number;
  /** True when the server wants HTTP basic auth for repositories (RPMGATE_REPO_AUTH=1). */
  needsAuth: boolean;
}

export function repoId(parts: string[]): string {
  return ['rpmgate', ...parts].join('-').replace(/[^A-Za-z0-9_.:-]/g, '_');
}

export function renderRepoFile(input: RepoFileInput): string {
  const section = (id: string, title: string, baseUrl: string, enabled: boolean) =>
    [
      `[${id}]`,
      `name=${title}`,
      `baseurl=${baseUrl}`,
      `enabled=${enabled ? 1 : 0}`,
      'gpgcheck=1',
      'repo_gpgcheck=1',
      `gpgkey=${input.keyUrl}`,
      `metadata_expire=${input.metadataExpire}`,
      'skip_if_unavailable=0',
      ...(input.needsAuth ? ['# this server needs a token: set username=<any> and password=<token>'] : []),
    ].join('\n');
  return `${section(input.id, input.title, input.baseUrl, true)}\n\n${section(`${input.id}-source`, `${input.title} - sources`, `${input.baseUrl}source/`, false)}\n`;
}

/** The .repo file of a level, set or channel repository as served at /repo/...repo, for a public base URL. */
export function renderRepoFileFor(
  address: { kind: 'level'; level: string } | { kind: 'set'; name: string; version: string } | { kind: 'channel'; name: string; level: string },
  options: { base: string; title: string; needsAuth: boolean },
): string {
  const { base } = options;
  const pathPart =
    address.kind === 'level'
      ? `level/${address.level}`
      : address.kind === 'set'
        ? `set/${encodeURIComponent(address.name)}/${encodeURIComponent(address.version)}`
        : `set/${encodeURIComponent(address.name)}/latest/${address.level}`;
  const idParts =
    address.kind === 'level' ? ['level', address.level] : address.kind === 'set' ? ['set', address.name, address.version] : ['channel', address.name, address.level];
  return renderRepoFile({
    id: repoId(idParts),
    title: `rpmgate ${address.kind === 'channel' ? `${address.name} newest at ${address.level}` : options.title}`,
    baseUrl: `${base}/repo/${pathPart}/`,
    keyUrl: `${base}/keys/rpmgate.asc`,
    // A pinned set never changes what it holds; levels and channels move with promotions.
    metadataExpire: address.kind === 'set' ? 86_400 : 60,
    needsAuth: options.needsAuth,
  });
}

/** The URL path of a repository's .repo file. */
export function repoFilePath(address: { kind: 'set'; name: string; version: string } | { kind: 'channel'; name: string; level: string }): string {
  return address.kind === 'set'
    ? `/repo/set/${encodeURIComponent(address.name)}/${encodeURIComponent(address.version)}.repo`
    : `/repo/set/${encodeURIComponent(address.name)}/latest/${address.level}.repo`;
}
