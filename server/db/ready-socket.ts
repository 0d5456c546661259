// The socket rpmgate's connections use to reach the embedded PostgreSQL: a link to PostgreSQL's own
// socket that exists only while PostgreSQL is ready. While it is starting, recovering from a crash or
// gone, a connection attempt fails at once (ENOENT) instead of being answered "the database system is
// starting up" during its startup, which postgres.js 3.4.9 may retry in a tight loop until recovery
// ends (porsager/postgres#1193), holding a request for as long.
import { mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface ReadySocket {
  /** The directory to give postgres.js as host. */
  readonly dir: string;
  open(): void;
  close(): void;
}

export function readySocket(dir: string, target: string): ReadySocket {
  const link = path.join(dir, path.basename(target));
  return {
    dir,
    open() {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Relative, so that a moved data dir keeps working; made aside and renamed, so that it is whole.
      const aside = `${link}.${process.pid}`;
      rmSync(aside, { force: true });
      symlinkSync(path.relative(dir, target), aside);
      renameSync(aside, link);
    },
    close() {
      rmSync(link, { force: true });
    },
  };
}
