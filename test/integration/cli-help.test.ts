// `--help` of every command of rpmgate and rpmgate-agent describes each argument, says what its exit
// codes mean and gives one example that names the command and only options it has. Every command is
// asked in-process (the programs as the CLIs build them, printing through commander as they do); a few
// through the real executables, as a user runs them.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram as buildAgentProgram } from '../../agent/cli.ts';
import { leafCommands } from '../../common/cli-help.ts';
import { buildProgram as buildRpmgateProgram } from '../../server/cli/program.ts';
import { runCli } from '../support/cli.ts';

const programs: { name: 'rpmgate' | 'rpmgate-agent'; build: () => Command }[] = [
  { name: 'rpmgate', build: () => buildRpmgateProgram() },
  { name: 'rpmgate-agent', build: () => buildAgentProgram(() => undefined) },
];

/** What `PROGRAM PATH --help` prints, from a fresh program (commander keeps state between parses). */
async function helpOf(build: () => Command, path: string[]): Promise<string> {
  const program = build();
  let text = '';
  const capture = (command: Command) => {
    command.exitOverride().configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
    for (const sub of command.commands) capture(sub);
  };
  capture(program);
  await expect(program.parseAsync(['node', program.name(), ...path, '--help'])).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
  return text;
}

function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start === -1) return [];
  const end = lines.findIndex((line, index) => index > start && line === '');
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

describe.each(programs)('$name --help', ({ name, build }) => {
  const commands = leafCommands(build());

  it('has commands to check', () => {
    expect(commands.length).toBeGreaterThan(name === 'rpmgate' ? 30 : 5);
  });

  it.each(commands.map(({ path, command }) => ({ path, command })))('$path: every argument described, exit codes, one example with its own options', async ({ path, command }) => {
    const text = await helpOf(build, path.split(' '));
    // An argument's line is its name then its description; longer descriptions wrap onto indented lines.
    const heads = section(text, 'Arguments').filter((line) => /^ {2}\S/.test(line));
    for (const line of heads) expect(line, `${name} ${path}: an argument without a description`).toMatch(/^ {2}\S+ {2,}\S/);
    expect(heads).toHaveLength(command.registeredArguments.length);
    const exits = section(text, 'Exit codes');
    expect(exits[0]).toBe('  0  success');
    expect(exits.at(-1)).toMatch(/^ {2}2 {2}\S/);
    const [example, ...more] = section(text, 'Example');
    expect(example, `${name} ${path} has no entry in its program's help table (an example and what exit 1 means)`).toBeDefined();
    expect(more).toEqual([]);
    expect(example!.startsWith(`  ${name} ${path}`), example).toBe(true);
    const options = [...command.options, ...(command.parent?.parent ?? command.parent)!.options];
    const known = new Set(options.flatMap((option) => [option.long, option.short]).filter(Boolean));
    const used = example!.replace(/#.*/, '').match(/(?<=\s)--[a-z-]+/g) ?? [];
    for (const option of used) expect(known, `${name} ${path}: the example uses ${option}`).toContain(option);
  });

  it('the program help gives the exit codes and points at the commands\' help', async () => {
    const text = await helpOf(build, []);
    expect(text).toContain('Exit codes: 0 success, 1 the answer is no (refused, drift), 2 ');
    expect(text).toMatch(new RegExp(`Each command's --help describes .* ${name} \\S+( \\S+)? --help\\n`));
  });
});

describe('through the real executables', () => {
  it('rpmgate set delete --help', async () => {
    const result = await runCli('rpmgate', ['set', 'delete', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Arguments:\n  set               NAME/VERSION\n');
    expect(result.stdout).toContain('\n  1  refused: no such set, a set that was ever released (never deleted), or a role other than admin\n');
    expect(result.stdout.trimEnd().split('\n').slice(-2)).toEqual(['Example:', '  rpmgate set delete billing/4.2.0-rc1 --comment "wrong build"']);
  });

  it('rpmgate-agent check --help', async () => {
    const result = await runCli('rpmgate-agent', ['check', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\n  1  the host drifts from its set (what drifts is listed)\n');
    expect(result.stdout.trimEnd().split('\n').slice(-2)).toEqual(['Example:', '  rpmgate-agent check --strict']);
  });
});
