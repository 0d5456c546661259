// Package sets through the real HTTP API and database: creation rules, dependency closure, sources,
// immutability enforced by the schema itself, listing and the CLI.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../common/http-client.ts';
import { isRpmgateError } from '../../common/errors.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { rpmgate } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let integ: ApiClient;
let integToken: string;

interface SetDocument {
  id: string;
  level: string;
  packages: string[];
  added: { nevra: string; reason: string }[];
  history: unknown[];
}

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  integToken = await server.tokenFor('integ', 'integ-bob');
  integ = await server.clientFor('integ');
  for (const fixture of fixtures.packages) {
    await integ.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
  }
});
afterAll(async () => {
  await server?.close();
});

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isRpmgateError(error)) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

const nevra = (name: string) => fixtures.byName(name).nevra;

describe('POST /api/v1/sets', () => {
  it('creates a set at integ with the named packages and their sources', async () => {
    const { status, body } = await integ.post<SetDocument>('/api/v1/sets', {
      name: 'hello',
      version: '1.0',
      packages: [fixtures.allNamed('rg-hello')[0]!.nevra],
      description: 'first',
    });
    expect(status).toBe(201);
    expect(body.level).toBe('integ');
    expect(body.packages.sort()).toEqual(['rg-hello-1.0-1.noarch', 'rg-hello-1.0-1.src'].sort());
    expect(body.added).toEqual([{ nevra: 'rg-hello-1.0-1.src', reason: 'source of a member' }]);
  });

  it('leaves sources out with noSources', async () => {
    const { body } = await integ.post<SetDocument>('/api/v1/sets', { name: 'hello', version: '1.0-nosrc', packages: ['rg-hello-1.0-1.noarch'], noSources: true });
    expect(body.packages).toEqual(['rg-hello-1.0-1.noarch']);
  });

  it('answers 409 for an existing name and version', async () => {
    const error = await failure(integ.post('/api/v1/sets', { name: 'hello', version: '1.0', packages: ['rg-hello-1.0-1.noarch'] }));
    expect(error.code).toBe('conflict');
  });

  it('answers 409 for a version rpm orders as equal to an existing one (1.0 and 1.00)', async () => {
    for (const spelling of ['1.00', '01.0', '1.0.']) {
      const error = await failure(integ.post('/api/v1/sets', { name: 'hello', version: spelling, packages: ['rg-hello-1.0-1.noarch'] }));
      expect(error.code, spelling).toBe('conflict');
      expect(error.message).toContain('hello/1.0');
    }
    // Versions rpm tells apart are fine.
    const { status } = await integ.post('/api/v1/sets', { name: 'hello', version: '1.0.1', packages: ['rg-hello-1.0-1.noarch'] });
    expect(status).toBe(201);
  });

  it('answers 422 listing unknown packages', async () => {
    const error = await failure(integ.post('/api/v1/sets', { name: 'x', version: '1', packages: ['rg-hello-1.0-1.noarch', 'nope-1-1.noarch'] }));
    expect(error.code).toBe('unprocessable');
    expect(error.extra.unknownPackages).toEqual(['nope-1-1.noarch']);
  });

  it('answers 422 listing unsatisfied requires, and accepts them with allowUnresolved', async () => {
    const error = await failure(integ.post('/api/v1/sets', { name: 'app', version: '0.1', packages: [nevra('rg-app')] }));
    expect(error.code).toBe('unprocessable');
    const unresolved = (error.extra.unresolved as { nevra: string; requirement: string }[]).map((u) => u.requirement).sort();
    // rg-app's five requires (test/fixtures/specs/rg-app.spec), each named as the spec writes it.
    expect(unresolved).toEqual(['/usr/bin/rg-hello', 'rg-epoch', 'rg-epoch >= 3:1.0', 'rg-hello >= 2.0', 'rg-lib-api >= 2.0']);
    const { status } = await integ.post('/api/v1/sets', { name: 'app', version: '0.1', packages: [nevra('rg-app')], allowUnresolved: true });
    expect(status).toBe(201);
  });

  it('with resolve adds what the requires need from the store: versioned, file and virtual provides', async () => {
    const { body } = await integ.post<SetDocument>('/api/v1/sets', { name: 'app', version: '1.0', packages: [nevra('rg-app')], resolve: true });
    const binaries = body.packages.filter((p) => !p.endsWith('.src'));
    expect(binaries).toContain('rg-lib-2.1-1.x86_64');
    expect(binaries).toContain('rg-epoch-3:1.5-2.noarch');
    // rg-app conflicts with rg-hello < 2.0 and needs /usr/bin/rg-hello: the newest rg-hello is chosen.
    expect(binaries.filter((p) => p.startsWith('rg-hello-'))).toHaveLength(1);
    expect(body.packages).toContain('rg-app-1.0-1.src');
    expect(body.packages).toContain('rg-lib-2.1-1.src');
  });

  it('refuses what resolve cannot satisfy', async () => {
    const error = await failure(integ.post('/api/v1/sets', { name: 'bad', version: '1', packages: [nevra('rg-unsatisfiable')], resolve: true }));
    expect(error.extra.unresolved).toEqual([{ nevra: nevra('rg-unsatisfiable'), requirement: 'rg-does-not-exist >= 1.0' }]);
  });

  it.each([
    [{ name: 'has space', version: '1', packages: ['a'] }, 'name'],
    [{ name: 'ok', version: 'latest', packages: ['a'] }, 'version'],
    [{ name: 'ok', version: '1/2', packages: ['a'] }, 'version'],
    [{ name: 'ok', version: '1', packages: [] }, 'packages'],
    [{ name: 'ok', version: '1', packages: 'a' }, 'packages'],
  ])('answers 400 for %j', async (body, word) => {
    const error = await failure(integ.post('/api/v1/sets', body));
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain(word);
  });
});

describe('immutability in the database itself', () => {
  it('refuses to change, add or delete a sealed set member, or rename a set', async () => {
    const sql = server.database.sql;
    const [set] = await sql<{ id: number }[]>`select id from package_sets where name = 'hello' and version = '1.0'`;
    const [other] = await sql<{ id: number }[]>`select id from packages where nevra = 'rg-epoch-3:1.5-2.noarch'`;
    await expect(sql`delete from package_set_members where set_id = ${set!.id}`).rejects.toThrow(/cannot change/);
    await expect(sql`insert into package_set_members (set_id, package_id) values (${set!.id}, ${other!.id})`).rejects.toThrow(/sealed/);
    await expect(sql`update package_set_members set package_id = ${other!.id} where set_id = ${set!.id}`).rejects.toThrow(/cannot change/);
    await expect(sql`update package_sets set version = '9' where id = ${set!.id}`).rejects.toThrow(/immutable/);
    await expect(sql`update package_sets set level = 'release' where id = ${set!.id}`).rejects.toThrow(/cannot move/);
    const members = await sql`select 1 from package_set_members where set_id = ${set!.id}`;
    expect(members).toHaveLength(2);
  });

  it('a stored package that a set holds cannot be deleted', async () => {
    const sql = server.database.sql;
    await expect(sql`delete from packages where nevra = 'rg-hello-1.0-1.noarch'`).rejects.toThrow(/foreign key/);
  });
});

describe('GET /api/v1/sets', () => {
  it('shows a set with its members and history', async () => {
    const { body } = await integ.get<SetDocument & { members: { nevra: string; source: boolean }[] }>('/api/v1/sets/hello/1.0');
    expect(body.id).toBe('hello/1.0');
    expect(body.members.find((m) => m.source)?.nevra).toBe('rg-hello-1.0-1.src');
    expect(body.history).toEqual([]);
  });

  it('lists one product line newest version first, by rpm version order', async () => {
    for (const version of ['1.10', '1.9', '1.10~rc1']) {
      await integ.post('/api/v1/sets', { name: 'order', version, packages: ['rg-hello-1.0-1.noarch'] });
    }
    const { body } = await integ.get<SetDocument[]>('/api/v1/sets?name=order');
    expect(body.map((s) => s.id)).toEqual(['order/1.10', 'order/1.10~rc1', 'order/1.9']);
  });

  it('404 for an unknown set', async () => {
    const error = await failure(integ.get('/api/v1/sets/none/1'));
    expect(error.code).toBe('not_found');
  });
});

describe('rpmgate set', () => {
  it('create, show, list and diff from the command line', async () => {
    const hello = fixtures.allNamed('rg-hello');
    const created = await rpmgate(server, integToken, ['set', 'create', 'cli', '1', hello[0]!.nevra, nevra('rg-epoch')]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/created cli\/1 at integ/);
    const second = await rpmgate(server, integToken, ['set', 'create', 'cli', '2', hello[1]!.nevra, nevra('rg-lib')]);
    expect(second.code, second.stderr).toBe(0);

    const shown = await rpmgate(server, integToken, ['set', 'show', 'cli/1']);
    expect(shown.stdout).toContain(hello[0]!.nevra);
    const listed = await rpmgate(server, integToken, ['--json', 'set', 'list', '--name', 'cli']);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id)).toEqual(['cli/2', 'cli/1']);

    const diff = await rpmgate(server, integToken, ['--json', 'set', 'diff', 'cli/1', 'cli/2']);
    const changes = JSON.parse(diff.stdout) as { changed: { name: string; direction: string }[]; added: string[]; removed: string[] };
    expect(changes.changed).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'rg-hello', direction: 'upgrade' })]));
    expect(changes.added).toContain('rg-lib-2.1-1.x86_64');
    expect(changes.removed).toContain('rg-epoch-3:1.5-2.noarch');
  });

  it('--no-sources leaves the sources out', async () => {
    const hello = fixtures.allNamed('rg-hello');
    const created = await rpmgate(server, integToken, ['--json', 'set', 'create', 'cli-nosrc', '1', hello[0]!.nevra, '--no-sources']);
    expect(created.code, created.stderr).toBe(0);
    expect((JSON.parse(created.stdout) as { packages: string[] }).packages).toEqual([hello[0]!.nevra]);
    const withSources = await rpmgate(server, integToken, ['--json', 'set', 'create', 'cli-src', '1', hello[0]!.nevra]);
    expect((JSON.parse(withSources.stdout) as { packages: string[] }).packages).toEqual([hello[0]!.nevra, 'rg-hello-1.0-1.src']);
  });

  it('promote from the command line: the history shows in set show; a refused step is one line and exit 1', async () => {
    const hello = fixtures.allNamed('rg-hello');
    expect((await rpmgate(server, integToken, ['set', 'create', 'cli-promo', '1', hello[0]!.nevra])).code).toBe(0);
    const promoted = await rpmgate(server, integToken, ['set', 'promote', 'cli-promo/1', 'qa_ready', '--comment', 'integration green']);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain('qa_ready');

    const refused = await rpmgate(server, integToken, ['set', 'promote', 'cli-promo/1', 'pre_release']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('allowed: qa, release_manager, admin');

    const qaToken = await server.tokenFor('qa', 'qa-carol');
    expect((await rpmgate(server, qaToken, ['set', 'promote', 'cli-promo/1', 'pre_release'])).code).toBe(0);
    const backwards = await rpmgate(server, server.adminToken, ['set', 'promote', 'cli-promo/1', 'qa_ready']);
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toContain('is already at pre_release, past qa_ready');

    const shown = await rpmgate(server, integToken, ['set', 'show', 'cli-promo/1']);
    expect(shown.stdout).toMatch(/integ -> qa_ready\s+by integ-bob: integration green/);
    expect(shown.stdout).toMatch(/qa_ready -> pre_release\s+by qa-carol/);
    const json = JSON.parse((await rpmgate(server, integToken, ['--json', 'set', 'show', 'cli-promo/1'])).stdout) as SetDocument;
    expect(json.level).toBe('pre_release');
    expect(json.history).toEqual([
      expect.objectContaining({ from: 'integ', to: 'qa_ready', by: 'integ-bob', comment: 'integration green' }),
      expect.objectContaining({ from: 'qa_ready', to: 'pre_release', by: 'qa-carol', comment: '' }),
    ]);
  });

  it('a bad set reference is a usage error: one line, exit 2', async () => {
    const result = await rpmgate(server, integToken, ['set', 'show', 'no-version']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
