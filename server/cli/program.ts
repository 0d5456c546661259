// rpmgate's command line: wiring only. Each command's work lives in commands/; errors are caught once
// here and become one line on stderr and the exit code of their error code.
import { Command, CommanderError } from 'commander';
import { isRpmgateError, RpmgateError } from '../../common/errors.ts';
import { commandIo } from './global-options.ts';
import { importServerModule } from './server-sources.ts';
import { markServerStarting } from './starting-mark.ts';
import { rpmgateVersion } from './version.ts';
import { addCommandHelp } from '../../common/cli-help.ts';
import { exitTwo, rpmgateHelp } from './help-table.ts';
import type { SetCreateOptions } from './commands/set.ts';

// Command modules load on first use: `rpmgate set list` need not load the server, the database
// driver or the RPM reader.
const commands = {
  serve: () => importServerModule<typeof import('./commands/serve.ts')>('server/cli/commands/serve.ts'),
  migrate: () => importServerModule<typeof import('./commands/migrate.ts')>('server/cli/commands/migrate.ts'),
  upload: () => import('./commands/upload.ts'),
  set: () => import('./commands/set.ts'),
  token: () => import('./commands/token.ts'),
  key: () => import('./commands/key.ts'),
  hosts: () => import('./commands/hosts.ts'),
  usage: () => import('./commands/usage.ts'),
  agent: () => import('./commands/agent.ts'),
  wait: () => import('./commands/wait.ts'),
  store: () => importServerModule<typeof import('./commands/store.ts')>('server/cli/commands/store.ts'),
  backup: () => importServerModule<typeof import('./commands/backup.ts')>('server/cli/commands/backup.ts'),
  exception: () => import('./commands/exception.ts'),
  package: () => import('./commands/package.ts'),
  check: () => import('./commands/check.ts'),
  cleanup: () => import('./commands/cleanup.ts'),
  mirror: () => import('./commands/mirror.ts'),
};

export function buildProgram(): Command {
  const program = new Command('rpmgate')
    .description('dnf repository server for qualified package sets')
    .option('--server <url>', 'rpmgate server URL (default $RPMGATE_URL or http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (default $RPMGATE_TOKEN)')
    .option('--json', 'print machine-readable JSON')
    .version(rpmgateVersion)
    .exitOverride()
    // A usage mistake is one line with the nearest command name, not the whole help.
    .configureOutput({ outputError: (message, write) => write(oneLineUsageError(message)) });

  program
    .command('serve')
    .description('run the server (configured from the environment)')
    .action(async () => {
      markServerStarting();
      await (await commands.serve()).serveCommand();
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async (_options, command: Command) => (await commands.migrate()).migrateCommand(command.optsWithGlobals()));

  program
    .command('wait')
    .description('wait until the server answers (after starting it in the background: npm start & then rpmgate wait)')
    .option('--timeout <seconds>', 'give up after this long (exit 2)', '60')
    .action(async (options: { timeout: string }, command: Command) => (await commands.wait()).waitCommand(commandIo(command), options));

  program
    .command('upload')
    .description('upload RPM files')
    .argument('<files...>', 'RPM files')
    .action(async (files: string[], _options, command: Command) => (await commands.upload()).uploadCommand(commandIo(command), files));

  const set = program.command('set').description('package sets');
  set
    .command('create')
    .description('create a package set from stored packages and packages of synced mirrors')
    .argument('<name>', 'the product line, e.g. billing (letters, digits and . _ + -)')
    .argument('<version>', 'a version never used before by this name, e.g. 4.2.0 (ordered as rpm orders versions)')
    .argument('[nevra...]', 'stored packages, as name-[epoch:]version-release.arch')
    .option('--from <file>', 'read packages from a file, one per line')
    .option('--resolve', 'add stored packages needed to satisfy every Requires')
    .option('--allow-unresolved', 'create the set even if some Requires stay unsatisfied (sets layered on an OS)')
    .option('--prefer <which>', 'with --resolve: proven (default: the provider that reached the highest level, then the newest) or newest')
    .option('--min-level <level>', 'with --resolve: add nothing below this level (qa_ready, pre_release, release)')
    .option('--no-sources', 'do not add the source packages of the binaries')
    .option('--require-clean', 'refuse members with entry-check errors no exception waives')
    .option('--description <text>', 'what the set is, shown by set show')
    .option('--wait <seconds>', 'wait this long for upstream members to be adopted (fetched, checked, signed)', '900')
    .option('--no-wait', 'return at once; upstream members are adopted in the background (set show tells)')
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
    .argument('<level>', 'the next level: qa_ready, pre_release, release; or obsolete from any level')
    .option('--comment <text>', 'why, kept in the promotion history')
    .action(async (reference: string, level: string, options: { comment?: string }, command: Command) =>
      (await commands.set()).setPromoteCommand(commandIo(command), reference, level, options),
    );
  set
    .command('diff')
    .description('what changed between two sets')
    .argument('<a>', 'the older set, NAME/VERSION')
    .argument('<b>', 'the newer set, NAME/VERSION')
    .action(async (a: string, b: string, _options, command: Command) => (await commands.set()).setDiffCommand(commandIo(command), a, b));
  set
    .command('delete')
    .description('delete a set that was never released (admin); its packages stay, and its version is never used again')
    .argument('<set>', 'NAME/VERSION')
    .option('--comment <text>', 'why, for the audit record')
    .action(async (reference: string, options: { comment?: string }, command: Command) =>
      (await commands.set()).setDeleteCommand(commandIo(command), reference, options),
    );

  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create a token (admin only); the token is printed once')
    .requiredOption('--role <role>', 'developer, integ, qa, release_manager, cpe, admin, agent or enrollment')
    .requiredOption('--name <name>', 'who or what the token is for')
    .action(async (options: { role: string; name: string }, command: Command) => (await commands.token()).tokenCreateCommand(commandIo(command), options));
  token
    .command('list')
    .description('live tokens with their id, name, role and creator, never their secret (admin only)')
    .option('--all', 'revoked tokens too')
    .action(async (options: { all?: boolean }, command: Command) => (await commands.token()).tokenListCommand(commandIo(command), options));
  token
    .command('revoke')
    .description('revoke a token by its id or its name (admin only): every server refuses it from its next request')
    .argument('<token>', 'ID or NAME, as rpmgate token list shows them')
    .action(async (reference: string, _options, command: Command) => (await commands.token()).tokenRevokeCommand(commandIo(command), reference));

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
    .argument('<fingerprint>', 'the key, as key show lists it')
    .action(async (fingerprint: string, _options, command: Command) => (await commands.key()).keyActivateCommand(commandIo(command), fingerprint));
  key
    .command('retire')
    .description('stop publishing a key, once hosts have the new one')
    .argument('<fingerprint>', 'the key, as key show lists it')
    .action(async (fingerprint: string, _options, command: Command) => (await commands.key()).keyRetireCommand(commandIo(command), fingerprint));

  const exception = program.command('exception').description('entry-check exceptions (admin, integ, release_manager grant and remove)');
  exception
    .command('add')
    .description('waive a check for a package (name or glob), optionally for some files, until a date or a version')
    .requiredOption('--check <id>', 'the check id a finding names (forbidden-path, rpmlint:no-binary, ...) or a glob')
    .requiredOption('--package <name>', 'a package name or a glob over names')
    .requiredOption('--reason <text>', 'why, for the record')
    .option('--path <glob>', 'only findings on files matching this path glob')
    .option('--expires <date>', 'stops applying at this ISO date')
    .option('--until-version <version>', "applies only while the package's version is below this one (rpm's ordering)")
    .action(async (options: import('./commands/exception.ts').ExceptionAddOptions, command: Command) =>
      (await commands.exception()).exceptionAddCommand(commandIo(command), options),
    );
  exception
    .command('list')
    .description('exceptions not removed, with their state (active or expired)')
    .action(async (_options, command: Command) => (await commands.exception()).exceptionListCommand(commandIo(command)));
  exception
    .command('remove')
    .description('remove an exception (kept in the audit)')
    .argument('<id>', 'the number exception list shows')
    .action(async (id: string, _options, command: Command) => (await commands.exception()).exceptionRemoveCommand(commandIo(command), id));

  const mirror = program.command('mirror').description('upstream repositories: synced metadata, a caching proxy at /repo/mirror/NAME/, packages adopted into sets (admin)');
  mirror
    .command('add')
    .description('add an upstream repository (then: mirror sync NAME)')
    .argument('<name>', 'the mirror name, used in /repo/mirror/NAME/')
    .argument('<baseurl>', "the upstream's base URL (where repodata/ is)")
    .option('--key <file>', "the upstream's ASCII-armored public key (repeatable): repomd.xml.asc and package signatures must verify with one", (value: string, previous: string[] = []) => [...previous, value])
    .option('--source-baseurl <url>', "the upstream's source repository (SRPMs)")
    .option('--arch <list>', 'binary arches to record, comma-separated (noarch always)')
    .action(async (name: string, baseurl: string, options: import('./commands/mirror.ts').MirrorAddOptions, command: Command) =>
      (await commands.mirror()).mirrorAddCommand(commandIo(command), name, baseurl, options),
    );
  mirror
    .command('sync')
    .description("read the upstream's metadata again (incremental; a failure keeps the previous state)")
    .argument('<name>', 'the mirror, as mirror list shows it')
    .action(async (name: string, _options, command: Command) => (await commands.mirror()).mirrorSyncCommand(commandIo(command), name));
  mirror
    .command('fetch')
    .description('adopt upstream packages into the store (verified, checked on entry, signed by rpmgate), with their sources')
    .argument('<nevra...>', "upstream packages, as name-[epoch:]version-release.arch (mirror show lists the upstream's)")
    .action(async (nevras: string[], _options, command: Command) => (await commands.mirror()).mirrorFetchCommand(commandIo(command), nevras));
  mirror
    .command('list')
    .description('mirrors with their last sync')
    .action(async (_options, command: Command) => (await commands.mirror()).mirrorListCommand(commandIo(command)));
  mirror
    .command('show')
    .description('one mirror')
    .argument('<name>', 'the mirror, as mirror list shows it')
    .action(async (name: string, _options, command: Command) => (await commands.mirror()).mirrorShowCommand(commandIo(command), name));
  mirror
    .command('remove')
    .description('remove a mirror (packages adopted from it stay)')
    .argument('<name>', 'the mirror, as mirror list shows it')
    .action(async (name: string, _options, command: Command) => (await commands.mirror()).mirrorRemoveCommand(commandIo(command), name));

  const pkg = program.command('package').description('stored packages');
  pkg
    .command('show')
    .description('a package by NEVRA: its level, sets and entry-check findings; by NAME: every stored version, newest first, with the highest level it reached and the sets holding it')
    .argument('<package>', 'NEVRA (name-[epoch:]version-release.arch) or NAME')
    .action(async (nevra: string, _options, command: Command) => (await commands.package()).packageShowCommand(commandIo(command), nevra));
  pkg
    .command('delete')
    .description('delete a stored package that no set holds (admin); its file is removed unless another package names it')
    .argument('<nevra>', 'name-[epoch:]version-release.arch')
    .option('--comment <text>', 'why, for the audit record')
    .action(async (nevra: string, options: { comment?: string }, command: Command) =>
      (await commands.package()).packageDeleteCommand(commandIo(command), nevra, options),
    );

  program
    .command('check')
    .description('run the entry checks again over every stored package (admin); lists what would now be refused, deletes nothing')
    .option('--all', 'every stored package')
    .option('--dry-run', 'report only: keep the recorded findings')
    .action(async (options: { all?: boolean; dryRun?: boolean }, command: Command) => (await commands.check()).checkCommand(commandIo(command), options));

  program
    .command('cleanup')
    .description('what the cleanup would delete, warn about or spare, with reasons (default), or run it (admin)')
    .option('--dry-run', 'show what each phase would do, changing nothing (the default)')
    .option('--now <iso-date>', 'as of this date instead of now (with --dry-run)')
    .option('--limit <n>', 'items listed per section (default 1000; the counts cover all)')
    .option('--run', 'run the cleanup now: withdraw, delete what is due, warn, give files back, mail (admin)')
    .action(async (options: { dryRun?: boolean; run?: boolean; now?: string; limit?: string }, command: Command) =>
      (await commands.cleanup()).cleanupCommand(commandIo(command), options),
    );

  const store = program.command('store').description('the package store on this machine');
  store
    .command('fsck')
    .description('check that every stored file a row names is there and every stored file is named (run where the server runs; stop it first with the embedded database)')
    .option('--repair', 'remove files no row names and rows of old served files whose file is gone')
    .option('--verify', "hash every file against its sha256 (reads the whole store)")
    .action(async (options: { repair?: boolean; verify?: boolean }, command: Command) =>
      (await commands.store()).storeFsckCommand({ ...options, json: command.optsWithGlobals<{ json?: boolean }>().json }),
    );

  program
    .command('backup')
    .description('back up the database, the package files and the keys into DIR while the server runs (run where the server runs; a second backup into DIR copies only new package files)')
    .argument('<dir>', 'the backup directory')
    .action(async (dir: string, _options, command: Command) => (await commands.backup()).backupCommand(dir, { json: command.optsWithGlobals<{ json?: boolean }>().json }));
  program
    .command('restore')
    .description('restore a backup from DIR into a new, empty RPMGATE_DATA_DIR (and database), then start it with rpmgate serve')
    .argument('<dir>', 'the backup directory')
    .action(async (dir: string, _options, command: Command) => (await commands.backup()).restoreCommand(dir, { json: command.optsWithGlobals<{ json?: boolean }>().json }));

  const agent = program.command('agent').description("the host agent's package, served at /repo/agent/");
  agent
    .command('publish')
    .description('upload an rpmgate-agent RPM (npm run build:agent-rpm) for hosts to install from /repo/agent/ (admin)')
    .argument('<file>', 'rpmgate-agent-VERSION-RELEASE.noarch.rpm')
    .action(async (file: string, _options, command: Command) => (await commands.agent()).agentPublishCommand(commandIo(command), file));

  store
    .command('migrate')
    .description("copy this machine's package store to another (s3://BUCKET/PREFIX or a directory), verifying each file's sha256; run again after switching")
    .requiredOption('--to <url>', 's3://BUCKET/PREFIX (RPMGATE_S3_ENDPOINT, RPMGATE_S3_REGION and AWS credentials from the environment)')
    .action(async (options: { to: string }, command: Command) =>
      (await commands.store()).storeMigrateCommand({ ...options, json: command.optsWithGlobals<{ json?: boolean }>().json }),
    );
  program
    .command('completion')
    .description('print a shell completion script: source <(rpmgate completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => {
      const { bashCompletion, zshCompletion } = await import('./completion.ts');
      if (shell !== 'bash' && shell !== 'zsh') throw new RpmgateError('usage', `completion is written for bash or zsh, not "${shell}"`);
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });

  addCommandHelp(program, rpmgateHelp, exitTwo, 'set create');
  return program;
}

/** commander's "error: unknown command 'sett'\n(Did you mean set?)" as "rpmgate: unknown command 'sett' (did you mean set?)". */
export function oneLineUsageError(message: string): string {
  const text = message.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').replace(/\(Did you mean/g, '(did you mean').trim();
  return `rpmgate: ${text}; see rpmgate --help\n`;
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
