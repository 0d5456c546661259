// The test stand-in for the distribution's nodejs (test/fixtures/stand-ins/nodejs.spec): a package that
// provides nodejs = 1:<version> and a /usr/bin/node linking to the Node.js running the tests, built
// with the real rpmbuild. Throwaway installroots have no distribution repository from which the real
// nodejs could come; this is the one thing in the agent's tests that is not the real part, and it
// stands for exactly what rpmgate-agent requires of it.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const specFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/stand-ins/nodejs.spec');

export interface NodejsStandIn {
  /** The .rpm file. */
  file: string;
  version: string;
}

/** Builds the stand-in into `outDir`: nodejs-1:<version> (default: this node's version). */
export async function buildNodejsStandIn(outDir: string, version: string = process.versions.node): Promise<NodejsStandIn> {
  const topdir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-nodejs-stand-in-'));
  const home = path.join(topdir, 'home');
  await mkdir(home);
  await writeFile(path.join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
  await run(
    'rpmbuild',
    ['-bb', '--nodeps', '--define', `_topdir ${topdir}`, '--define', `stand_in_version ${version}`, '--define', `stand_in_node ${process.execPath}`, specFile],
    { env: { ...process.env, HOME: home, LC_ALL: 'C' } },
  );
  const built = path.join(topdir, 'RPMS', 'noarch');
  const [name] = await readdir(built);
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, name!);
  await copyFile(path.join(built, name!), file);
  await rm(topdir, { recursive: true, force: true });
  return { file, version };
}
