// The commands that run the server's own code (serve, migrate, store fsck) load it from the TypeScript
// sources through tsx, also from the bundled CLI: the server reads files beside its modules (the SQL
// migrations, the console's assets, a worker script), and it starts in seconds anyway. Only the client
// commands, which scripts call hundreds of times, need the bundle's fast start.
declare const RPMGATE_CLI_BUNDLE: boolean | undefined;

/** Imports a module of the checkout by its path from the repository root (server/cli/ and dist/cli/ are both two levels down). */
export async function importServerModule<T>(pathFromRoot: string): Promise<T> {
  if (typeof RPMGATE_CLI_BUNDLE === 'boolean') {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return (await import(new URL(`../../${pathFromRoot}`, import.meta.url).href)) as T;
}
