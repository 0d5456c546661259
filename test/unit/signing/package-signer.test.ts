// The package signer: a signed copy written next to the upload with its sha256, size and new
// header-range; a signature over exactly the main header blob (and header + payload when rpm would
// add one); the same bytes for the same input; the payload streamed through in chunks. rpm's own
// verdict on these files is in test/e2e/signing-tools.test.ts.
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpmgateError } from '../../../common/errors.ts';
import { parseRpm, readRpmFile } from '../../../common/rpm/reader.ts';
import { Keyring, type SigningKey } from '../../../server/signing/keyring.ts';
import { createPackageSigner, signatureDate, signRpmFile } from '../../../server/signing/package-signer.ts';
import type { WrittenFile } from '../../../server/store/store.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

if (!corpusAvailable) console.warn('\n*** test/unit/signing/package-signer.test.ts SKIPPED (../shared/corpus not found) ***\n');

let work: string;
let keyring: Keyring;

async function upload(relative: string): Promise<WrittenFile> {
  const dir = await mkdtemp(path.join(work, 'upload-'));
  const file = path.join(dir, 'upload.rpm');
  await copyFile(corpusPath(relative), file);
  const bytes = await readFile(file);
  return { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

async function verifyDetached(signature: Uint8Array, data: Uint8Array, date: Date): Promise<string> {
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: data }),
    signature: await openpgp.readSignature({ binarySignature: signature }),
    verificationKeys: await openpgp.readKeys({ armoredKeys: keyring.publicKeysArmored() }),
    expectSigned: true,
    date,
  });
  return result.signatures[0]!.keyID.toHex();
}

describe.skipIf(!corpusAvailable)('createPackageSigner', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rpmgate-package-signer-'));
    keyring = await Keyring.open({ dataDir: path.join(work, 'data'), algorithm: 'ed25519', hostname: 'unit.example' });
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes a signed copy next to the upload, with its digest, size and header-range', async () => {
    const written = await upload('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm');
    const parsed = await readRpmFile(written.path);
    const served = await createPackageSigner(keyring).prepareServedFile(written, parsed);
    expect(path.dirname(served.path)).toBe(path.dirname(written.path));
    expect(served.path).not.toBe(written.path);
    const bytes = await readFile(served.path);
    expect(served.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(served.size).toBe(bytes.length);
    expect(served.size).toBe(written.size);
    expect(served.signedBy).toBe(keyring.current().info.fingerprint);
    const reread = parseRpm(bytes, { verifyPayload: true });
    expect(reread.package.headerRange).toEqual(served.headerRange);
    expect(Buffer.from(reread.mainHeader.bytes).equals(Buffer.from(parsed.mainHeader.bytes))).toBe(true);
    expect(bytes.subarray(reread.mainHeader.offset).equals((await readFile(written.path)).subarray(parsed.mainHeader.offset))).toBe(true);
    expect(reread.signatures.map((s) => s.name)).toEqual(['DSAHEADER']);
    expect(await verifyDetached(reread.signatures[0]!.packet, parsed.mainHeader.bytes, new Date())).toBe(keyring.current().info.keyId);
  });

  it('moves the header-range when the signature header grows (no reserved space)', async () => {
    const written = await upload('createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm');
    const parsed = await readRpmFile(written.path);
    const served = await createPackageSigner(keyring).prepareServedFile(written, parsed);
    expect(served.size).toBeGreaterThan(written.size);
    expect(served.headerRange.start).toBeGreaterThan(parsed.package.headerRange.start);
    expect(served.headerRange.end - served.headerRange.start).toBe(parsed.package.headerRange.end - parsed.package.headerRange.start);
    expect((await readRpmFile(served.path)).package.headerRange).toEqual(served.headerRange);
  });

  it('adds a header+payload signature when the package has no payload digest, as rpmsign does', async () => {
    const written = await upload('createrepo_c/packages/Rimmer-1.0.2-2.x86_64.rpm');
    const parsed = await readRpmFile(written.path);
    const served = await createPackageSigner(keyring).prepareServedFile(written, parsed);
    const bytes = await readFile(served.path);
    const reread = parseRpm(bytes);
    const payloadSignature = reread.signatures.find((s) => s.name === 'GPG')!;
    expect(await verifyDetached(payloadSignature.packet, bytes.subarray(reread.mainHeader.offset), new Date())).toBe(keyring.current().info.keyId);
  });

  it('gives the same bytes for the same upload, also when uploads run concurrently', async () => {
    const written = await upload('rpm/RPMS/hello-2.0-1.x86_64-signed.rpm');
    const parsed = await readRpmFile(written.path);
    const signer = createPackageSigner(keyring);
    const results = await Promise.all(Array.from({ length: 6 }, () => signer.prepareServedFile(written, parsed)));
    expect(new Set(results.map((result) => result.sha256)).size).toBe(1);
    expect(new Set(results.map((result) => result.path)).size).toBe(6);
  });

  it('returns an upload that already carries its signature as it is', async () => {
    const written = await upload('rpm-rs/RPMS/v6/rpm-basic-2.3.4-5.el9.noarch.rpm');
    const signer = createPackageSigner(keyring);
    const served = await signer.prepareServedFile(written, await readRpmFile(written.path));
    const again = await signer.prepareServedFile(served, await readRpmFile(served.path));
    expect(again.path).toBe(served.path);
    expect(again.sha256).toBe(served.sha256);
    expect(again.headerRange).toEqual(served.headerRange);
  });

  it('refuses v3 packages and delta RPMs', async () => {
    const signer = createPackageSigner(keyring);
    const v3 = await upload('rpm/RPMS/hello-1.0-1.x86_64.rpm-v3');
    await expect(signer.prepareServedFile(v3, await readRpmFile(v3.path))).rejects.toMatchObject({ code: 'unprocessable', message: /v3/ });
    const drpm = await upload('libdnf/hawkey/yum/drpms/tour-4-5_4-6.noarch.drpm');
    const parsed = parseRpm(await readFile(drpm.path));
    await expect(signer.prepareServedFile(drpm, parsed)).rejects.toBeInstanceOf(RpmgateError);
    expect((await readdir(path.dirname(v3.path))).length).toBe(1);
  });

  it('streams a payload of several chunks and leaves nothing behind on failure', async () => {
    const written = await upload('createrepo_c/packages/Archer-3.4.5-6.x86_64.rpm');
    const original = await readFile(written.path);
    // Nine MiB of extra bytes after the payload: not a valid package any more, but the signer
    // trusts the parse it is given and must copy every byte through its 1 MiB chunks.
    const tail = Buffer.alloc(9 * 1024 * 1024 + 123, 7);
    await writeFile(written.path, Buffer.concat([original, tail]));
    const parsed = parseRpm(original, { packageSize: original.length + tail.length });
    const served = await signRpmFile({ ...written, size: original.length + tail.length }, parsed, keyring.current());
    const bytes = await readFile(served.path);
    expect(bytes.length).toBe(original.length + tail.length);
    expect(served.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.subarray(bytes.length - tail.length).equals(tail)).toBe(true);

    const target = path.join(path.dirname(written.path), 'exists.rpm');
    await writeFile(target, 'taken');
    await expect(signRpmFile(written, parsed, keyring.current(), { outputPath: target })).rejects.toThrow(/EEXIST/);
  });
});

describe('signatureDate', () => {
  const key = { validFrom: new Date('2025-01-01T00:00:00Z') } as SigningKey;
  const now = new Date('2025-06-01T00:00:00Z');

  it('is the build time when the key existed then', () => {
    expect(signatureDate(Date.parse('2025-03-01T12:00:00Z') / 1000, key, now)).toEqual(new Date('2025-03-01T12:00:00Z'));
  });

  it('is the first instant the key could sign for older (or future) builds', () => {
    expect(signatureDate(Date.parse('2008-01-01T00:00:00Z') / 1000, key, now)).toEqual(key.validFrom);
    expect(signatureDate(Date.parse('2030-01-01T00:00:00Z') / 1000, key, now)).toEqual(key.validFrom);
    expect(signatureDate(0, key, now)).toEqual(key.validFrom);
  });
});
