// The cleanup's mail: one digest per recipient per run, over SMTP (nodemailer), saying what will be
// deleted, why and when, and which earlier warnings are withdrawn and why. Plain text: it is read in
// terminals and mail clients alike.
import nodemailer, { type Transporter } from 'nodemailer';
import type { MailItemRow } from '../db/retention.ts';
import { formatBytes } from './format.ts';
import { isoDay } from './planner.ts';

export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>;
  close(): void;
}

/** A mailer over RPMGATE_SMTP_URL; null when mail is off. */
export function createMailer(smtpUrl: string | null, from: string): Mailer | null {
  if (!smtpUrl) return null;
  const transport: Transporter = nodemailer.createTransport({
    url: smtpUrl,
    // A mail server that does not answer must not hold the run for minutes.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
    close() {
      transport.close();
    },
  };
}

const dayMs = 86_400_000;

/** The digest of one recipient's items. */
export function composeDigest(items: MailItemRow[], now: Date, warningDays: number): { subject: string; text: string } {
  const warnings = items.filter((item) => !item.withdrawal);
  const withdrawals = items.filter((item) => item.withdrawal);
  // A warning not mailed before is notified by this mail: its delay starts now.
  const dueOf = (item: MailItemRow) => isoDay(item.due_at ? new Date(item.due_at) : new Date(now.getTime() + warningDays * dayMs));
  const parts: string[] = [];
  const subject: string[] = [];
  if (warnings.length > 0) {
    subject.push(`${warnings.length} ${warnings.length === 1 ? 'object' : 'objects'} will be deleted`);
    parts.push(
      `rpmgate's cleanup will delete these on or after the date shown, unless they become needed meanwhile\n` +
        `(promoted, named by a new set, reported by a host as its set):\n`,
      ...warnings.map((item) => `  ${item.kind} ${item.object}\n    ${item.reason}\n    deleted on or after ${dueOf(item)}${item.bytes > 0 ? `, giving back ${formatBytes(item.bytes)}` : ''}`),
      '',
    );
  }
  if (withdrawals.length > 0) {
    subject.push(`${withdrawals.length} ${withdrawals.length === 1 ? 'warning' : 'warnings'} withdrawn`);
    parts.push(
      `These will not be deleted after all; their earlier warnings are withdrawn:\n`,
      ...withdrawals.map((item) => `  ${item.kind} ${item.object}\n    spared: ${item.withdrawn_reason ?? 'no longer eligible'}`),
      '',
    );
  }
  parts.push('See what is pending: rpmgate cleanup --dry-run (or GET /api/v1/cleanup).');
  return { subject: `rpmgate cleanup: ${subject.join('; ')}`, text: parts.join('\n') + '\n' };
}
