// CPU seconds (user + system) spent by processes, read from /proc: what an answer costs a server
// whatever else the machine is doing, and what the load generator (a child already reaped) cost.
import { readFileSync } from 'node:fs';
import { descendantsOf } from '../../test/support/serve-process.ts';

const ticksPerSecond = 100; // USER_HZ on Linux

function statFields(pid: number | 'self'): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command, which is in parentheses and may hold spaces: state is [0], utime [11].
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds used so far by `pid` and every process below it (those alive now). */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const each of [pid, ...descendantsOf(pid)]) {
    const fields = statFields(each);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}

/** CPU seconds used so far by this process's children that have exited and been waited for. */
export function reapedChildrenCpuSeconds(): number {
  const fields = statFields('self')!;
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}
