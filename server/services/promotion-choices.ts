// What a person may do next with a set, for screens that offer the step: the next level up and
// obsolete, each with whether this role may take it and, when not, which roles may and why.
import { levelRank, levels, type Level, type Role } from '../../common/roles.ts';
import { promotionRoles } from './promotion.ts';

export interface PromotionChoice {
  target: Exclude<Level, 'integ'>;
  allowed: boolean;
  allowedRoles: readonly Role[];
  /** Why the step is not offered to this role (null when allowed). */
  reason: string | null;
}

export function promotionChoices(level: Level, role: Role): PromotionChoice[] {
  if (level === 'obsolete') return [];
  const choices: PromotionChoice[] = [];
  const next = levels[levelRank(level) + 1];
  const choice = (target: Exclude<Level, 'integ'>): PromotionChoice => {
    const allowedRoles = promotionRoles[target];
    const allowed = allowedRoles.includes(role);
    return {
      target,
      allowed,
      allowedRoles,
      reason: allowed ? null : `Only ${listRoles(allowedRoles)} may move a set to ${target}; you are signed in as ${role}.`,
    };
  };
  if (next) choices.push(choice(next as Exclude<Level, 'integ'>));
  choices.push(choice('obsolete'));
  return choices;
}

function listRoles(roles: readonly Role[]): string {
  return roles.length === 1 ? roles[0]! : `${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}`;
}
