// Roles and quality levels: the vocabulary of ../shared/INTERFACE.md.

export const roles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent', 'enrollment'] as const;
export type Role = (typeof roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

/** Forward order of the quality levels; obsolete is outside the order (reachable from any level, final). */
export const levels = ['integ', 'qa_ready', 'pre_release', 'release'] as const;
export type ForwardLevel = (typeof levels)[number];
export type Level = ForwardLevel | 'obsolete';

export function isLevel(value: unknown): value is Level {
  return value === 'obsolete' || (typeof value === 'string' && (levels as readonly string[]).includes(value));
}

/** Rank of a level for "at or above" comparisons; obsolete ranks below everything. */
export function levelRank(level: Level): number {
  return level === 'obsolete' ? -1 : levels.indexOf(level);
}

/** The level of a rank as levelRank gives it. */
export function levelFromRank(rank: number): Level {
  return rank < 0 ? 'obsolete' : (levels[rank] ?? 'release');
}
