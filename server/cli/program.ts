// rpmgate's command line: wiring only. Each command's work lives in commands/; errors are caught once
// here and become one line on stderr and the exit code of their error code.
import { Command, CommanderError } from 'commander';
import { isRpmgateError } from '../../common/errors.ts';
import { commandIo } from './global-options.ts';
import { migrateCommand } from './commands/migrate.ts';
import { serveCommand } from './commands/serve.ts';
import { setCreateCommand, setDiffCommand, setListCommand, setPromoteCommand, setShowCommand, type SetCreateOptions } from './commands/set.ts';
import { tokenCreateCommand } from './commands/token.ts';
import { uploadCommand } from './commands/upload.ts';

export function buildProgram(): Command {
  const program = new Command('rpmgate')
    .description('dnf repository server for qualified package sets')
    .option('--server <url>', 'rpmgate server URL (default $RPMGATE_URL or http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (default $RPMGATE_TOKEN)')
    .option('--json', 'print machine-readable JSON')
    .exitOverride()
    .showHelpAfterError();

  program.command('serve').description('run the server (configured from the environment)').action(serveCommand);

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action((_options, command: Command) => migrateCommand(command.optsWithGlobals()));

  program
    .command('upload')
    .description('upload RPM files')
    .argument('<files...>', 'RPM files')
    .action((files: string[], _options, command: Command) => uploadCommand(commandIo(command), files));

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
    .action((name: string, version: string, nevras: string[], options: SetCreateOptions, command: Command) =>
      setCreateCommand(commandIo(command), name, version, nevras, options),
    );
  set
    .command('list')
    .description('list package sets (newest version first)')
    .option('--name <name>', 'one product line')
    .option('--level <level>', 'at or above this level')
    .action((options: { name?: string; level?: string }, command: Command) => setListCommand(commandIo(command), options));
  set
    .command('show')
    .description('a set with its packages and promotion history')
    .argument('<set>', 'NAME/VERSION')
    .action((reference: string, _options, command: Command) => setShowCommand(commandIo(command), reference));
  set
    .command('promote')
    .description('promote a set to a level (qa_ready, pre_release, release, obsolete)')
    .argument('<set>', 'NAME/VERSION')
    .argument('<level>')
    .option('--comment <text>')
    .action((reference: string, level: string, options: { comment?: string }, command: Command) =>
      setPromoteCommand(commandIo(command), reference, level, options),
    );
  set
    .command('diff')
    .description('what changed between two sets')
    .argument('<a>', 'NAME/VERSION')
    .argument('<b>', 'NAME/VERSION')
    .action((a: string, b: string, _options, command: Command) => setDiffCommand(commandIo(command), a, b));

  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create a token (admin only); the token is printed once')
    .requiredOption('--role <role>', 'developer, integ, qa, release_manager, cpe, admin, agent or enrollment')
    .requiredOption('--name <name>', 'who or what the token is for')
    .action((options: { role: string; name: string }, command: Command) => tokenCreateCommand(commandIo(command), options));

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
