// The .repo file `configure` installs: header naming the set, replacement of the agent's own earlier
// files only, credentials when the server asks for repository authentication.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decorateRepoFile, findConfiguredRepos, installRepoFile, readRepoMarker, repoIds } from '../../../agent/repo-file.ts';

const serverText = [
  '[rpmgate-set-demo-1.0]',
  'name=rpmgate set demo/1.0',
  'baseurl=http://127.0.0.1:8080/repo/set/demo/1.0/',
  'enabled=1',
  '',
  '[rpmgate-set-demo-1.0-source]',
  'name=rpmgate set demo/1.0 - sources',
  'baseurl=http://127.0.0.1:8080/repo/set/demo/1.0/source/',
  'enabled=0',
  '',
].join('\n');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-repos-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decorateRepoFile', () => {
  it('puts a header naming the set above the server text, which readRepoMarker reads back', () => {
    const { text, hasSecret } = decorateRepoFile(serverText, { name: 'demo', version: '1.0' });
    expect(text.startsWith('# rpmgate-agent: set demo/1.0\n')).toBe(true);
    expect(text.endsWith(serverText)).toBe(true);
    expect(hasSecret).toBe(false);
    expect(readRepoMarker(text)).toBe('demo/1.0');
    expect(readRepoMarker(serverText)).toBeNull();
    expect(repoIds(text)).toEqual(['rpmgate-set-demo-1.0', 'rpmgate-set-demo-1.0-source']);
  });

  it('adds basic-auth credentials to every section only when the server says it needs a token', () => {
    const needsAuth = serverText.replace('enabled=1\n', 'enabled=1\n# this server needs a token: set username=<any> and password=<token>\n');
    const { text, hasSecret } = decorateRepoFile(needsAuth, { name: 'demo', version: '1.0' }, { token: 'tok' });
    expect(hasSecret).toBe(true);
    expect(text.match(/^password=tok$/gm)).toHaveLength(2);
    expect(decorateRepoFile(serverText, { name: 'demo', version: '1.0' }, { token: 'tok' }).text).not.toContain('password=');
  });
});

describe('installRepoFile', () => {
  it("writes rpmgate-<name>.repo and removes the agent's file for another set, leaving other files alone", async () => {
    await writeFile(path.join(dir, 'rpmgate-level-release.repo'), '[rpmgate-level-release]\n');
    await writeFile(path.join(dir, 'os.repo'), '[baseos]\n');
    const first = await installRepoFile(dir, { name: 'demo', version: '1.0' }, decorateRepoFile(serverText, { name: 'demo', version: '1.0' }).text);
    expect(first.replaced).toEqual([]);
    const second = await installRepoFile(dir, { name: 'other', version: '2' }, decorateRepoFile(serverText, { name: 'other', version: '2' }).text);
    expect(second.replaced).toEqual([path.join(dir, 'rpmgate-demo.repo')]);
    expect((await readdir(dir)).sort()).toEqual(['os.repo', 'rpmgate-level-release.repo', 'rpmgate-other.repo']);
    expect((await findConfiguredRepos(dir)).map((r) => r.set)).toEqual(['other/2']);
  });

  it('replaces the same set name atomically and keeps a file with a secret private', async () => {
    await installRepoFile(dir, { name: 'demo', version: '1.0' }, '# rpmgate-agent: set demo/1.0\n[a]\n');
    await installRepoFile(dir, { name: 'demo', version: '1.1' }, '# rpmgate-agent: set demo/1.1\n[a]\n', { secret: true });
    expect(await readdir(dir)).toEqual(['rpmgate-demo.repo']);
    expect(await readFile(path.join(dir, 'rpmgate-demo.repo'), 'utf8')).toContain('demo/1.1');
    expect((await stat(path.join(dir, 'rpmgate-demo.repo'))).mode & 0o777).toBe(0o600);
  });

  it('finds nothing in a missing directory', async () => {
    expect(await findConfiguredRepos(path.join(dir, 'nope'))).toEqual([]);
  });
});
