// Strict reading of the console's query strings and form bodies: every parameter a page accepts is
// declared with its type and bounds, anything else (an unknown name, a repeated name, a value out of
// bounds) is a 400 with a sentence naming the parameter. Pages never see raw strings.
import { RpmgateError } from '../../common/errors.ts';

interface Field<T> {
  read(raw: string | undefined, name: string): T;
}

type Values<S extends Record<string, Field<unknown>>> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

function bad(name: string, what: string): RpmgateError {
  return new RpmgateError('bad_request', `${name} ${what}`);
}

export const field = {
  /** A 1-based page number. */
  page(): Field<number> {
    return field.integer(1, 1_000_000, 1);
  },
  integer<D extends number | null>(min: number, max: number, fallback: D): Field<number | D> {
    return {
      read(raw, name) {
        if (raw === undefined || raw === '') return fallback;
        if (!/^\d{1,9}$/.test(raw)) throw bad(name, `must be a whole number between ${min} and ${max}`);
        const value = Number(raw);
        if (value < min || value > max) throw bad(name, `must be a whole number between ${min} and ${max}`);
        return value;
      },
    };
  },
  /** A checkbox or a true/false value; absent is false. */
  flag(): Field<boolean> {
    return {
      read(raw, name) {
        if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
        if (raw === 'true' || raw === '1' || raw === 'on') return true;
        throw bad(name, 'must be true or false');
      },
    };
  },
  oneOf<const V extends string>(values: readonly V[]): Field<V | null> {
    return {
      read(raw, name) {
        if (raw === undefined || raw === '') return null;
        if (!(values as readonly string[]).includes(raw)) throw bad(name, `must be one of ${values.join(', ')}`);
        return raw as V;
      },
    };
  },
  /** Text up to maxLength characters matching a pattern; empty is null. */
  text(maxLength: number, pattern: RegExp, description: string): Field<string | null> {
    return {
      read(raw, name) {
        if (raw === undefined) return null;
        const value = raw.trim();
        if (value === '') return null;
        if (value.length > maxLength || !pattern.test(value)) throw bad(name, `must be ${description}`);
        return value;
      },
    };
  },
  /** Like text, but required. */
  required(maxLength: number, pattern: RegExp, description: string): Field<string> {
    const text = field.text(maxLength, pattern, description);
    return {
      read(raw, name) {
        const value = text.read(raw, name);
        if (value === null) throw bad(name, 'is required');
        return value;
      },
    };
  },
};

/** Printable text for free-text searches (no control characters). */
export const searchPattern = /^[^\p{Cc}]+$/u;

/** Reads a query string against its declaration. */
export function readQuery<S extends Record<string, Field<unknown>>>(url: URL, spec: S): Values<S> {
  const raw: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (!Object.hasOwn(spec, name)) throw new RpmgateError('bad_request', `unknown query parameter ${name}`);
    if (Object.hasOwn(raw, name)) throw new RpmgateError('bad_request', `query parameter ${name} is given twice`);
    raw[name] = value;
  }
  return readValues(raw, spec);
}

/** Reads a urlencoded form body (as hono's parseBody gives it) against its declaration; csrf is checked elsewhere. */
export function readForm<S extends Record<string, Field<unknown>>>(body: Record<string, unknown>, spec: S): Values<S> {
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === 'csrf') continue;
    if (!Object.hasOwn(spec, name)) throw new RpmgateError('bad_request', `unknown form field ${name}`);
    if (typeof value !== 'string') throw new RpmgateError('bad_request', `form field ${name} must be given once, as text`);
    raw[name] = value;
  }
  return readValues(raw, spec);
}

function readValues<S extends Record<string, Field<unknown>>>(raw: Record<string, string>, spec: S): Values<S> {
  const values: Record<string, unknown> = {};
  for (const [name, declared] of Object.entries(spec)) values[name] = declared.read(raw[name], name);
  return values as Values<S>;
}
