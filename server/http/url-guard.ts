// Every URL, before any route: its path segments and query parameters must decode (percent-encoded
// UTF-8) to text without a NUL. PostgreSQL refuses such text, so it would otherwise surface as a 500
// from whichever query it reached; here it is a 400 naming the segment or parameter.
import type { MiddlewareHandler } from 'hono';
import type { HttpEnv } from './env.ts';
import { invalidInput } from './validation.ts';

export function refuseMalformedUrl(): MiddlewareHandler<HttpEnv> {
  return async function checkUrl(c, next) {
    const url = c.req.url;
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const queryStart = url.indexOf('?', pathStart);
    const path = url.slice(pathStart, queryStart < 0 ? undefined : queryStart);
    for (const segment of path.split('/')) {
      if (decodes(segment) === null) throw invalidInput([{ name: 'path', in: 'path', reason: `segment "${clip(segment)}" ${notText}` }]);
    }
    if (queryStart >= 0) {
      const hash = url.indexOf('#', queryStart);
      for (const pair of url.slice(queryStart + 1, hash < 0 ? undefined : hash).split('&')) {
        const equals = pair.indexOf('=');
        const name = decodes(equals < 0 ? pair : pair.slice(0, equals));
        if (name === null) throw invalidInput([{ name: 'query', in: 'query', reason: `parameter name "${clip(pair)}" ${notText}` }]);
        if (equals >= 0 && decodes(pair.slice(equals + 1)) === null) throw invalidInput([{ name, in: 'query', reason: notText }]);
      }
    }
    await next();
  };
}

const notText = 'is not percent-encoded UTF-8 text without NUL characters';

/** Enough of what came (still percent-encoded, so printable) to find it. */
function clip(encoded: string): string {
  return encoded.length > 60 ? `${encoded.slice(0, 60)}...` : encoded;
}

/** The decoded text, or null when it is not valid percent-encoded UTF-8 or holds a NUL. */
function decodes(encoded: string): string | null {
  if (!encoded.includes('%')) return encoded.includes('\0') ? null : encoded.replaceAll('+', ' ');
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    return null;
  }
  return decoded.includes('\0') ? null : decoded;
}
