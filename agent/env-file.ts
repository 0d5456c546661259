// /etc/rpmgate/agent.env: the server URL and this host's agent token, written by `enroll`, read by
// rpmgate-agent.service (EnvironmentFile=) and by every agent command, so that the dnf hook and a
// person at a root shell need no options. systemd's syntax, as far as enroll writes it: KEY=value
// lines, # comments, optional quotes.
import { readFileSync } from 'node:fs';

export const defaultEnvFile = '/etc/rpmgate/agent.env';

/** The file's variables; an absent or unreadable file (not root, not enrolled) has none. */
export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match) continue;
    let value = match[2]!;
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    values[match[1]!] = value;
  }
  return values;
}
