// The end of every command's --help: what its exit codes mean and one example to copy. Shared by
// rpmgate and rpmgate-agent; each program gives a table keyed by the command's path ("set create").
import type { Command } from 'commander';

export interface CommandHelp {
  /** One command line to copy, without the program name. */
  example: string;
  /** What exit status 1 means for this command (the answer "no"); absent: the command never says no. */
  no?: string;
}

/** The commands that do something (not the groups such as `set`), with their paths. */
export function leafCommands(program: Command): { path: string; command: Command }[] {
  const found: { path: string; command: Command }[] = [];
  const walk = (command: Command, prefix: string[]) => {
    for (const sub of command.commands) {
      if (sub.name() === 'help') continue;
      const path = [...prefix, sub.name()];
      if (sub.commands.length > 0) walk(sub, path);
      else found.push({ path: path.join(' '), command: sub });
    }
  };
  walk(program, []);
  return found;
}

/**
 * Adds "Exit codes" and "Example" after each command's help (`errors`: what exit status 2 means;
 * `sample`: the command the program's own --help points at).
 */
export function addCommandHelp(program: Command, table: Record<string, CommandHelp>, errors: string, sample: string): void {
  const name = program.name();
  program.addHelpText('after', [
    '',
    `Exit codes: 0 success, 1 the answer is no (refused, drift), 2 ${errors}.`,
    `Each command's --help describes its arguments and options, its exit codes and an example: ${name} ${sample} --help`,
  ].join('\n'));
  for (const { path, command } of leafCommands(program)) {
    // A command without an entry still says its exit codes; test/integration/cli-help.test.ts
    // fails for it (and for an argument without a description) until it has one.
    const help: CommandHelp | undefined = table[path];
    const lines = [
      '',
      'Exit codes:',
      '  0  success',
      help ? (help.no ? `  1  ${help.no}` : null) : '  1  the answer is no (refused, drift)',
      `  2  ${errors}`,
      ...(help ? ['', 'Example:', `  ${name} ${help.example}`] : []),
    ].filter((line): line is string => line !== null);
    command.addHelpText('after', lines.join('\n'));
  }
}
