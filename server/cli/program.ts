// rpmgate's command line: wiring only. Each command's work lives in commands/; errors are caught once
// here and become one line on stderr and the exit code of their error code.
import { Command, CommanderError } from 'commander';
import { isRpmgateError } from '../../common/errors.ts';
import { commandIo } from './global-options.ts';
import type { SetCreateOptions } from './commands/set.ts';

// Command modules load on first use: `rpmgate set list` need not load the server, the database
// driver or the RPM reader.
const commands = {
  serve: () => import('./commands/serve.ts'),
  migrate: () => import('./commands/migrate.ts'),
  upload: () => import('./commands/upload.ts'),
  set: () => import('./commands/set.ts'),
  token: () => import('./commands/token.ts'),
  key: () => import('./commands/key.ts'),
  hosts: () => import('./commands/hosts.ts'),
  usage: () => import('./commands/usage.ts'),
  agent: () => import('./commands/agent.ts'),
  store: () => import('./commands/store.ts'),
};

export function buildProgram(): Command {
  const program = new Command('rpmgate')
    .description('dnf repository server for qualified package sets')
    .option('--server <url>', 'rpmgate server URL (default $RPMGATE_URL or http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (default $RPMGATE_TOKEN)')
    .option('--json', 'print machine-readable JSON')
    .exitOverride()
    .showHelpAfterError();

  program.command('serve').description('run the server (configured from the environment)').action(async () => (await commands.serve()).serveCommand());

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async (_options, command: Command) => (await commands.migrate()).migrateCommand(command.optsWithGlobals()));

  program
    .command('upload')
    .description('upload RPM files')
    .argument('<files...>', 'RPM files')
    .action(async (files: string[], _options, command: Command) => (await commands.upload()).uploadCommand(commandIo(command), files));

  const set = program.command('set').description('package sets');
  set
    .command('create')
    .description('create a package set from stored packages')
    .argument('<name>')
    .argument('<version>')
    .argument('[nevra...]', 'packages, as name-[epoch:]version-release.arch')
    .option('--from <file>', 'read packages from a file, one per line')
    .option('--resolve', 'add stored packages needed to satisfy every Requires')
    .option('--allow-unresolved', 'create the set even if some Requires stay unsatisfied (sets layered on an OS)')
    .option('--no-sources', 'do not add the source packages of the binaries')
    .option('--description <text>')
    .action(async (name: string, version: string, nevras: string[], options: SetCreateOptions, command: Command) =>
      (await commands.set()).setCreateCommand(commandIo(command), name, version, nevras, options),
    );
  set
    .command('list')
    .description('list package sets (newest version first)')
    .option('--name <name>', 'one product line')
    .option('--level <level>', 'at or above this level')
    .action(async (options: { name?: string; level?: string }, command: Command) => (await commands.set()).setListCommand(commandIo(command), options));
  set
    .command('show')
    .description('a set with its packages and promotion history')
    .argument('<set>', 'NAME/VERSION')
    .action(async (reference: string, _options, command: Command) => (await commands.set()).setShowCommand(commandIo(command), reference));
  set
    .command('promote')
    .description('promote a set to a level (qa_ready, pre_release, release, obsolete)')
    .argument('<set>', 'NAME/VERSION')
    .argument('<level>')
    .option('--comment <text>')
    .action(async (reference: string, level: string, options: { comment?: string }, command: Command) =>
      (await commands.set()).setPromoteCommand(commandIo(command), reference, level, options),
    );
  set
    .command('diff')
    .description('what changed between two sets')
    .argument('<a>', 'NAME/VERSION')
    .argument('<b>', 'NAME/VERSION')
    .action(async (a: string, b: string, _options, command: Command) => (await commands.set()).setDiffCommand(commandIo(command), a, b));

  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create a token (admin only); the token is printed once')
    .requiredOption('--role <role>', 'developer, integ, qa, release_manager, cpe, admin, agent or enrollment')
    .requiredOption('--name <name>', 'who or what the token is for')
    .action(async (options: { role: string; name: string }, command: Command) => (await commands.token()).tokenCreateCommand(commandIo(command), options));

  program
    .command('hosts')
    .description('hosts of the fleet with their conformance to their package set')
    .option('--set <set>', 'only hosts assigned to this set (NAME/VERSION)')
    .option('--drifting', 'only hosts that drift from their set')
    .option('--strict', 'count packages the set does not name as drift too')
    .action(async (options: { set?: string; drifting?: boolean; strict?: boolean }, command: Command) =>
      (await commands.hosts()).hostsCommand(commandIo(command), options),
    );

  program
    .command('usage')
    .description('which hosts run which versions of a package, and which sets hold it')
    .argument('<name>', 'package name')
    .option('--hosts <n>', 'hosts listed per version (default 100)')
    .action(async (name: string, options: { hosts?: string }, command: Command) => (await commands.usage()).usageCommand(commandIo(command), name, options));

  const key = program.command('key').description('the signing keys');
  key
    .command('show')
    .description('the current signing key (its fingerprint), every key, and re-signing progress')
    .action(async (_options, command: Command) => (await commands.key()).keyShowCommand(commandIo(command)));
  key
    .command('add')
    .description('add a signing key (published, not yet signing): generated, or from an armored private key')
    .option('--file <file>', 'an ASCII-armored private key')
    .option('--passphrase <passphrase>', 'its passphrase (default $RPMGATE_SIGNING_KEY_PASSPHRASE)')
    .option('--algorithm <algorithm>', 'for a generated key: rsa3072, rsa4096 or ed25519')
    .action(async (options: { file?: string; algorithm?: string; passphrase?: string }, command: Command) =>
      (await commands.key()).keyAddCommand(commandIo(command), options),
    );
  key
    .command('activate')
    .description('make a key current: new uploads are signed with it and stored packages are re-signed in the background')
    .argument('<fingerprint>')
    .action(async (fingerprint: string, _options, command: Command) => (await commands.key()).keyActivateCommand(commandIo(command), fingerprint));
  key
    .command('retire')
    .description('stop publishing a key, once hosts have the new one')
    .argument('<fingerprint>')
    .action(async (fingerprint: string, _options, command: Command) => (await commands.key()).keyRetireCommand(commandIo(command), fingerprint));

  const agent = program.command('agent').description("the host agent's package, served at /repo/agent/");
  agent
    .command('publish')
    .description('upload an rpmgate-agent RPM (npm run build:agent-rpm) for hosts to install from /repo/agent/ (admin)')
    .argument('<file>', 'rpmgate-agent-VERSION-RELEASE.noarch.rpm')
    .action(async (file: string, _options, command: Command) => (await commands.agent()).agentPublishCommand(commandIo(command), file));

  const store = program.command('store').description('the package store');
  store
    .command('fsck')
    .description('rows whose stored file is missing or damaged, and stored files no row names (admin)')
    .option('--repair', 'remove stored files no row names (older than an hour)')
    .action(async (options: { repair?: boolean }, command: Command) => (await commands.store()).storeFsckCommand(commandIo(command), options));
  store
    .command('migrate')
    .description("copy this machine's package store to another (s3://BUCKET/PREFIX or a directory), verifying each file's sha256; run again after switching")
    .requiredOption('--to <url>', 's3://BUCKET/PREFIX (RPMGATE_S3_ENDPOINT, RPMGATE_S3_REGION and AWS credentials from the environment)')
    .action(async (options: { to: string }, command: Command) => (await commands.store()).storeMigrateCommand(commandIo(command), options));

  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (usage errors, --help, --version).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isRpmgateError(error)) {
      process.stderr.write(`rpmgate: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`rpmgate: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
