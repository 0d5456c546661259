// Which Host headers the server answers. Without RPMGATE_BASE_URL, .repo files take their URLs from
// the Host header: answering any host would let a request for evil.example write evil.example into a
// .repo file (and a cache in front hand it to everyone). RPMGATE_ALLOWED_HOSTS lists the hosts; by
// default they are the listen address, localhost and the machine's host names (and the base URL's).
import os from 'node:os';
import type { MiddlewareHandler } from 'hono';
import { RpmgateError } from '../../common/errors.ts';
import type { Config } from '../config.ts';
import type { HttpEnv } from './env.ts';

export interface HostPolicy {
  /** Whether a Host header is answered, for a request that came in on localPort. */
  allows(host: string | undefined, localPort: number | undefined): boolean;
}

/**
 * An entry "name" allows the Host "name" and "name:<the port the request came in on>"; an entry
 * "name:port" allows exactly that. Host names compare without case.
 */
export function hostPolicy(config: Pick<Config, 'allowedHosts' | 'host' | 'baseUrl'>): HostPolicy {
  const entries = config.allowedHosts ?? defaultHosts(config);
  if (entries.includes('*')) return { allows: (host) => host !== undefined };
  const exact = new Set(entries.filter((entry) => hasPort(entry)));
  const names = new Set(entries.filter((entry) => !hasPort(entry)));
  const decide = (wanted: string, localPort: number | undefined): boolean => {
    if (names.has(wanted) || exact.has(wanted)) return true;
    const colon = wanted.lastIndexOf(':');
    return colon > 0 && localPort !== undefined && wanted.slice(colon + 1) === String(localPort) && names.has(wanted.slice(0, colon));
  };
  // The last Host allowed, and on which port: a server's clients send the same one request after
  // request, and the warm answers ask for every one of them.
  let lastAllowed: { host: string; localPort: number | undefined } | null = null;
  return {
    allows(host, localPort) {
      if (!host) return false;
      if (lastAllowed?.host === host && lastAllowed.localPort === localPort) return true;
      const allowed = decide(host.toLowerCase(), localPort);
      if (allowed) lastAllowed = { host, localPort };
      return allowed;
    },
  };
}

export function refuseUnknownHost(policy: HostPolicy): MiddlewareHandler<HttpEnv> {
  return async function checkHost(c, next) {
    // The request URL's host is the Host header (the Node listener refuses a request without one, or
    // with one that is no host), normalised as .repo files would write it.
    const url = c.req.url;
    const start = url.indexOf('//') + 2;
    const host = url.slice(start, url.indexOf('/', start));
    if (!policy.allows(host, c.env?.incoming?.socket?.localPort)) {
      throw new RpmgateError('bad_request', `this server does not answer for host ${JSON.stringify(host.slice(0, 100))}; RPMGATE_ALLOWED_HOSTS lists the hosts it answers`);
    }
    await next();
  };
}

function hasPort(entry: string): boolean {
  return entry.startsWith('[') ? entry.includes(']:') : entry.includes(':');
}

/** The listen address (every interface's when it is a wildcard), localhost, the host names, the base URL's host. */
function defaultHosts(config: Pick<Config, 'host' | 'baseUrl'>): string[] {
  const hostname = os.hostname().toLowerCase();
  const hosts = ['localhost', '127.0.0.1', '[::1]', hostname, hostname.split('.')[0]!];
  const listen = config.host.toLowerCase();
  if (listen === '0.0.0.0' || listen === '::' || listen === '[::]' || listen === '') {
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const { address, family } of addresses ?? []) hosts.push(family === 'IPv6' ? `[${address.toLowerCase()}]` : address);
    }
  } else {
    hosts.push(listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen);
  }
  if (config.baseUrl) hosts.push(new URL(config.baseUrl).host.toLowerCase());
  return hosts;
}
