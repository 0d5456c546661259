// Retention's part of the environment: the policy file holding the cleanup rules, SMTP for the
// warnings, and the schedule. Read once with the rest of the configuration (server/config.ts).
import { RpmgateError } from '../../common/errors.ts';

export type CleanupSchedule =
  /** Every day at this time of day, UTC. */
  | { kind: 'daily'; hour: number; minute: number }
  /** Every this many milliseconds from the server's start. */
  | { kind: 'every'; intervalMs: number };

export interface RetentionSettings {
  /** RPMGATE_POLICY_FILE: JSON whose `cleanup` section holds the rules (server/retention/rules.ts). */
  policyFile: string | null;
  /** RPMGATE_SMTP_URL (smtp:// or smtps://, credentials in the URL); null: mail is off, warnings are only recorded. */
  smtpUrl: string | null;
  /** RPMGATE_MAIL_FROM: the sender of warnings. */
  mailFrom: string;
  /** RPMGATE_CLEANUP_SCHEDULE: off (null) unless set. */
  schedule: CleanupSchedule | null;
}

type Env = Record<string, string | undefined>;

export function readRetentionSettings(env: Env): RetentionSettings {
  return {
    policyFile: env.RPMGATE_POLICY_FILE || null,
    smtpUrl: readSmtpUrl(env.RPMGATE_SMTP_URL),
    mailFrom: readMailFrom(env.RPMGATE_MAIL_FROM),
    schedule: parseCleanupSchedule(env.RPMGATE_CLEANUP_SCHEDULE),
  };
}

function readSmtpUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  // The URL may hold a password: name its form, never its text.
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname) {
    throw new RpmgateError('usage', 'RPMGATE_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...');
  }
  return raw;
}

function readMailFrom(raw: string | undefined): string {
  const from = raw?.trim() || 'rpmgate@localhost';
  if (/[\r\n]/.test(from) || !/@/.test(from)) throw new RpmgateError('usage', `RPMGATE_MAIL_FROM must be one e-mail address (optionally "Name <address>"), not "${from}"`);
  return from;
}

/** "HH:MM" (every day at that UTC time) or "every N[m|h|d]"; empty or "off": no schedule. */
export function parseCleanupSchedule(raw: string | undefined): CleanupSchedule | null {
  const text = raw?.trim().toLowerCase();
  if (!text || text === 'off') return null;
  const daily = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (daily && Number(daily[1]) < 24 && Number(daily[2]) < 60) return { kind: 'daily', hour: Number(daily[1]), minute: Number(daily[2]) };
  const every = /^every\s+(\d+)\s*(m|h|d)$/.exec(text);
  if (every && Number(every[1]) > 0) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[every[2] as 'm' | 'h' | 'd'];
    return { kind: 'every', intervalMs: Number(every[1]) * unit };
  }
  throw new RpmgateError('usage', `RPMGATE_CLEANUP_SCHEDULE must be HH:MM (daily, UTC), "every N[m|h|d]" or off, not "${raw}"`);
}
