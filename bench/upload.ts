// `npm run bench:upload [-- --packages 1000]`: N small distinct packages (one rpmbuild run of a spec
// with N subpackages) uploaded by the CLI (`rpmgate upload`, 16 in flight) to a real `rpmgate serve`
// with its embedded PostgreSQL: once with every entry check on (the shipped policy and Debian's
// rpmlint), once with them off (house policies off, RPMGATE_RPMLINT=off). A benchmark, not a test: it
// prints a markdown table with each target and pass or miss.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { exited, freePort, startServeProcess, stopLeftoverPostgres } from '../test/support/serve-process.ts';
import { checksOffPolicy } from '../test/support/policy-rpms.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { packages: { type: 'string', default: '1000' } } });
const count = Number(args.packages);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** One spec, N subpackages rg-bench-0001 … each owning one data file and its documentation. */
function benchSpec(n: number): string {
  const header = `Name: rg-bench
Version: 1.0
Release: 1
Summary: Packages for rpmgate's upload benchmark
License: MIT
URL: https://bench.rpmgate.invalid/
Packager: rpmgate bench <bench@rpmgate.invalid>
BuildArch: noarch

%description
Packages for rpmgate's upload benchmark: each is small, distinct and clean.

%install
`;
  const names = Array.from({ length: n }, (_, i) => `rg-bench-${String(i + 1).padStart(4, '0')}`);
  const install = names.map((name) => `mkdir -p %{buildroot}%{_datadir}/${name} %{buildroot}%{_docdir}/${name}\necho ${name} > %{buildroot}%{_datadir}/${name}/data.txt\necho 'Read me.' > %{buildroot}%{_docdir}/${name}/README\n`).join('');
  const packages = names
    .map((name) => `%package -n ${name}\nSummary: Benchmark package ${name.slice(-4)}\n\n%description -n ${name}\nOne of the small distinct packages of rpmgate's upload benchmark.\n\n%files -n ${name}\n%doc %{_docdir}/${name}/README\n%{_datadir}/${name}\n`)
    .join('\n');
  return `${header}${install}\n${packages}\n%changelog\n* Fri Dec 01 2023 rpmgate bench <bench@rpmgate.invalid> - 1.0-1\n- Benchmark packages.\n`;
}

async function buildPackages(dir: string, n: number): Promise<string[]> {
  const spec = path.join(dir, 'rg-bench.spec');
  await writeFile(spec, benchSpec(n));
  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  await run('rpmbuild', ['-bb', '--nodeps', '--define', `_topdir ${dir}`, '--define', `_tmppath ${path.join(dir, 'tmp')}`, '--define', '_binary_payload w9.gzdio', spec], {
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
  const rpmsDir = path.join(dir, 'RPMS', 'noarch');
  return (await readdir(rpmsDir)).map((file) => path.join(rpmsDir, file));
}

interface Outcome {
  seconds: number;
  rate: number;
  stored: number;
}

async function uploadAll(files: string[], env: Record<string, string>, label: string): Promise<Outcome> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `rpmgate-bench-upload-${label}-`));
  // As root the embedded PostgreSQL runs as nobody, which must enter the data dir (mkdtemp makes it 0700).
  await chmod(dataDir, 0o755);
  const adminToken = `bench-upload-admin-${Date.now()}`;
  const serve = await startServeProcess({ dataDir, port: await freePort(), env: { RPMGATE_ADMIN_TOKEN: adminToken, ...env } });
  try {
    const started = performance.now();
    const result = await run(process.execPath, [path.join(repoRoot, 'bin/rpmgate.js'), '--json', 'upload', ...files], {
      env: { ...process.env, RPMGATE_URL: serve.url, RPMGATE_TOKEN: adminToken },
      maxBuffer: 256 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    const seconds = (performance.now() - started) / 1000;
    const summary = JSON.parse(result.stdout ?? '{}') as { created?: number; refused?: number; files?: { outcome: string; error?: string }[] };
    if (summary.refused) log(`${label}: ${summary.refused} refused, e.g. ${summary.files?.find((f) => f.outcome === 'refused')?.error}`);
    return { seconds, rate: (summary.created ?? 0) / seconds, stored: summary.created ?? 0 };
  } finally {
    serve.child.kill('SIGTERM');
    await exited(serve.child);
    stopLeftoverPostgres(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  }
}

const work = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-bench-upload-'));
try {
  log(`building ${count} packages with one rpmbuild run`);
  const files = await buildPackages(work, count);
  log(`built ${files.length}; uploading with checks off`);
  const off = await uploadAll(files, { RPMGATE_RPMLINT: 'off', RPMGATE_POLICY_FILE: checksOffPolicy }, 'off');
  log(`checks off: ${off.rate.toFixed(1)} packages/s; uploading with checks on`);
  const on = await uploadAll(files, {}, 'on');
  const share = on.rate / off.rate;
  const mark = (ok: boolean) => (ok ? 'met' : '**missed**');
  console.log(`| ${files.length} small packages by \`rpmgate upload\` (${os.availableParallelism()} cores) | stored | time | packages/s | target | |`);
  console.log('|---|---|---|---|---|---|');
  console.log(`| entry checks off | ${off.stored} | ${off.seconds.toFixed(1)} s | ${off.rate.toFixed(1)} | | |`);
  console.log(`| entry checks on (house policies + rpmlint) | ${on.stored} | ${on.seconds.toFixed(1)} s | ${on.rate.toFixed(1)} | ≥ 15/s | ${mark(on.rate >= 15)} |`);
  console.log(`| checks on ÷ off | | | ${(share * 100).toFixed(0)} % | ≥ 50 % | ${mark(share >= 0.5)} |`);
} finally {
  await rm(work, { recursive: true, force: true });
}
