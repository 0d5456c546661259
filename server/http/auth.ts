// Authentication (bearer tokens, or HTTP basic with the token as password for dnf) and the per-route
// role check. Every API route names the roles it allows with `allow(...)`; nothing is open by default.
import type { MiddlewareHandler } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { Role } from '../../common/roles.ts';
import type { AppContext } from '../context.ts';
import { authenticateToken, type Principal } from '../services/tokens.ts';
import type { HttpEnv } from './env.ts';

/** Reads the credentials if any; a presented but unknown token is refused at once (no silent anonymity). */
export function authenticate(ctx: AppContext): MiddlewareHandler<HttpEnv> {
  return async function authenticateRequest(c, next) {
    const secret = readSecret(c.req.header('authorization'));
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

function readSecret(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!scheme || !value) throw new RpmgateError('unauthorized', 'malformed Authorization header');
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    // dnf sends user:password; the user name is ignored, the password is the token.
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  throw new RpmgateError('unauthorized', `unsupported authorization scheme ${scheme}`);
}
