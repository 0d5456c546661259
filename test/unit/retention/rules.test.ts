// The cleanup rules' file section and the schedule: defaults, validation naming each wrong field.
import { describe, expect, it } from 'vitest';
import { defaultCleanupRules, parseCleanupRules } from '../../../server/retention/rules.ts';
import { delayUntilNext } from '../../../server/retention/schedule.ts';
import { parseCleanupSchedule, readRetentionSettings } from '../../../server/retention/settings.ts';

describe('the cleanup section of the policy file', () => {
  it('has the defaults of issue 14', () => {
    expect(defaultCleanupRules).toMatchObject({ tooOldDays: 90, orphanDays: 30, hostReportDays: 30, warningDays: 14, recipients: [] });
    expect(defaultCleanupRules.rules).toEqual({ redundant: true, tooOld: true, obsolete: true, orphans: true, previousFiles: true });
  });

  it('takes its own section and leaves the others to their readers', () => {
    const rules = parseCleanupRules(JSON.stringify({ checks: { anything: 1 }, cleanup: { warningDays: 7, rules: { orphans: false }, recipients: ['ops@example.org'] } }));
    expect(rules).toMatchObject({ warningDays: 7, tooOldDays: 90, recipients: ['ops@example.org'] });
    expect(rules.rules).toMatchObject({ orphans: false, redundant: true });
    expect(parseCleanupRules('{}')).toEqual(defaultCleanupRules);
  });

  it('refuses what it does not know, naming each field', () => {
    const wrong = () => parseCleanupRules('{"cleanup":{"tooOldDays":"90","warnigDays":3,"recipients":["nobody"]}}', 'policy.json');
    expect(wrong).toThrow(/^policy\.json: /);
    expect(wrong).toThrow(/cleanup\.tooOldDays: expected a number of days/);
    expect(wrong).toThrow(/cleanup\.warnigDays: not a known setting/);
    expect(wrong).toThrow(/cleanup\.recipients\.0: expected an e-mail address/);
    expect(() => parseCleanupRules('{"cleanup":{"warningDays":-1}}')).toThrow(/cleanup.warningDays/);
    expect(() => parseCleanupRules('not json', 'policy.json')).toThrow(/is not valid JSON/);
    expect(() => parseCleanupRules('cleanup: [', 'policy.yaml')).toThrow(/is not valid YAML/);
    expect(parseCleanupRules('# the entry checks and cleanup share the file\nvendor: acme\ncleanup: { warningDays: 7 }\n', 'policy.yaml').warningDays).toBe(7);
  });
});

describe('RPMGATE_CLEANUP_SCHEDULE', () => {
  it('is off unless set; HH:MM daily (UTC) or every N[m|h|d]', () => {
    expect(parseCleanupSchedule(undefined)).toBeNull();
    expect(parseCleanupSchedule('off')).toBeNull();
    expect(parseCleanupSchedule('03:30')).toEqual({ kind: 'daily', hour: 3, minute: 30 });
    expect(parseCleanupSchedule('every 6h')).toEqual({ kind: 'every', intervalMs: 6 * 3_600_000 });
    expect(() => parseCleanupSchedule('25:00')).toThrow(/HH:MM/);
    expect(() => parseCleanupSchedule('hourly')).toThrow(/HH:MM/);
  });

  it('waits until the next time of day', () => {
    const schedule = { kind: 'daily' as const, hour: 3, minute: 0 };
    expect(delayUntilNext(schedule, new Date('2026-12-03T02:00:00Z'))).toBe(3_600_000);
    expect(delayUntilNext(schedule, new Date('2026-12-03T03:00:00Z'))).toBe(24 * 3_600_000);
  });

  it('reads SMTP and the sender, never echoing a URL that may hold a password', () => {
    expect(readRetentionSettings({}).smtpUrl).toBeNull();
    expect(readRetentionSettings({ RPMGATE_SMTP_URL: 'smtp://u:p@mail.example.org:587' }).smtpUrl).toBe('smtp://u:p@mail.example.org:587');
    expect(() => readRetentionSettings({ RPMGATE_SMTP_URL: 'http://u:secret@x' })).toThrow(/^RPMGATE_SMTP_URL must be smtp:\/\/\[user:password@\]host/);
    expect(() => readRetentionSettings({ RPMGATE_SMTP_URL: 'http://u:secret@x' })).not.toThrow(/secret/);
    expect(() => readRetentionSettings({ RPMGATE_MAIL_FROM: 'a\nBcc: x@y' })).toThrow(/RPMGATE_MAIL_FROM/);
  });
});
