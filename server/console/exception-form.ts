// The console's form for granting an entry-check exception, read against the API's own schema
// (grantExceptionBody): the same bounds and messages as POST /api/v1/exceptions. Empty optional
// fields are left out; a field given twice, or one the form does not have, is refused.
import { RpmgateError } from '../../common/errors.ts';
import { expiryOf, type NewException } from '../checks/exceptions.ts';
import { grantExceptionBody } from '../http/schemas/exceptions.ts';

export const grantFields = ['check', 'package', 'path', 'reason', 'expires', 'untilVersion'] as const;
export type GrantFormValues = Partial<Record<(typeof grantFields)[number], string>>;

/** The values as typed (trimmed), for showing the form again after a refusal. */
export function grantFormValues(body: Record<string, unknown>): GrantFormValues {
  const values: GrantFormValues = {};
  for (const name of grantFields) {
    const value = body[name];
    if (typeof value === 'string' && value.trim() !== '') values[name] = value.trim().slice(0, 4096);
  }
  return values;
}

/** The exception the form asks for, or a 400 naming each wrong field. */
export function readGrantForm(body: Record<string, unknown>, now: Date): NewException {
  for (const [name, value] of Object.entries(body)) {
    if (name === 'csrf') continue;
    if (!(grantFields as readonly string[]).includes(name)) throw new RpmgateError('bad_request', `unknown form field ${name}`);
    if (typeof value !== 'string') throw new RpmgateError('bad_request', `form field ${name} must be given once, as text`);
  }
  const parsed = grantExceptionBody.safeParse(grantFormValues(body));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || 'form';
      const message = issue.message.replace(/^Invalid input: /, '');
      return issue.code === 'invalid_type' && message.endsWith('received undefined') ? `${name} is required` : `${name}: ${message}`;
    });
    throw new RpmgateError('bad_request', `the exception was not granted: ${problems.join('; ')}`);
  }
  const { expires, ...rest } = parsed.data;
  return { ...rest, expires: expiryOf(expires, now) };
}
