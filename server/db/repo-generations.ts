// The counters repodata is cached by: bumped in the same transaction as any change to what
// repositories serve ('levels': uploads, new sets, promotions; 'packages': re-signed files).
import type { Queryable } from './queryable.ts';

export async function bumpRepoGeneration(sql: Queryable, scope: 'levels' | 'packages'): Promise<void> {
  await sql`update repo_generations set generation = generation + 1, changed_at = now() where scope = ${scope}`;
}

export interface RepoGeneration {
  generation: number;
  changedAt: Date;
}

export async function readRepoGenerations(sql: Queryable): Promise<{ levels: RepoGeneration; packages: RepoGeneration }> {
  const rows = await sql<{ scope: string; generation: number; changed_at: Date }[]>`
    select scope, generation, changed_at from repo_generations`;
  const read = (scope: string): RepoGeneration => {
    const row = rows.find((candidate) => candidate.scope === scope);
    return { generation: row?.generation ?? 0, changedAt: row?.changed_at ?? new Date(0) };
  };
  return { levels: read('levels'), packages: read('packages') };
}
