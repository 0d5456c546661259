// The server's configuration is read once from the environment and fails fast with one readable line.
import { describe, expect, it } from 'vitest';
import { isRpmgateError } from '../../common/errors.ts';
import { readConfig } from '../../server/config.ts';

function refusal(env: Record<string, string>): string {
  try {
    readConfig(env);
  } catch (error) {
    if (isRpmgateError(error) && error.code === 'usage') return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('readConfig', () => {
  it('takes the defaults of INTERFACE.md', () => {
    const config = readConfig({});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', databaseUrl: null, adminToken: null, baseUrl: null, repoAuth: false });
    expect(config.dataDir.endsWith('/var')).toBe(true);
  });

  it('accepts a postgres URL and refuses anything else without echoing it (it may hold a password)', () => {
    expect(readConfig({ DATABASE_URL: 'postgres://rpmgate:secret@db.example.com:5432/rpmgate' }).databaseUrl).toBe(
      'postgres://rpmgate:secret@db.example.com:5432/rpmgate',
    );
    expect(readConfig({ DATABASE_URL: 'postgresql://localhost/rpmgate' }).databaseUrl).toBe('postgresql://localhost/rpmgate');
    for (const bad of ['not a url', 'mysql://root:hunter2@db/rpmgate', 'http://db:5432/']) {
      const message = refusal({ DATABASE_URL: bad });
      expect(message).toMatch(/^DATABASE_URL must be a postgres:\/\/ URL/);
      expect(message).not.toContain('hunter2');
    }
  });

  it('refuses a port, limit or gzip level out of range, a short admin token and a base URL that is not http(s)', () => {
    expect(refusal({ PORT: '70000' })).toContain('PORT');
    expect(refusal({ PORT: 'eighty' })).toContain('PORT');
    expect(refusal({ RPMGATE_MAX_UPLOAD_BYTES: '0' })).toContain('RPMGATE_MAX_UPLOAD_BYTES');
    expect(refusal({ RPMGATE_REPODATA_GZIP_LEVEL: '10' })).toContain('RPMGATE_REPODATA_GZIP_LEVEL');
    expect(refusal({ RPMGATE_ADMIN_TOKEN: 'short' })).toContain('at least 16 characters');
    expect(refusal({ RPMGATE_BASE_URL: 'ftp://packages.example.com' })).toContain('http or https');
  });

  it('reads RPMGATE_ALLOWED_HOSTS as host names, addresses and host:port, and refuses anything else', () => {
    expect(readConfig({}).allowedHosts).toBeNull();
    expect(readConfig({ RPMGATE_ALLOWED_HOSTS: 'Repo.Example.com, 10.0.0.5:8080 [::1]:8080' }).allowedHosts).toEqual(['repo.example.com', '10.0.0.5:8080', '[::1]:8080']);
    for (const bad of ['http://repo.example.com', 'repo.example.com:0', 'repo.example.com:99999', 'user@repo.example.com', 'repo..example.com', 'repo.example.com/path']) {
      expect(refusal({ RPMGATE_ALLOWED_HOSTS: bad }), bad).toContain('RPMGATE_ALLOWED_HOSTS');
    }
    // Any host only where no URL is made from the Host header.
    expect(refusal({ RPMGATE_ALLOWED_HOSTS: '*' })).toContain('needs RPMGATE_BASE_URL');
    expect(readConfig({ RPMGATE_ALLOWED_HOSTS: '*', RPMGATE_BASE_URL: 'https://packages.example.com' }).allowedHosts).toEqual(['*']);
  });

  it('refuses an admin token that cannot be sent as Authorization: Bearer TOKEN', () => {
    expect(refusal({ RPMGATE_ADMIN_TOKEN: 'sixteen chars with spaces' })).toContain('RPMGATE_ADMIN_TOKEN may hold only');
    expect(refusal({ RPMGATE_ADMIN_TOKEN: 'sixteen-chars-but-"quoted"' })).toContain('RPMGATE_ADMIN_TOKEN may hold only');
    expect(readConfig({ RPMGATE_ADMIN_TOKEN: 'dGhpcyBpcyBiYXNlNjQ+/w==' }).adminToken).toBe('dGhpcyBpcyBiYXNlNjQ+/w==');
  });
});
