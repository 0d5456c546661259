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
 * Adds "Exit codes" and "Example" after each command's help (`errors`: what exit status 2 means; `sample`: the command the program's own --help points at). A command missing from the table is a
 * programming error, thrown at once (tests build the program), so no command goes without.
 */
export function addCommandHelp(program: Command, table: Record<string, CommandHelp>, errors: string, sample: string): void {
  const name = program.name();
  program.addHelpText('after', [
    '',
    `Exit codes: 0 success, 1 the answer is no (refused, drift), 2 ${errors}.`,
    `Each command's --help describes its arguments and options, its exit codes and an example: ${name} ${sample} --help`,
  ].join('\n'));
  for (const { path, command } of leafCommands(program)) {
    const help = table[path];
    if (!help) throw new Error(`${name} ${path} has no help entry (example and exit codes)`);
    for (const argument of command.registeredArguments) {
      if (!argument.description) throw new Error(`${name} ${path}: argument <${argument.name()}> has no description`);
    }
    const lines = [
      '',
      'Exit codes:',
      '  0  success',
      ...(help.no ? [`  1  ${help.no}`] : []),
      `  2  ${errors}`,
      '',
      'Example:',
      `  ${name} ${help.example}`,
    ];
    command.addHelpText('after', lines.join('\n'));
  }
}
