// Repodata under concurrent change, on two servers sharing one database: rounds of concurrent
// uploads, set creations, promotions (up to release, then obsolete) and fragment changes (as
// re-signing publishes them), while clients keep fetching repomd.xml and the files it names from both
// servers. Throughout, every repomd.xml fetched names files that are served with the checksum and
// size it states. At the end of each round (no change in flight), every repository (levels, their
// sources, sets, their sources, a channel) serves exactly the documents rendered from scratch from the
// database: at once on the server that made the changes (its very next request sees them), and on
// the other once PostgreSQL's notification has reached it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, type LoadedCorpus } from '../../bench/support/load.ts';
import { repodataKinds, type RepodataKind } from '../../common/repodata/document.ts';
import { levels as forwardLevels } from '../../common/roles.ts';
import { readConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/runtime.ts';
import { buildFixtures, type FixturePackage } from '../fixtures/build-fixtures.ts';
import { renderFromDatabase, type RepositoryOfRecord } from '../support/repodata-from-database.ts';
import { fetchRepomdFiles, fetchServedDocuments } from '../support/served-repodata.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const rounds = 6;
const corpusSize = 600;
const setSize = 150;
const readers = 3;
/** How long the second server may take to hear of the last change. */
const notificationDeadlineMs = 10_000;

let server: TestServer;
let second: RunningServer;
let secondDataDir: string;
let corpus: LoadedCorpus;
let uploads: FixturePackage[];

beforeAll(async () => {
  // ed25519: a key made in milliseconds, and cheap signatures for every upload and repomd.xml.
  const [started, fixtures] = await Promise.all([startTestServer({ env: { RPMGATE_SIGNING_ALGORITHM: 'ed25519' } }), buildFixtures()]);
  server = started;
  uploads = fixtures.packages;
  const key = server.server.context.keyring.current().info;
  // ≈ 2–3 chunks per level (a chunk ends at a digest starting with a zero byte, 1 in 256).
  corpus = await loadCorpus(server.database.sql, corpusSize, { signedBy: key.fingerprint });
  // The second server signs with the same key, as two servers of one installation must.
  secondDataDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-test-stress-second-'));
  const config = readConfig({
    PORT: '0',
    RPMGATE_DATA_DIR: secondDataDir,
    RPMGATE_ADMIN_TOKEN: server.adminToken,
    RPMGATE_SIGNING_KEY_FILE: path.join(server.dataDir, 'keys', `${key.fingerprint}.key.asc`),
  });
  second = await startServer(config, { log: createLogger(Boolean(process.env.RPMGATE_LOG)), database: server.database });
});
afterAll(async () => {
  await second?.close();
  if (secondDataDir) await rm(secondDataDir, { recursive: true, force: true });
  await server?.close();
});

/** A repository by URL path (after /repo/) and as the database defines it. */
interface Repository {
  path: string;
  record: RepositoryOfRecord | { kind: 'channel'; name: string; level: string };
}

function levelRepositories(): Repository[] {
  return forwardLevels.flatMap((level, rank) =>
    [false, true].map((source) => ({ path: `level/${level}/${source ? 'source/' : ''}`, record: { kind: 'level' as const, rank, source } })),
  );
}

function setRepositories(version: number): Repository[] {
  return [false, true].map((source) => ({
    path: `set/stress/${version}/${source ? 'source/' : ''}`,
    record: { kind: 'set' as const, name: 'stress', version: String(version), source },
  }));
}

const channel: Repository = { path: 'set/stress/latest/qa_ready/', record: { kind: 'channel', name: 'stress', level: 'qa_ready' } };

/** A channel is the newest set of its product at or above its level, not obsolete (versions here are integers). */
async function renderRepository(repo: Repository): Promise<Record<RepodataKind, string>> {
  const sql = server.database.sql;
  if (repo.record.kind !== 'channel') return renderFromDatabase(sql, repo.record);
  const atOrAbove = forwardLevels.slice(forwardLevels.indexOf(repo.record.level as (typeof forwardLevels)[number]));
  const sets = await sql<{ version: string }[]>`select version from package_sets where name = ${repo.record.name} and level in ${sql(atOrAbove)}`;
  const newest = Math.max(...sets.map((set) => Number(set.version)));
  return renderFromDatabase(sql, { kind: 'set', name: repo.record.name, version: String(newest), source: false });
}

/** Where two documents part, in a line a failure message can hold. */
function firstDifference(served: string, expected: string): string {
  let at = 0;
  while (at < served.length && served[at] === expected[at]) at++;
  return `at byte ${at} of ${served.length} (expected ${expected.length}): served …${JSON.stringify(served.slice(Math.max(0, at - 60), at + 100))}…, expected …${JSON.stringify(expected.slice(Math.max(0, at - 60), at + 100))}…`;
}

type Documents = Record<RepodataKind, string>;

/** Each repository's documents from scratch, by path: rendered once per quiescent point, for both servers. */
async function renderRepositories(repositories: readonly Repository[]): Promise<Map<string, Documents>> {
  return new Map(await Promise.all(repositories.map(async (repo) => [repo.path, await renderRepository(repo)] as const)));
}

/** What a server serves unlike the expected documents, one line per document. */
async function staleDocuments(baseUrl: string, expected: ReadonlyMap<string, Documents>): Promise<string[]> {
  const problems: string[] = [];
  for (const [repoPath, documents] of expected) {
    const served = await fetchServedDocuments(baseUrl + repoPath);
    for (const kind of repodataKinds) {
      if (served[kind] !== documents[kind]) problems.push(`${baseUrl}${repoPath} ${kind}: ${firstDifference(served[kind], documents[kind])}`);
    }
  }
  return problems;
}

/**
 * Clients fetching repomd.xml and every file it names from both servers, from repositories picked
 * at random, until stopped; each fetch is checked against its record, and failures are kept.
 */
function startReaders(servers: readonly RunningServer[], repositories: readonly Repository[]) {
  let reading = true;
  let reads = 0;
  const failures: string[] = [];
  const readLoop = async () => {
    while (reading) {
      const repo = repositories[Math.floor(Math.random() * repositories.length)]!;
      const base = `${servers[Math.floor(Math.random() * servers.length)]!.url}/repo/${repo.path}`;
      try {
        await fetchRepomdFiles(base);
        reads++;
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const done = Promise.all(Array.from({ length: readers }, readLoop));
  return {
    async stop(): Promise<{ reads: number; failures: string[] }> {
      reading = false;
      await done;
      return { reads, failures };
    },
  };
}

async function generationInDatabase(): Promise<string> {
  const rows = await server.database.sql<{ scope: string; generation: number }[]>`select scope, generation from repo_generations`;
  const of = (scope: string) => rows.find((row) => row.scope === scope)!.generation;
  return `${of('levels')}.${of('packages')}`;
}

function generationInMemory(running: RunningServer): string | undefined {
  return running.context.repositories.resolveFromMemory({ kind: 'level', level: 'integ', source: false })?.request.generation;
}

/** The changes' choices, the same in every run (readers choose at random). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('repodata under concurrent change, two servers on one database', () => {
  it(`stays consistent while it changes, and equals a from-scratch rendering after each of ${rounds} rounds`, async () => {
    const sql = server.database.sql;
    const pick = random(20251202);
    const servers = [server.server, second];
    // What clients fetch: repositories both servers know of (a round's new set once it has ended).
    let readable: Repository[] = levelRepositories();
    const uploadPerRound = Math.ceil(uploads.length / rounds);
    const uploaded: FixturePackage[] = [];
    for (let round = 0; round < rounds; round++) {
      const clients = startReaders(servers, readable);
      const batch = uploads.slice(round * uploadPerRound, (round + 1) * uploadPerRound);
      const changes: Promise<unknown>[] = [];
      let inMemory: string | undefined;
      let fetched: { reads: number; failures: string[] };
      try {
        // Uploads through the first server.
        for (const pkg of batch) {
          changes.push(
            (async () => {
              const response = await fetch(`${server.url}/api/v1/packages`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/x-rpm' },
                body: (await readFile(pkg.path)) as Uint8Array<ArrayBuffer>,
              });
              expect(response.status, `upload of ${pkg.fileName}: ${await response.text()}`).toBe(201);
            })(),
          );
        }
        // A new set: corpus packages (overlapping the previous set's) and the binaries uploaded before.
        const start = Math.floor(pick() * (corpusSize - setSize));
        const members = [...corpus.nevras.slice(start, start + setSize), ...uploaded.filter((pkg) => !pkg.isSource).map((pkg) => pkg.nevra)];
        changes.push(
          server.admin.post('/api/v1/sets', { name: 'stress', version: String(round), packages: members, allowUnresolved: true }).then(({ status, body }) => {
            expect(status, JSON.stringify(body)).toBe(201);
          }),
        );
        // Every older set moves one level: qa_ready, pre_release, release, then obsolete.
        for (let older = Math.max(0, round - 4); older < round; older++) {
          const level = [...forwardLevels, 'obsolete'][round - older]!;
          changes.push(
            server.admin.post(`/api/v1/sets/stress/${older}/promote`, { level }).then(({ status, body }) => {
              expect(status, `stress/${older} to ${level}: ${JSON.stringify(body)}`).toBe(200);
            }),
          );
        }
        // Fragments rewritten, then published as re-signing does: the generation moves in a
        // transaction of its own, and the server that wrote it refreshes what it holds in memory.
        for (let change = 0; change < 2; change++) {
          const id = corpus.ids[Math.floor(pick() * corpusSize)]!;
          changes.push(
            (async () => {
              await sql`update package_repodata set other_xml = replace(other_xml, '- Initial package', ${`- Initial package (round ${round})`}) where package_id = ${id}`;
              await sql`update repo_generations set generation = generation + 1, changed_at = now() where scope = 'packages'`;
              await server.server.context.repositories.changed();
            })(),
          );
        }
        await Promise.all(changes);
        // Every change went through the first server, which refreshed its generations before
        // answering: what it holds now, before anything else can happen, is the database's.
        inMemory = generationInMemory(server.server);
      } finally {
        fetched = await clients.stop();
      }
      const generation = await generationInDatabase();
      expect(inMemory, `round ${round}: the first server's generation right after its changes`).toBe(generation);
      expect(fetched.failures, `round ${round}: what clients fetched while it changed`).toEqual([]);
      expect(fetched.reads, `round ${round}: clients fetched while it changed`).toBeGreaterThan(0);
      uploaded.push(...batch);

      const repositories = [...levelRepositories(), ...Array.from({ length: round + 1 }, (_, version) => setRepositories(version)).flat()];
      if (round >= 1) repositories.push(channel);
      const expected = await renderRepositories(repositories);
      // The server that made the changes answers the very next request with them.
      expect(await staleDocuments(`${server.url}/repo/`, expected), `round ${round}, first server`).toEqual([]);
      // The other hears of them by notification, a moment later.
      for (const deadline = Date.now() + notificationDeadlineMs; generationInMemory(second) !== generation && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(generationInMemory(second), `round ${round}: the second server's generation`).toBe(generation);
      expect(await staleDocuments(`${second.url}/repo/`, expected), `round ${round}, second server`).toEqual([]);
      readable = repositories;
    }
  });
});
