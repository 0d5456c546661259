// Which repository a URL names, and the content generation its repodata is cached by: a level
// repository (cumulative), a set repository (pinned), a product channel (floating), or the agent's
// repository (every stored rpmgate-agent package).
//
// The warm path of a repomd.xml request makes no query: the generations live in memory, read again
// right after this server's own changes commit and, for changes made by other servers on the same
// database, on PostgreSQL's notification (sql/0007); which set a URL names is cached per levels
// generation.
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import { agentPackageName } from '../../common/agent-package.ts';
import { isLevel, levelRank, type Level } from '../../common/roles.ts';
import { readRepoGenerations, type RepoGeneration } from '../db/repo-generations.ts';
import { findSet, type SetRow } from '../db/sets.ts';
import type { Logger } from '../log.ts';
import type { RepoRequest } from '../repodata/cache.ts';
import { newestSetAtOrAbove } from './sets.ts';

export type RepoAddress =
  | { kind: 'level'; level: string; source: boolean }
  | { kind: 'set'; name: string; version: string; source: boolean }
  | { kind: 'channel'; name: string; level: string; source: boolean }
  | { kind: 'agent'; source: false };

export interface ResolvedRepo {
  request: RepoRequest;
  /** The set behind a set repository or channel. */
  set: SetRow | null;
  /** Human name for .repo files and logs. */
  title: string;
}

export interface Generations {
  levels: RepoGeneration;
  packages: RepoGeneration;
}

/** Tells the other processes of this server (its HTTP workers) about generations it committed. */
export type GenerationsAnnouncer = (generations: Generations) => Promise<void>;

const notificationChannel = 'rpmgate_repo_generations';
/** Set lookups kept; sets are few next to requests, but a scan for random names must not grow this. */
const maxCachedSets = 10_000;

export class RepoDirectory {
  private generations: Generations | null = null;
  /** Sets by URL (pinned or channel), valid while the levels generation they were read in lasts. */
  private readonly sets = new Map<string, { levels: number; set: SetRow | null }>();
  private unlisten: (() => Promise<void>) | null = null;
  private announcer: GenerationsAnnouncer | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
  ) {}

  /** Reads the generations and subscribes to their changes (read again on every reconnection too). */
  async open(): Promise<void> {
    await this.refresh();
    const refreshQuietly = () => void this.changed();
    const subscription = await this.sql.listen(notificationChannel, refreshQuietly, refreshQuietly);
    this.unlisten = () => subscription.unlisten();
  }

  async close(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
  }

  /**
   * Reads the generations now and keeps what is newer of them and of memory, scope by scope; returns
   * what memory then holds. Reads overlap (this server's own commit, a notification, a cold request)
   * and finish in any order. Both rules matter: a read that finished after a newer one must not take
   * memory back, and a refresh that returns must leave memory at least as new as what it read, so
   * that after changed() the very next request sees the change. (Keeping only the read started last
   * broke the second: a notification's read starting meanwhile made the awaited refresh discard its
   * own, and requests went on with the previous generation, and its repodata, until that read ended.)
   */
  async refresh(): Promise<Generations> {
    return this.adopt(await readRepoGenerations(this.sql));
  }

  /**
   * Keeps what is newer of memory and `read`, scope by scope (both counters only grow), and returns
   * what memory then holds: for reads of the database and for generations another worker read.
   */
  adopt(read: Generations): Generations {
    const kept = this.generations;
    if (kept && read.levels.generation <= kept.levels.generation && read.packages.generation <= kept.packages.generation) return kept;
    const newer = (scope: keyof Generations) => (kept && kept[scope].generation > read[scope].generation ? kept[scope] : read[scope]);
    this.generations = { levels: newer('levels'), packages: newer('packages') };
    return this.generations;
  }

  /**
   * Called after every change this server commits, so that its very next request sees it (another
   * server's changes arrive by notification, a moment later). Never fails the change, which is done:
   * generations that cannot be read are forgotten, and the next request reads them itself.
   */
  async changed(): Promise<void> {
    const generations = await this.refresh().catch((error: unknown) => {
      this.generations = null;
      this.log.warn('repository generations not refreshed', { err: error });
      return null;
    });
    // Every worker of this server must hold the change before the request that made it is answered:
    // the next request may reach any of them (server/ops/peers.ts).
    if (generations && this.announcer) {
      await this.announcer(generations).catch((error: unknown) => this.log.warn('repository generations not announced', { err: error }));
    }
  }

  /** Set by the worker supervision: called with the generations after each change this process commits. */
  announceChanges(announcer: GenerationsAnnouncer | null): void {
    this.announcer = announcer;
  }

  async resolve(address: RepoAddress): Promise<ResolvedRepo> {
    const generations = this.generations ?? (await this.refresh());
    const set = address.kind === 'level' || address.kind === 'agent' ? null : await this.findSet(address, generations.levels.generation);
    return describeRepo(address, generations, set);
  }

  /**
   * The generations in memory, or null: a new object whenever they move, so that what was derived
   * from one can tell it is still current by identity.
   */
  generationsInMemory(): object | null {
    return this.generations;
  }

  /**
   * The same answer as resolve() when memory holds all it needs, without waiting for anything; null
   * when it does not (the caller then takes resolve()'s path). For the warm repomd.xml path.
   */
  resolveFromMemory(address: RepoAddress): ResolvedRepo | null {
    const generations = this.generations;
    if (!generations) return null;
    if (address.kind === 'level' || address.kind === 'agent') return describeRepo(address, generations, null);
    const cached = this.sets.get(setKey(address));
    if (!cached || cached.levels !== generations.levels.generation || !cached.set) return null;
    return describeRepo(address, generations, cached.set);
  }

  /**
   * The set a URL names. Any change to sets (a new one, a promotion, a deletion) moves the levels
   * generation, so an answer read in the current one is still true.
   */
  private async findSet(address: SetAddress, levels: number): Promise<SetRow | null> {
    const key = setKey(address);
    const cached = this.sets.get(key);
    if (cached && cached.levels === levels) return cached.set;
    const set =
      address.kind === 'set'
        ? await findSet(this.sql, address.name, address.version)
        : await newestSetAtOrAbove(this.sql, address.name, requireServedLevel(address.level));
    if (this.sets.size >= maxCachedSets) this.sets.clear();
    this.sets.set(key, { levels, set });
    return set;
  }
}

type SetAddress = Extract<RepoAddress, { kind: 'set' | 'channel' }>;

function setKey(address: SetAddress): string {
  return address.kind === 'set' ? `set|${address.name}|${address.version}` : `channel|${address.name}|${address.level}`;
}

/** A repository's identity, generation and title, from the generations and the set a URL names. */
function describeRepo(address: RepoAddress, generations: Generations, set: SetRow | null): ResolvedRepo {
  const suffix = address.source ? '/source' : '';
  if (address.kind === 'agent') {
    // Uploads move the levels generation, re-signing the packages one.
    const changedAt = Math.max(generations.levels.changedAt.getTime(), generations.packages.changedAt.getTime());
    return {
      request: {
        id: 'agent',
        selector: { kind: 'name', name: agentPackageName, source: false },
        generation: `${generations.levels.generation}.${generations.packages.generation}`,
        timestamp: Math.floor(changedAt / 1000),
      },
      set: null,
      title: 'agent',
    };
  }
  if (address.kind === 'level') {
    const level = requireServedLevel(address.level);
    const changedAt = Math.max(generations.levels.changedAt.getTime(), generations.packages.changedAt.getTime());
    return {
      request: {
        id: `level/${level}${suffix}`,
        selector: { kind: 'level', rank: levelRank(level), source: address.source },
        generation: `${generations.levels.generation}.${generations.packages.generation}`,
        timestamp: Math.floor(changedAt / 1000),
      },
      set: null,
      title: `level ${level}${address.source ? ' (sources)' : ''}`,
    };
  }
  if (!set) {
    throw new RpmgateError(
      'not_found',
      address.kind === 'set' ? `no package set ${address.name}/${address.version}` : `no set of ${address.name} at ${address.level} or above`,
    );
  }
  // A channel's content changes when it moves to another set: its revision says so.
  const movedAt = address.kind === 'channel' ? generations.levels.changedAt.getTime() : 0;
  const changedAt = Math.max(set.created_at.getTime(), generations.packages.changedAt.getTime(), movedAt);
  return {
    request: {
      id: `set/${set.id}${suffix}`,
      path: `set/${set.name}/${set.version}${suffix}`,
      selector: { kind: 'set', setId: set.id, source: address.source },
      // A set's source repository also takes SRPMs uploaded after it (tied by SOURCERPM), and an
      // upload moves the levels generation.
      generation: address.source ? `${generations.levels.generation}.${generations.packages.generation}` : String(generations.packages.generation),
      timestamp: Math.floor(changedAt / 1000),
    },
    set,
    title: `set ${set.name}/${set.version}${address.source ? ' (sources)' : ''}`,
  };
}

/** Levels that have a repository: every forward level (obsolete packages are in none). */
function requireServedLevel(level: string): Level {
  if (!isLevel(level) || level === 'obsolete') {
    throw new RpmgateError('not_found', `no level repository "${level}": one of integ, qa_ready, pre_release, release`);
  }
  return level;
}
