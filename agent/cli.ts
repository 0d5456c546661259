// rpmgate-agent's command line: wiring only. Each command lives in commands/ and is imported when it
// runs, so that `report` from a timer does not load the XML parsers `download` needs. Errors are
// caught once here and become one line on stderr and exit status 2; commands return 0, or 1 for
// "no" (drift, a failed verification).
import { Command, CommanderError, Option } from 'commander';
import { addCommandHelp, type CommandHelp } from '../common/cli-help.ts';
import { isRpmgateError } from '../common/errors.ts';
import { createContext, type GlobalOptions } from './context.ts';
import { agentVersion } from './version.ts';

type Action = (command: Command) => Promise<number>;

export function buildProgram(setStatus: (code: number) => void): Command {
  const program = new Command('rpmgate-agent')
    .description('report, check and converge this host against an rpmgate package set')
    .option('--server <url>', 'rpmgate server URL (default $RPMGATE_URL)')
    .option('--token <token>', 'API token of role agent (default $RPMGATE_TOKEN)')
    .option('--rpm-root <dir>', 'inspect and manage the rpm database under DIR instead of / (as rpm --root)')
    .option('--repos-dir <dir>', 'where .repo files go (default /etc/yum.repos.d, under --rpm-root when given)')
    .option('--spool-dir <dir>', 'undelivered reports (default /var/spool/rpmgate-agent, under --rpm-root when given)')
    .option('--json', 'print machine-readable JSON')
    .version(agentVersion)
    .exitOverride()
    .showHelpAfterError();

  const run = (action: Action) => async (...args: unknown[]) => {
    setStatus(await action(args.at(-1) as Command));
  };
  const context = (command: Command) => createContext(command.optsWithGlobals<GlobalOptions>());

  program
    .command('report')
    .description("send this host's installed packages to the server (spooled when it cannot be reached)")
    .option('--set <set>', 'the set the host follows, NAME/VERSION (default: from the configured .repo file)')
    .addOption(new Option('--retries <n>', 'retries per report when the server is unavailable').default('3'))
    .addOption(new Option('--retry-delay <ms>', 'first retry delay, doubled each time').default('2000'))
    .action(
      run(async (command) => {
        const { reportCommand } = await import('./commands/report.ts');
        return reportCommand(context(command), command.opts());
      }),
    );

  program
    .command('enroll')
    .description("mint this host's agent token with a fleet's enrollment token and keep it for the report service")
    .option('--enrollment-token <token>', 'a token of role enrollment (default $RPMGATE_ENROLLMENT_TOKEN)')
    .option('--env-file <file>', 'where the server URL and agent token go (default /etc/rpmgate/agent.env, under --rpm-root when given)')
    .option('--replace', "replace the host's live agent token (needs an admin token as --enrollment-token)")
    .action(
      run(async (command) => {
        const { enrollCommand } = await import('./commands/enroll.ts');
        return enrollCommand(context(command), command.opts());
      }),
    );

  program
    .command('check')
    .description('compare the installed packages with a set: exit 0 conforming, 1 drifting')
    .option('--set <set>', 'NAME/VERSION (default: the set of the .repo file configure wrote, as report finds it)')
    .option('--strict', 'count installed packages that are not in the set as drift')
    .option('--extra', 'list the installed packages that are not in the set (listed always with --strict)')
    .action(
      run(async (command) => {
        const { checkCommand } = await import('./commands/check.ts');
        return checkCommand(context(command), command.opts());
      }),
    );

  program
    .command('configure')
    .description("write the set's .repo file into the repos dir")
    .requiredOption('--set <set>', 'NAME/VERSION')
    .option('--replace-duplicates', 'remove other .repo files that define the same repo id (else: a warning names them)')
    .action(
      run(async (command) => {
        const { configureCommand } = await import('./commands/configure.ts');
        return configureCommand(context(command), command.opts());
      }),
    );

  program
    .command('install')
    .description("configure the set's repository, then install, upgrade or downgrade to exactly the set's packages")
    .requiredOption('--set <set>', 'NAME/VERSION')
    .option('--dnf-option <key=value>', 'extra dnf --setopt (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--dnf-config <file>', 'dnf configuration file (dnf --config)')
    .option('--replace-duplicates', 'remove other .repo files that define the same repo id (else: a warning names them)')
    .action(
      run(async (command) => {
        const { installCommand } = await import('./commands/install.ts');
        return installCommand(context(command), command.opts());
      }),
    );

  program
    .command('download')
    .description("download the set's packages into a directory, verifying each checksum")
    .requiredOption('--set <set>', 'NAME/VERSION')
    .requiredOption('--dest <dir>', 'target directory')
    .option('--source', 'the source packages instead of the binaries')
    .option('--jobs <n>', 'parallel downloads', '4')
    .action(
      run(async (command) => {
        const { downloadCommand } = await import('./commands/download.ts');
        return downloadCommand(context(command), command.opts());
      }),
    );

  addCommandHelp(program, agentHelp, 'any error: usage, the server cannot be reached or refuses, rpm or dnf cannot run', 'install');
  return program;
}

/** Each command's example and what its exit status 1 means (the end of its --help). */
const agentHelp: Record<string, CommandHelp> = {
  report: { example: 'report   # server and token from /etc/rpmgate/agent.env after enroll' },
  enroll: { example: 'enroll --server https://rpmgate.example.com --enrollment-token "$ENROLLMENT_TOKEN"' },
  check: { example: 'check --strict', no: 'the host drifts from its set (what drifts is listed)' },
  configure: { example: 'configure --set billing/4.2.0' },
  install: { example: 'install --set billing/4.2.0', no: 'the host still drifts from the set afterwards (dnf failed, or packages outside the set conflict)' },
  download: { example: 'download --set billing/4.2.0 --dest /srv/mirror/billing --source', no: 'a downloaded file does not match primary.xml (it is never left in the directory)' },
};

export async function runAgentCli(argv: string[]): Promise<number> {
  let status = 0;
  const program = buildProgram((code) => {
    status = code;
  });
  try {
    await program.parseAsync(argv);
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (usage errors, --help, --version).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isRpmgateError(error)) {
      // Every error is 2 here, whatever its code's usual exit status: for the agent, 1 means only the
      // command's own "no" (drift, a failed verification), never "the set does not exist".
      process.stderr.write(`rpmgate-agent: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`rpmgate-agent: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
