// One server per data dir: the package store's tmp/ is cleared at start and the embedded PostgreSQL
// belongs to whoever holds this lock. A lock left by a crashed server (its pid gone) is taken over.
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { RpmgateError } from '../common/errors.ts';

export interface DataDirLock {
  release(): Promise<void>;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, 'rpmgate.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return { release: () => fs.rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (holder !== process.pid && isAlive(holder)) {
        throw new RpmgateError('unavailable', `another rpmgate (pid ${holder}) is using the data dir ${dataDir}`);
      }
      await fs.rm(file, { force: true });
    }
  }
  throw new RpmgateError('unavailable', `cannot lock the data dir ${dataDir}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
