// rpmgate's package and repomd signatures checked by the real tools (Debian's rpm 4.18, gpg, dnf),
// in private temporary roots and homes, without the HTTP server: every corpus package rpm reads is
// signed and must pass `rpmkeys -Kv`; tampering must be caught; a signed fixture installs with rpm's
// signature enforcement on and `rpm -V` finds nothing changed; repomd.xml.asc passes `gpg --verify`;
// dnf installs from a file:// repository with gpgcheck and repo_gpgcheck; the header rpmgate writes
// is byte for byte the one rpmsign writes for the same signature packet.
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRpm, readRpmFile, type ParsedRpm } from '../../common/rpm/reader.ts';
import { readSignatureEntries, resignSignatureHeader } from '../../common/rpm/signature-header.ts';
import { RPMSIGTAG_RESERVED, RPMSIGTAG_RESERVEDSPACE, RPMTAG_PAYLOADDIGEST, RPMTAG_PAYLOADDIGESTALT } from '../../common/rpm/tags.ts';
import { Keyring, type SigningKey } from '../../server/signing/keyring.ts';
import { signRpmFile, type SignedFile } from '../../server/signing/package-signer.ts';
import { signRepomd } from '../../server/signing/repomd-signer.ts';
import { buildFixtures } from '../fixtures/build-fixtures.ts';
import { corpusAvailable, corpusPath } from '../support/corpus.ts';
import { corpusRpms } from '../support/corpus-rpms.ts';
import { createDnfRoot } from '../support/dnf-root.ts';
import { createGpgHome, createRpmRoot, missingRpmTools, runTool, rpmsignAddsign, signatureLines, type RpmRoot } from '../support/rpm-tools.ts';
import { toolsRequired } from '../support/requirements.ts';

const missing = await missingRpmTools();
if (!corpusAvailable) missing.push('../shared/corpus');
if (missing.length > 0) {
  if (toolsRequired) throw new Error(`signing-tools e2e cannot run in CI without: ${missing.join(', ')}`);
  console.warn(`\n*** test/e2e/signing-tools.test.ts SKIPPED: missing ${missing.join(', ')} ***\n`);
}

/** rpm 4.18 refuses this one only for want of ECDSA support: once rpmgate re-signs it, it reads. */
const ecdsaSigned = 'rpm-rs/RPMS/v4/signed/rpm-basic-with-ecdsa-2.3.4-5.el9.noarch.rpm';

/** Corpus packages to sign: everything rpm 4.18 reads that is a signable package (not drpm, not v3, not damaged). */
const signable = corpusRpms().filter(
  (rpm) => (rpm.rpmReads || rpm.path.endsWith(ecdsaSigned)) && !rpm.damaged && rpm.kind !== 'drpm' && !rpm.path.endsWith('.rpm-v3'),
);

let work: string;
let rsa: Keyring;
let ed: Keyring;
let rsaRoot: RpmRoot;
let edRoot: RpmRoot;

async function signCopy(source: string, key: SigningKey, name = path.basename(source)): Promise<{ parsed: ParsedRpm; signed: SignedFile }> {
  const dir = await mkdtemp(path.join(work, 'pkg-'));
  const parsed = await readRpmFile(source);
  const { size } = await stat(source);
  const signed = await signRpmFile({ path: source, sha256: '', size }, parsed, key, { outputPath: path.join(dir, name) });
  return { parsed, signed };
}

function expectSignatureOk(result: { code: number; stdout: string }, label: string, shortKeyId: string): void {
  const lines = signatureLines(result.stdout);
  expect(result.code, result.stdout).toBe(0);
  expect(lines).toContain(`Header V4 ${label} Signature, key ID ${shortKeyId}: OK`);
  expect(result.stdout).not.toMatch(/BAD|NOKEY|NOTTRUSTED|NOTFOUND/);
}

describe.skipIf(missing.length > 0)('signatures checked by rpm 4.18, gpg and dnf', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rpmgate-signing-e2e-'));
    [rsa, ed] = await Promise.all([
      Keyring.open({ dataDir: path.join(work, 'rsa'), algorithm: 'rsa3072', hostname: 'e2e.example' }),
      Keyring.open({ dataDir: path.join(work, 'ed'), algorithm: 'ed25519', hostname: 'e2e.example' }),
    ]);
    [rsaRoot, edRoot] = await Promise.all([createRpmRoot(), createRpmRoot()]);
    for (const [keyring, root, name] of [[rsa, rsaRoot, 'rsa.asc'], [ed, edRoot, 'ed.asc']] as const) {
      const file = path.join(work, name);
      await writeFile(file, keyring.publicKeysArmored());
      const imported = await root.importKey(file);
      expect(imported.code, imported.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    await Promise.all([rsaRoot?.cleanup(), edRoot?.cleanup()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe.concurrent('every corpus package rpm reads, signed with RSA 3072', () => {
    it('has packages to sign', () => {
      expect(signable.length).toBeGreaterThan(200);
    });

    for (const rpm of signable) {
      const name = path.relative(corpusPath(''), rpm.path);
      it(`${name}: rpmkeys -Kv says Header V4 RSA/SHA256 Signature OK`, async () => {
        const { parsed, signed } = await signCopy(rpm.path, rsa.current());
        const result = await rsaRoot.checkSignature(signed.path);
        expectSignatureOk(result, 'RSA/SHA256', rsa.current().info.shortKeyId);
        const main = parsed.mainHeader.header;
        if (parsed.format === 'v4' && !main.has(RPMTAG_PAYLOADDIGEST) && !main.has(RPMTAG_PAYLOADDIGESTALT)) {
          // No payload digest: like rpmsign, a header+payload signature covers the payload too.
          expect(signatureLines(result.stdout)).toContain(`V4 RSA/SHA256 Signature, key ID ${rsa.current().info.shortKeyId}: OK`);
        }

        const reread = await readRpmFile(signed.path);
        expect(reread.package.headerRange).toEqual(signed.headerRange);
        expect(Buffer.from(reread.mainHeader.bytes).equals(Buffer.from(parsed.mainHeader.bytes))).toBe(true);
        expect(reread.signatures.map((s) => s.name).sort()).toEqual(
          [
            'RSAHEADER',
            ...(parsed.format === 'v6' ? ['OPENPGP'] : []),
            ...(signatureLines(result.stdout).some((l) => l.startsWith('V4 RSA')) ? ['PGP'] : []),
          ].sort(),
        );
        const reserveTag = parsed.format === 'v6' ? RPMSIGTAG_RESERVED : RPMSIGTAG_RESERVEDSPACE;
        const reserve = parsed.signatureHeader.header.entry(reserveTag)?.count ?? 0;
        // rpmbuild reserves 4 KiB: plenty for the signatures replaced, so the file keeps its size.
        if (reserve >= 2048) expect(signed.size).toBe((await stat(rpm.path)).size);
      });
    }
  });

  it('every corpus package signed with ed25519 passes rpmkeys -Kv (Header V4 EdDSA/SHA512)', async () => {
    const failures: string[] = [];
    const queue = [...signable];
    const worker = async (): Promise<void> => {
      for (let rpm = queue.shift(); rpm; rpm = queue.shift()) {
        const { signed } = await signCopy(rpm.path, ed.current());
        const result = await edRoot.checkSignature(signed.path);
        const expected = `Header V4 EdDSA/SHA512 Signature, key ID ${ed.current().info.shortKeyId}: OK`;
        const ok = result.code === 0 && signatureLines(result.stdout).includes(expected) && !/BAD|NOKEY/.test(result.stdout);
        if (!ok) failures.push(`${rpm.path}: ${result.stdout}${result.stderr}`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(failures).toEqual([]);
  });

  it('a package signed by rpmgate is refused with a key rpm does not have (NOKEY)', async () => {
    const { signed } = await signCopy(corpusPath('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm'), ed.current());
    const result = await rsaRoot.checkSignature(signed.path);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/NOKEY/);
  });

  describe('tampering', () => {
    for (const source of ['createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm', 'rpm-rs/RPMS/v6/rpm-basic-2.3.4-5.el9.noarch.rpm']) {
      it(`${source}: a flipped byte in the main header is refused`, async () => {
        const { signed } = await signCopy(corpusPath(source), rsa.current());
        const bytes = await readFile(signed.path);
        // A byte of the data store, in the middle of the header (not its intro).
        const at = Math.floor((signed.headerRange.start + 16 + signed.headerRange.end) / 2);
        bytes[at] = bytes[at]! ^ 0x01;
        const tampered = `${signed.path}.tampered.rpm`;
        await writeFile(tampered, bytes);
        const result = await rsaRoot.checkSignature(tampered);
        expect(result.code).not.toBe(0);
        expect(result.stdout).toMatch(/Header V4 RSA\/SHA256 Signature, key ID [0-9a-f]{8}: BAD/);
      });
    }

    it('a flipped byte in the signature itself is refused', async () => {
      const { signed } = await signCopy(corpusPath('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm'), rsa.current());
      const bytes = await readFile(signed.path);
      const packet = parseRpm(bytes).signatures.find((s) => s.name === 'RSAHEADER')!.packet;
      const at = bytes.indexOf(Buffer.from(packet)) + packet.length - 3;
      bytes[at] = bytes[at]! ^ 0x80;
      const tampered = `${signed.path}.tampered.rpm`;
      await writeFile(tampered, bytes);
      const result = await rsaRoot.checkSignature(tampered);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/Signature, key ID [0-9a-f]{8}: BAD/);
    });

    it('a flipped payload byte of a package without payload digest breaks the header+payload signature', async () => {
      const { signed } = await signCopy(corpusPath('createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm'), rsa.current());
      const bytes = await readFile(signed.path);
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0x01;
      const tampered = `${signed.path}.tampered.rpm`;
      await writeFile(tampered, bytes);
      const result = await rsaRoot.checkSignature(tampered);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/\n\s*V4 RSA\/SHA256 Signature, key ID [0-9a-f]{8}: BAD/);
    });
  });

  describe('the same bytes as rpmsign', () => {
    // rpmsign (gpg, ed25519 key) signs a copy; rpmgate's header writer, given rpmsign's own signature
    // packets, must produce the identical file.
    const cases = [
      'createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm',
      'createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm',
      'createrepo_c/packages/empty-signed-eddsa-0-0.x86_64.rpm',
      'createrepo_c/packages/empty-signed-rsa-0-0.x86_64.rpm',
      'pulp-fixtures/rpm/assets/bear-4.1-1.noarch.rpm',
      'rpm/SRPMS/hello-1.0-1.src.rpm',
    ];
    // Where the signature removed was larger than the new one, rpm 4.18 leaves the reserved space
    // as it was and the file shrinks; rpmgate grows the reserved space back (rpm >= 4.20's rule) so
    // the file keeps its size. Everything else is the same.
    const shrinkCases = ['rpm/RPMS/hello-2.0-1.x86_64-signed.rpm', 'rpm/RPMS/hello-2.0-1.x86_64-signed-with-subkey.rpm'];
    let gpg: Awaited<ReturnType<typeof createGpgHome>>;

    beforeAll(async () => {
      gpg = await createGpgHome();
      const made = await gpg.gpg(['--passphrase', '', '--quick-gen-key', 'rpmsign-ref <ref@e2e.example>', 'ed25519', 'sign', 'never']);
      expect(made.code, made.stderr).toBe(0);
    });

    afterAll(async () => {
      await gpg?.cleanup();
    });

    async function bothWays(source: string): Promise<{ input: Buffer; reference: Buffer; ours: Buffer }> {
      const original = corpusPath(source);
      const copy = path.join(await mkdtemp(path.join(work, 'rpmsign-')), path.basename(source));
      await copyFile(original, copy);
      const signedByRpm = await rpmsignAddsign(gpg, 'ref@e2e.example', copy, rsaRoot);
      expect(signedByRpm.code, signedByRpm.stderr).toBe(0);
      const reference = await readFile(copy);
      const parsedReference = parseRpm(reference);
      const headerSignature = parsedReference.signatures.find((s) => s.range === 'header')!.packet;
      const headerPayloadSignature = parsedReference.signatures.find((s) => s.range === 'header+payload')?.packet;
      const input = await readFile(original);
      const parsed = parseRpm(input);
      const header = resignSignatureHeader(parsed.signatureHeader.header, { headerSignature, headerPayloadSignature, format: 'v4' });
      const ours = Buffer.concat([input.subarray(0, 96), header.bytes, Buffer.alloc(header.paddedSize - header.bytes.length), input.subarray(parsed.mainHeader.offset)]);
      return { input, reference, ours };
    }

    for (const source of cases) {
      it(`${source}: identical bytes`, async () => {
        const { reference, ours } = await bothWays(source);
        expect(ours.length).toBe(reference.length);
        expect(ours.equals(reference)).toBe(true);
      });
    }

    for (const source of shrinkCases) {
      it(`${source}: same entries, but the file keeps its size where rpm 4.18 shrinks it`, async () => {
        const { input, reference, ours } = await bothWays(source);
        expect(reference.length).toBeLessThan(input.length);
        expect(ours.length).toBe(input.length);
        const entries = (bytes: Buffer) =>
          readSignatureEntries(parseRpm(bytes).signatureHeader.header)
            .filter((entry) => entry.tag !== RPMSIGTAG_RESERVEDSPACE)
            .map((entry) => [entry.tag, entry.type, entry.count, Buffer.from(entry.data).toString('hex')]);
        expect(entries(ours)).toEqual(entries(reference));
        expect(ours.subarray(parseRpm(ours).mainHeader.offset).equals(reference.subarray(parseRpm(reference).mainHeader.offset))).toBe(true);
      });
    }
  });

  describe('installing with rpm', () => {
    it('a signed fixture installs with %_pkgverify_level signature and rpm -V reports nothing', async () => {
      const fixtures = await buildFixtures();
      const hello = fixtures.byName('rg-hello-1.0-1.noarch');
      const { signed } = await signCopy(hello.path, rsa.current(), 'rg-hello-1.0-1.noarch.rpm');
      const root = await createRpmRoot();
      try {
        const keyFile = path.join(work, 'install-key.asc');
        await writeFile(keyFile, rsa.publicKeysArmored());
        expect((await root.importKey(keyFile)).code).toBe(0);
        const enforce = ['--define', '_pkgverify_level signature', '--nodeps'];
        // The unsigned original is refused at this level: the check below means something.
        const unsigned = await root.install(hello.path, enforce);
        expect(unsigned.code).not.toBe(0);
        expect(unsigned.stderr).toMatch(/not signed|signature/i);

        const bytes = await readFile(signed.path);
        const at = Math.floor((signed.headerRange.start + 16 + signed.headerRange.end) / 2);
        bytes[at] = bytes[at]! ^ 0x01;
        const tampered = path.join(work, 'rg-hello-tampered.rpm');
        await writeFile(tampered, bytes);
        expect((await root.install(tampered, enforce)).code).not.toBe(0);

        const installed = await root.install(signed.path, enforce);
        expect(installed.code, installed.stderr).toBe(0);
        const verify = await root.rpm(['-V', 'rg-hello']);
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
        expect(verify.stdout).toBe('');
        const query = await root.rpm(['-q', '--qf', '%{RSAHEADER:pgpsig}\n', 'rg-hello']);
        expect(query.stdout).toContain(`Key ID ${rsa.current().info.keyId}`);
        expect(query.stdout).toMatch(/^RSA\/SHA256, /);
      } finally {
        await root.cleanup();
      }
    });
  });

  describe('repomd.xml.asc', () => {
    for (const which of ['rsa', 'ed25519'] as const) {
      it(`gpg --verify accepts the ${which} signature and refuses a changed repomd.xml`, async () => {
        const keyring = which === 'rsa' ? rsa : ed;
        const dir = await mkdtemp(path.join(work, 'repomd-'));
        const xml = await readFile(corpusPath('createrepo_c/repo_02/repodata/repomd.xml'));
        await writeFile(path.join(dir, 'repomd.xml'), xml);
        await writeFile(path.join(dir, 'repomd.xml.asc'), await signRepomd(keyring.current(), xml));
        const gpg = await createGpgHome();
        try {
          expect((await gpg.importKeys(keyring.publicKeysArmored())).code).toBe(0);
          const good = await gpg.verifyDetached(path.join(dir, 'repomd.xml.asc'), path.join(dir, 'repomd.xml'));
          expect(good.code, good.stderr).toBe(0);
          expect(good.stdout).toContain(`VALIDSIG ${keyring.current().info.fingerprint.toUpperCase()}`);
          await writeFile(path.join(dir, 'repomd.xml'), Buffer.concat([xml, Buffer.from(' ')]));
          const bad = await gpg.verifyDetached(path.join(dir, 'repomd.xml.asc'), path.join(dir, 'repomd.xml'));
          expect(bad.code).not.toBe(0);
          expect(bad.stdout).toContain('BADSIG');
        } finally {
          await gpg.cleanup();
        }
      });
    }
  });

  describe('dnf with gpgcheck and repo_gpgcheck', () => {
    it('installs a signed package from a signed repository, importing every published key from one file', async () => {
      const keyring = await Keyring.open({ dataDir: path.join(work, 'dnf-keys'), algorithm: 'ed25519', hostname: 'e2e.example' });
      const old = keyring.current().info;
      const next = await keyring.generateKey({ algorithm: 'rsa3072' });
      await keyring.makeCurrent(next.fingerprint);
      const fixtures = await buildFixtures();
      const repo = await mkdtemp(path.join(work, 'dnf-repo-'));
      await signCopy(fixtures.byName('rg-hello-1.0-1.noarch').path, keyring.current(), 'rg-hello-1.0-1.noarch.rpm').then(({ signed }) =>
        copyFile(signed.path, path.join(repo, 'rg-hello-1.0-1.noarch.rpm')),
      );
      const createrepo = await runTool('createrepo_c', ['--quiet', '--no-database', repo]);
      expect(createrepo.code, createrepo.stderr).toBe(0);
      const repomd = path.join(repo, 'repodata/repomd.xml');
      await writeFile(`${repomd}.asc`, await signRepomd(keyring.current(), await readFile(repomd)));
      const keysFile = path.join(work, 'dnf-keys.asc');
      await writeFile(keysFile, keyring.publicKeysArmored());

      const signedRepo = { repoUrl: `file://${repo}`, setopts: ['*.gpgcheck=1', '*.repo_gpgcheck=1', `*.gpgkey=file://${keysFile}`] };
      const root = await createDnfRoot();
      try {
        await root.dnf(['install', 'rg-hello'], signedRepo);
        expect(await root.installed()).toEqual(['rg-hello-1.0-1.noarch']);
        const keys = await root.rpm(['-q', 'gpg-pubkey', '--qf', '%{VERSION}\n']);
        expect(keys.trim().split('\n').sort()).toEqual([old.shortKeyId, next.shortKeyId].sort());
      } finally {
        await root.cleanup();
      }

      // The same repository with repomd.xml changed after signing: dnf must refuse it.
      await writeFile(repomd, `${await readFile(repomd, 'utf8')}\n`);
      const refused = await createDnfRoot();
      try {
        await expect(refused.dnf(['install', 'rg-hello'], signedRepo)).rejects.toThrow(/repomd\.xml GPG signature verification error/);
      } finally {
        await refused.cleanup();
      }
    });
  });

  describe('key rotation as the tools see it', () => {
    it('rpmkeys imports every published key; packages signed by the old and the new key verify; a retired key is no longer published', async () => {
      const keyring = await Keyring.open({ dataDir: path.join(work, 'rotation'), algorithm: 'ed25519', hostname: 'e2e.example' });
      const old = keyring.current();
      const next = await keyring.generateKey({ algorithm: 'rsa3072' });
      await keyring.makeCurrent(next.fingerprint);
      const archer = corpusPath('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm');
      const byOld = await signCopy(archer, old);
      const byNew = await signCopy(archer, keyring.current());

      const both = await createRpmRoot();
      const after = await createRpmRoot();
      try {
        const keysFile = path.join(work, 'rotation-both.asc');
        await writeFile(keysFile, keyring.publicKeysArmored());
        expect((await both.importKey(keysFile)).code).toBe(0);
        const keys = await both.rpm(['-q', 'gpg-pubkey', '--qf', '%{VERSION}\n']);
        expect(keys.stdout.trim().split('\n').sort()).toEqual([old.info.shortKeyId, next.shortKeyId].sort());
        expectSignatureOk(await both.checkSignature(byOld.signed.path), 'EdDSA/SHA512', old.info.shortKeyId);
        expectSignatureOk(await both.checkSignature(byNew.signed.path), 'RSA/SHA256', next.shortKeyId);

        await keyring.retire(old.info.fingerprint);
        const newOnly = path.join(work, 'rotation-new.asc');
        await writeFile(newOnly, keyring.publicKeysArmored());
        expect((await after.importKey(newOnly)).code).toBe(0);
        expectSignatureOk(await after.checkSignature(byNew.signed.path), 'RSA/SHA256', next.shortKeyId);
        const stale = await after.checkSignature(byOld.signed.path);
        expect(stale.code).not.toBe(0);
        expect(stale.stdout).toMatch(/NOKEY/);
      } finally {
        await Promise.all([both.cleanup(), after.cleanup()]);
      }
    });
  });
});
