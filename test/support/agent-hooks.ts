// What the agent's dnf hooks leave behind, for tests and benchmarks: the agents they started for a root
// (found by command line in /proc, waited for, never killed: they end by themselves), and the dnf 5
// action line as libdnf5 turns it into a command.
import { readdir, readFile } from 'node:fs/promises';

/** Processes running `rpmgate-agent ... report` whose command line names `root`. */
export async function agentProcesses(root: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(root) && cmdline.includes('rpmgate-agent') && cmdline.split('\0').includes('report')) found.push(Number(entry));
  }
  return found;
}

/** Polls until `probe` gives a value (or throws after timeoutMs). */
export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The command of the one action in a libdnf5 .actions file (libdnf5-actions(8)): the fifth of the
 * colon-separated fields, variables substituted, split on unescaped spaces, then unescaped.
 */
export function actionCommand(actionsFile: string, variables: Record<string, string>): { callback: string; argv: string[] } {
  const lines = actionsFile.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  if (lines.length !== 1) throw new Error(`expected one action, found ${lines.length}`);
  const [callback, filter, direction, options, ...rest] = lines[0]!.split(':');
  if (filter !== '' || direction !== '' || options !== '') throw new Error(`unexpected filter, direction or options in ${lines[0]}`);
  let command = rest.join(':');
  for (const [name, value] of Object.entries(variables)) command = command.replaceAll(`\${${name}}`, value);
  const argv: string[] = [];
  let current = '';
  for (let i = 0; i < command.length; i++) {
    const char = command[i]!;
    if (char === '\\' && i + 1 < command.length) current += command[++i];
    else if (char === ' ') {
      if (current !== '') argv.push(current);
      current = '';
    } else current += char;
  }
  if (current !== '') argv.push(current);
  return { callback: callback!, argv };
}
