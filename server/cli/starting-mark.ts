// `rpmgate serve` marks its data dir as taken the moment the command starts, before the server's code
// loads (seconds through tsx): the lock file the server takes anyway (data-dir-lock.ts, which takes
// over a file naming its own pid), written early so that a client command run right after
// `npm start &` sees a server starting and waits for it (global-options.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function markServerStarting(): void {
  const dir = path.resolve(process.env.RPMGATE_DATA_DIR || './var');
  const file = path.join(dir, 'rpmgate.pid');
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    // Taken already: by a live server (which the server's own lock will report), or left by a dead one.
    try {
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) writeFileSync(file, `${process.pid}\n`);
    } catch {
      // Unreadable or unwritable: the server's lock says why when it starts.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
