// The repository generations a server keeps in memory (server/services/repositories.ts) against a real
// PostgreSQL, with reads of them held and released in a chosen order: the interleavings of a
// refresh after this server's own commit and one started by a notification. Once a refresh has
// returned, memory holds at least what it read (so the server's very next request sees its own
// change), and memory never goes back to an older read.
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/connect.ts';
import { migrate } from '../../server/db/migrate.ts';
import { silentLogger } from '../../server/log.ts';
import { RepoDirectory } from '../../server/services/repositories.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.sql);
});
afterAll(async () => {
  await database?.close();
});

interface HeldRead {
  /** Resolves once PostgreSQL has answered (the read's snapshot is taken). */
  answered: Promise<void>;
  /** Lets the answer reach the caller. */
  release(): void;
}

/** The real database, each query held after PostgreSQL answers it until the test releases it. */
function heldReads(sql: Sql): { sql: Sql; reads: HeldRead[] } {
  const reads: HeldRead[] = [];
  const held = (strings: TemplateStringsArray, ...values: never[]) => {
    let answered!: () => void;
    let release!: () => void;
    const read: HeldRead = { answered: new Promise((resolve) => (answered = resolve)), release: () => release() };
    const released = new Promise<void>((resolve) => (release = resolve));
    reads.push(read);
    return sql(strings, ...values).then(async (rows) => {
      answered();
      await released;
      return rows;
    });
  };
  return { sql: held as unknown as Sql, reads };
}

async function bumpLevels(): Promise<number> {
  const [row] = await database.sql<{ generation: number }[]>`
    update repo_generations set generation = generation + 1, changed_at = now() where scope = 'levels' returning generation`;
  return row!.generation;
}

/** The levels generation the directory answers integ from, without a query. */
function levelsInMemory(directory: RepoDirectory): number {
  const repo = directory.resolveFromMemory({ kind: 'level', level: 'integ', source: false });
  return Number(repo!.request.generation.split('.')[0]);
}

async function openedDirectory() {
  const { sql, reads } = heldReads(database.sql);
  const directory = new RepoDirectory(sql, silentLogger);
  const first = directory.refresh();
  reads[0]!.release();
  await first;
  return { directory, reads };
}

describe('repository generations in memory', () => {
  it('hold what a refresh read once it returns, though a read started after it is still out', async () => {
    const { directory, reads } = await openedDirectory();
    const generation = await bumpLevels();
    // This server's own refresh after its commit, then a notification's.
    const own = directory.changed();
    const notified = directory.refresh();
    await Promise.all([reads[1]!.answered, reads[2]!.answered]);
    reads[1]!.release();
    await own;
    expect(levelsInMemory(directory)).toBe(generation);
    reads[2]!.release();
    await notified;
    expect(levelsInMemory(directory)).toBe(generation);
  });

  it('never go back to what a slow read found before a change', async () => {
    const { directory, reads } = await openedDirectory();
    const slow = directory.refresh();
    await reads[1]!.answered;
    const generation = await bumpLevels();
    const fast = directory.refresh();
    reads[2]!.release();
    await fast;
    expect(levelsInMemory(directory)).toBe(generation);
    reads[1]!.release();
    // The slow refresh returns what memory holds, which is newer than what it read.
    expect((await slow).levels.generation).toBe(generation);
    expect(levelsInMemory(directory)).toBe(generation);
  });
});
