// Authentication and the per-route role check. The API takes exactly "Bearer TOKEN"; repositories take
// HTTP basic auth as dnf sends it (any user name, the token as password) or "Bearer TOKEN" (the
// agent's downloads); anything else is a 401. Every API route names the roles it allows with
// `allow(...)`; nothing is open by default.
import type { MiddlewareHandler } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { Role } from '../../common/roles.ts';
import type { AppContext } from '../context.ts';
import { authenticateToken, type Principal } from '../services/tokens.ts';
import type { HttpEnv } from './env.ts';

/** Where credentials are presented: the JSON API, or the repositories dnf reads. */
export type CredentialPlace = 'api' | 'repo';

/** Reads the credentials if any; a presented but unknown token is refused at once (no silent anonymity). */
export function authenticate(ctx: AppContext, place: CredentialPlace): MiddlewareHandler<HttpEnv> {
  return async function authenticateRequest(c, next) {
    const secret = readSecret(c.req.header('authorization'), place);
    let principal: Principal | null = null;
    if (secret !== null) {
      principal = await authenticateToken(ctx.sql, secret, ctx.config.adminToken);
      if (!principal) throw new RpmgateError('unauthorized', 'the token is not valid (unknown or revoked)');
    }
    c.set('principal', principal);
    await next();
  };
}

/** Allows the request only to the named roles: 401 without a token, 403 with another role. */
export function allow(...allowed: Role[]): MiddlewareHandler<HttpEnv> {
  return async function requireRole(c, next) {
    requireRoles(c.get('principal'), allowed);
    await next();
  };
}

export function requireRoles(principal: Principal | null, allowed: readonly Role[]): Principal {
  if (!principal) throw new RpmgateError('unauthorized', 'this request needs a token: Authorization: Bearer TOKEN');
  if (!allowed.includes(principal.role)) {
    throw new RpmgateError('forbidden', `role ${principal.role} may not do this; allowed: ${allowed.join(', ')}`, {
      allowedRoles: allowed,
    });
  }
  return principal;
}

// RFC 6750's b64token (a bearer token) and RFC 7617's base64 credentials.
const bearer = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const basic = /^basic +((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function readSecret(header: string | undefined, place: CredentialPlace): string | null {
  if (header === undefined) return null;
  const token = bearer.exec(header)?.[1];
  if (token !== undefined) return token;
  const credentials = place === 'repo' ? basic.exec(header)?.[1] : undefined;
  if (credentials) {
    // dnf sends user:password; the user name is ignored, the password is the token.
    let decoded: string;
    try {
      decoded = strictUtf8.decode(Buffer.from(credentials, 'base64'));
    } catch {
      throw new RpmgateError('unauthorized', 'the basic credentials are not UTF-8 text');
    }
    const colon = decoded.indexOf(':');
    const password = decoded.slice(colon + 1);
    if (colon > 0 && password !== '' && !/[\x00-\x1f\x7f]/.test(decoded)) return password;
    throw new RpmgateError('unauthorized', 'basic credentials are user:token (any user name, the token as password)');
  }
  throw new RpmgateError(
    'unauthorized',
    place === 'api'
      ? 'the API takes exactly Authorization: Bearer TOKEN'
      : 'repositories take HTTP basic auth (any user name, the token as password) or Authorization: Bearer TOKEN',
  );
}
