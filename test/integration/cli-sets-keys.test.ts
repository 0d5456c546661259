// The admin CLI against a real server: `rpmgate set create` with --resolve, --allow-unresolved and
// --from, its refusals (one line on stderr, the error code's exit status), and `rpmgate key show | add
// | activate | retire` through a whole rotation.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { rpmgate, type CliResult } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let integToken: string;
let work: string;

interface SetDocument {
  id: string;
  level: string;
  packages: string[];
  added: { nevra: string; reason: string }[];
}

interface KeyInfo {
  fingerprint: string;
  algorithm: string;
  status: string;
}

interface KeysDocument {
  current: KeyInfo;
  keys: KeyInfo[];
  rotation: { state: string; total: number; resigned: number };
}

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  integToken = await server.tokenFor('integ', 'integ-cli');
  work = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-cli-'));
  for (const fixture of fixtures.packages) {
    await server.admin.request('POST', '/api/v1/packages', { body: await readFile(fixture.path) });
  }
});
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const nevra = (name: string) => fixtures.byName(name).nevra;

/** A refusal as INTERFACE.md says: nothing on stdout, one line on stderr, the code's exit status. */
function expectOneLineRefusal(result: CliResult, code: number, message: string | RegExp) {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^rpmgate: /);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
}

async function setMembers(id: string): Promise<string[]> {
  const { body } = await server.admin.get<SetDocument>(`/api/v1/sets/${id}`);
  return [...body.packages].sort();
}

describe('rpmgate set create', () => {
  it('--resolve adds what the Requires need from the store and prints each addition with its reason', async () => {
    const result = await rpmgate(server, integToken, ['set', 'create', 'cli-app', '1.0', nevra('rg-app'), '--resolve']);
    expect(result.code, result.stderr).toBe(0);
    const members = await setMembers('cli-app/1.0');
    expect(members).toEqual(expect.arrayContaining([nevra('rg-app'), nevra('rg-lib'), nevra('rg-epoch'), 'rg-app-1.0-1.src']));
    expect(members.filter((p) => p.startsWith('rg-hello-') && !p.endsWith('.src'))).toHaveLength(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`created cli-app/1.0 at integ with ${members.length} package(s)`);
    // Each addition names the level it reached (proven components first) and why it was added.
    expect(lines).toContain(`  added ${nevra('rg-lib')} (level integ; required by ${nevra('rg-app')}: rg-lib-api >= 2.0)`);
    expect(lines).toContain('  added rg-app-1.0-1.src (source of a member)');
    expect(lines).toHaveLength(members.length);
  });

  it('without --resolve, unsatisfied Requires are a 422: exit 1, one line naming them', async () => {
    const result = await rpmgate(server, integToken, ['set', 'create', 'cli-bare', '1.0', nevra('rg-app')]);
    expectOneLineRefusal(result, 1, `rpmgate: unresolved dependencies: ${nevra('rg-app')} requires`);
    await expect(server.admin.get('/api/v1/sets/cli-bare/1.0')).rejects.toMatchObject({ status: 404 });
  });

  it('--resolve cannot satisfy what the store lacks; --allow-unresolved creates the set anyway', async () => {
    const refused = await rpmgate(server, integToken, ['set', 'create', 'cli-os', '1.0', nevra('rg-unsatisfiable'), '--resolve']);
    expectOneLineRefusal(refused, 1, `rpmgate: unresolved dependencies: ${nevra('rg-unsatisfiable')} requires rg-does-not-exist >= 1.0`);

    const allowed = await rpmgate(server, integToken, ['set', 'create', 'cli-os', '1.0', nevra('rg-unsatisfiable'), '--resolve', '--allow-unresolved', '--no-sources']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout.trimEnd().split('\n')).toEqual([
      'created cli-os/1.0 at integ with 1 package(s)',
      'left unresolved (--allow-unresolved; recorded with the set) (1):',
      `  ${nevra('rg-unsatisfiable')} requires rg-does-not-exist >= 1.0`,
    ]);
    expect(await setMembers('cli-os/1.0')).toEqual([nevra('rg-unsatisfiable')]);
  });

  it('unknown packages are a 422: exit 1, one line naming them, and no set', async () => {
    const result = await rpmgate(server, integToken, ['set', 'create', 'cli-unknown', '1.0', nevra('rg-epoch'), 'rg-nope-1.0-1.x86_64']);
    expectOneLineRefusal(result, 1, 'rpmgate: unknown packages: rg-nope-1.0-1.x86_64');
    await expect(server.admin.get('/api/v1/sets/cli-unknown/1.0')).rejects.toMatchObject({ status: 404 });
  });

  it('--from FILE reads one package a line (comments, blank lines and .rpm paths allowed), beside the arguments', async () => {
    const list = path.join(work, 'packages.txt');
    const hello = fixtures.allNamed('rg-hello')[0]!;
    await writeFile(list, [`# the product`, '', `${nevra('rg-epoch')}   # with a comment`, `  build/RPMS/noarch/${hello.fileName}`, ''].join('\n'));
    const result = await rpmgate(server, integToken, ['--json', 'set', 'create', 'cli-from', '1.0', nevra('rg-lib'), '--from', list, '--no-sources']);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as SetDocument;
    expect(body.id).toBe('cli-from/1.0');
    expect([...body.packages].sort()).toEqual([nevra('rg-epoch'), hello.nevra, nevra('rg-lib')].sort());
    expect(await setMembers('cli-from/1.0')).toEqual([...body.packages].sort());
  });

  it('--from a file that cannot be read, or no package at all, is a usage error: exit 2', async () => {
    expectOneLineRefusal(await rpmgate(server, integToken, ['set', 'create', 'cli-none', '1.0', '--from', path.join(work, 'missing.txt')]), 2, 'cannot read');
    expectOneLineRefusal(await rpmgate(server, integToken, ['set', 'create', 'cli-none', '1.0']), 2, 'name at least one package');
  });

  it('an existing or a deleted NAME/VERSION is a 409: exit 1, one line', async () => {
    expect((await rpmgate(server, integToken, ['set', 'create', 'cli-twice', '1.0', nevra('rg-epoch')])).code).toBe(0);
    expectOneLineRefusal(await rpmgate(server, integToken, ['set', 'create', 'cli-twice', '1.0', nevra('rg-epoch')]), 1, 'package set cli-twice/1.0 already exists');
    await server.database.sql`delete from package_sets where name = 'cli-twice'`;
    expectOneLineRefusal(
      await rpmgate(server, integToken, ['set', 'create', 'cli-twice', '1.0', nevra('rg-lib')]),
      1,
      'rpmgate: package set cli-twice/1.0 existed before and was deleted; a version never changes meaning, use a new version',
    );
  });

  it('a role that may not create sets is refused: exit 1, one line', async () => {
    const developer = await server.tokenFor('developer');
    const result = await rpmgate(server, developer, ['set', 'create', 'cli-dev', '1.0', nevra('rg-epoch')]);
    expectOneLineRefusal(result, 1, /^rpmgate: /);
  });
});

/** As gpg prints it: ten groups of four. */
const spaced = (fingerprint: string) => fingerprint.toUpperCase().replace(/(.{4})/g, '$1 ').trim();

/** Fingerprints of the keys /keys/rpmgate.asc publishes, as hosts read them. */
async function publishedFingerprints(): Promise<string[]> {
  const armored = await (await fetch(`${server.url}/keys/rpmgate.asc`)).text();
  return (await openpgp.readKeys({ armoredKeys: armored })).map((key) => key.getFingerprint()).sort();
}

async function keys(): Promise<KeysDocument> {
  return (await server.admin.get<KeysDocument>('/api/v1/keys')).body;
}

describe('rpmgate key', () => {
  it('show prints the current fingerprint, the one /keys/rpmgate.asc publishes', async () => {
    const result = await rpmgate(server, integToken, ['key', 'show']);
    expect(result.code, result.stderr).toBe(0);
    const { current } = await keys();
    expect(await publishedFingerprints()).toEqual([current.fingerprint.toLowerCase()]);
    const first = result.stdout.split('\n')[0]!;
    expect(first).toMatch(new RegExp(`^current signing key: ${spaced(current.fingerprint)} \\(rsa3072, .+\\)$`));
    expect(result.stdout).toMatch(new RegExp(`^current\\s+${spaced(current.fingerprint)}\\s+rsa3072\\s+\\d{4}-\\d{2}-\\d{2}$`, 'm'));
    const json = JSON.parse((await rpmgate(server, integToken, ['--json', 'key', 'show'])).stdout) as KeysDocument;
    expect(json.current.fingerprint).toBe(current.fingerprint);
  });

  it('add, activate, retire: a whole rotation from the command line', async () => {
    const original = (await keys()).current.fingerprint;

    // A generated key: published beside the current one, not yet signing.
    const generated = await rpmgate(server, server.adminToken, ['--json', 'key', 'add', '--algorithm', 'ed25519']);
    expect(generated.code, generated.stderr).toBe(0);
    const added = JSON.parse(generated.stdout) as KeyInfo;
    expect(added).toMatchObject({ status: 'published', algorithm: 'ed25519' });
    expect(await publishedFingerprints()).toEqual([original, added.fingerprint].map((f) => f.toLowerCase()).sort());

    // A key from a file, with its passphrase: the human line names it and the next command.
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'From File', email: 'file@example.com' }],
      passphrase: 'open sesame',
      format: 'armored',
    });
    const fileFingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint();
    const keyFile = path.join(work, 'key.asc');
    await writeFile(keyFile, privateKey);
    const fromFile = await rpmgate(server, server.adminToken, ['key', 'add', '--file', keyFile, '--passphrase', 'open sesame']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const listed = (await keys()).keys.find((k) => k.fingerprint.toLowerCase() === fileFingerprint);
    expect(listed?.status).toBe('published');
    expect(fromFile.stdout.trimEnd()).toBe(`added ${spaced(fileFingerprint)} (published); make it current with: rpmgate key activate ${listed!.fingerprint}`);
    expectOneLineRefusal(await rpmgate(server, server.adminToken, ['key', 'add', '--file', keyFile, '--passphrase', 'wrong']), 2, 'wrong passphrase');
    expectOneLineRefusal(await rpmgate(server, server.adminToken, ['key', 'add', '--file', path.join(work, 'missing.asc')]), 2, 'cannot read');

    // Activate the generated key: it becomes current and the stored packages are re-signed.
    const activated = await rpmgate(server, server.adminToken, ['key', 'activate', added.fingerprint]);
    expect(activated.code, activated.stderr).toBe(0);
    const [currentLine, progressLine] = activated.stdout.trimEnd().split('\n');
    expect(currentLine).toBe(`current signing key: ${spaced(added.fingerprint)}`);
    expect(progressLine).toMatch(/^re-signing: \w+, \d+ of \d+ package\(s\)/);
    await expect.poll(async () => (await keys()).rotation.state, { timeout: 120_000, interval: 500 }).toBe('done');
    const shown = await rpmgate(server, integToken, ['key', 'show']);
    expect(shown.stdout.split('\n')[0]).toMatch(new RegExp(`^current signing key: ${spaced(added.fingerprint)} \\(ed25519, `));
    expect(shown.stdout).toMatch(new RegExp(`^published\\s+${spaced(original)}\\s`, 'm'));
    expect(shown.stdout).toMatch(/^re-signing: done, (\d+) of \1 package\(s\)$/m);
    expect((await keys()).rotation.total).toBe(fixtures.packages.length);

    // The current key cannot be retired; the previous one can, and is no longer published.
    expectOneLineRefusal(await rpmgate(server, server.adminToken, ['key', 'retire', added.fingerprint]), 1, 'is the current signing key: make another key current first');
    const retired = await rpmgate(server, server.adminToken, ['key', 'retire', original]);
    expect(retired.code, retired.stderr).toBe(0);
    expect(retired.stdout.trimEnd()).toBe(`retired ${spaced(original)}: /keys/rpmgate.asc no longer publishes it`);
    expect(await publishedFingerprints()).toEqual([added.fingerprint, fileFingerprint].map((f) => f.toLowerCase()).sort());
    expect((await keys()).keys.find((k) => k.fingerprint === original)!.status).toBe('retired');
  });

  it('an unknown fingerprint is a 404: exit 1, one line; a non-admin is refused', async () => {
    expectOneLineRefusal(await rpmgate(server, server.adminToken, ['key', 'activate', 'ffffffffffffffffffffffffffffffffffffffff']), 1, 'no signing key');
    expectOneLineRefusal(await rpmgate(server, server.adminToken, ['key', 'retire', 'ffffffffffffffffffffffffffffffffffffffff']), 1, 'no signing key');
    expectOneLineRefusal(await rpmgate(server, integToken, ['key', 'add']), 1, /^rpmgate: /);
  });
});
