// rpmgate's command line: wiring only. Each command's work lives in commands/; errors are caught once
// here and become one line on stderr and the exit code of their error code.
import { Command, CommanderError } from 'commander';
import { isRpmgateError } from '../../common/errors.ts';
import { commandIo } from './global-options.ts';
import { migrateCommand } from './commands/migrate.ts';
import { serveCommand } from './commands/serve.ts';
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
