// `rpmgate upload` and `rpmgate-agent download` of large files show a progress bar with bytes and rate
// when stderr is a terminal (a real pseudo-terminal from util-linux's script(1)), and plain lines
// without one; small transfers show no bar. Real server, real CLIs (the agent as its shipped bundle),
// a real 24 MiB RPM built by rpmbuild, which the warm path (server/http/warm-path.ts) then streams.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIsolatedBundle, type IsolatedBundle } from '../support/agent-bundle.ts';
import { rpmgate } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { buildSmallRpms, buildSpecTexts } from '../support/small-rpms.ts';

const root = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const bigSize = 24 * 1024 * 1024;

let server: TestServer;
let big: string;
let small: string;
let agentBundle: IsolatedBundle;
let dest: string;

beforeAll(async () => {
  let built: string[];
  let smalls: string[];
  [server, built, smalls, agentBundle, dest] = await Promise.all([
    startTestServer(),
    // Random bytes do not compress: the RPM is as large as its file.
    buildSpecTexts([
      `Name: rg-big
Version: 1.0
Release: 1
Summary: a large package (rpmgate test package)
License: MIT
BuildArch: noarch

%description
A large package for rpmgate's upload progress test.

%install
mkdir -p %{buildroot}%{_datadir}/rg-big
head -c ${bigSize} /dev/urandom > %{buildroot}%{_datadir}/rg-big/blob

%files
%{_datadir}/rg-big/blob
`,
    ]),
    buildSmallRpms([{ name: 'rg-small-upload' }]),
    buildIsolatedBundle(),
    mkdtemp(path.join(os.tmpdir(), 'rpmgate-download-progress-')),
  ]);
  big = built[0]!;
  small = smalls[0]!;
  expect((await readFile(big)).length).toBeGreaterThan(bigSize);
});
afterAll(async () => {
  await agentBundle?.cleanup();
  if (dest) await rm(dest, { recursive: true, force: true });
  await server?.close();
});

/** A CLI with stdin, stdout and stderr on a pseudo-terminal: what a person at a terminal sees. */
function onTerminal(args: string[], program = path.join(root, 'bin/rpmgate.js')): Promise<{ code: number; output: string }> {
  const command = [process.execPath, program, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['--quiet', '--return', '--command', command, '/dev/null'],
      { env: { ...process.env, RPMGATE_URL: server.url, RPMGATE_TOKEN: server.adminToken, TERM: 'xterm', COLUMNS: '160' }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 2) : 0, output: stdout }),
    );
  });
}

/** What is left on the screen, roughly: escape sequences dropped, carriage-return overwrites kept last. */
function screenLines(raw: string): string[] {
  // Cursor to column 1 (how the bar redraws itself) overwrites the line, as a carriage return does.
  // eslint-disable-next-line no-control-regex
  const plain = raw.replace(/\x1b\[\d*G/g, '\r').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return plain.split(/\r?\n/).map((line) => line.split('\r').filter((part) => part !== '').at(-1) ?? '');
}

describe('upload progress', () => {
  it('on a terminal, a large upload shows a bar with bytes, total and rate, and the per-file line above it', async () => {
    const { code, output } = await onTerminal(['upload', big]);
    expect(code, output).toBe(0);
    const lines = screenLines(output);
    expect(lines, JSON.stringify(output)).toContain(`[1/1] ${big}: stored as rg-big-1.0-1.noarch`);
    const bar = lines.find((line) => line.startsWith('uploading ['));
    expect(bar, output).toMatch(/^uploading \[=+\] 100% \| 24\.\d MiB of 24\.\d MiB \| [\d.]+ (KiB|MiB|GiB)\/s \| 1\/1 file\(s\) \| ETA /);
    expect(lines).toContain('1 file(s): 1 stored, 0 already present, 0 refused');
  });

  it('on a terminal, a small upload shows no bar', async () => {
    const { code, output } = await onTerminal(['upload', small]);
    expect(code, output).toBe(0);
    expect(output).not.toContain('uploading [');
    expect(screenLines(output)).toContain(`[1/1] ${small}: stored as rg-small-upload-1.0-1.noarch`);
  });

  it('without a terminal, plain lines only: no bar, no escape sequences', async () => {
    const result = await rpmgate(server, server.adminToken, ['upload', big]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('\x1b');
    expect(result.stderr).not.toContain('uploading [');
    expect(result.stderr).toBe(`[1/1] ${big}: already present as rg-big-1.0-1.noarch\n`);
    expect(result.stdout).toBe('1 file(s): 0 stored, 1 already present, 0 refused\n');
  });
});

describe('download progress', () => {
  it('on a terminal, rpmgate-agent download of a large set shows a bar with bytes, total and rate', async () => {
    await server.admin.post('/api/v1/sets', { name: 'big', version: '1.0', packages: ['rg-big-1.0-1.noarch'], noSources: true });
    const token = await server.tokenFor('agent');
    const { code, output } = await onTerminal(['--server', server.url, '--token', token, 'download', '--set', 'big/1.0', '--dest', dest], agentBundle.file);
    expect(code, output).toBe(0);
    const lines = screenLines(output);
    expect(lines, JSON.stringify(output)).toContain('[1/1] rg-big-1.0-1.noarch.rpm: downloaded');
    expect(lines.find((line) => line.startsWith('downloading ['))).toMatch(/^downloading \[=+\] 100% \| 24\.\d MiB of 24\.\d MiB \| [\d.]+ (KiB|MiB|GiB)\/s \| 1\/1 file\(s\) \| ETA /);
  });

  it('without a terminal, plain lines only', async () => {
    const token = await server.tokenFor('agent');
    const result = await agentBundle.run(['--server', server.url, '--token', token, 'download', '--set', 'big/1.0', '--dest', dest]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('[1/1] rg-big-1.0-1.noarch.rpm: present\n');
  });

  it('the warm path streams a large package file byte for byte, and a client leaving mid-answer costs nothing', async () => {
    const url = `${server.url}/repo/set/big/1.0/Packages/rg-big-1.0-1.noarch.rpm`;
    const first = await fetch(url);
    const whole = Buffer.from(await first.arrayBuffer());
    expect(first.headers.get('etag')).toBe(`"${createHash('sha256').update(whole).digest('hex')}"`);
    const before = server.server.fastPath.answered;
    const leaving = new AbortController();
    const partial = await fetch(url, { signal: leaving.signal });
    await partial.body!.getReader().read();
    leaving.abort();
    const again = await fetch(url);
    expect(again.headers.get('content-length')).toBe(String(whole.length));
    expect(Buffer.from(await again.arrayBuffer()).equals(whole)).toBe(true);
    expect(server.server.fastPath.answered).toBe(before + 2);
  });
});
