// Key management: the first key generated and stored privately, reopened unchanged, a configured key
// file with its passphrase (and clear errors without it), rotation states persisted, the published
// keys in one armored block, deterministic signatures.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterEach, describe, expect, it } from 'vitest';
import { RpmgateError } from '../../../common/errors.ts';
import { Keyring, readSigningAlgorithm, type KeyringOptions } from '../../../server/signing/keyring.ts';

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rpmgate-keyring-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function open(dataDir: string, options: Partial<KeyringOptions> = {}): Promise<Keyring> {
  return Keyring.open({ dataDir, algorithm: 'ed25519', hostname: 'build.example', ...options });
}

async function armoredKey(passphrase?: string): Promise<{ armored: string; fingerprint: string }> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: 'Release Team', email: 'release@example.com' }],
    subkeys: [],
    format: 'object',
  });
  const stored = passphrase ? await openpgp.encryptKey({ privateKey, passphrase }) : privateKey;
  return { armored: stored.armor(), fingerprint: privateKey.getFingerprint() };
}

async function expectError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RpmgateError);
  expect((error as RpmgateError).code).toBe(code);
  expect((error as RpmgateError).message).toMatch(message);
}

describe('readSigningAlgorithm', () => {
  it('defaults to RSA 3072 and accepts the three algorithms', () => {
    expect(readSigningAlgorithm({})).toBe('rsa3072');
    expect(readSigningAlgorithm({ RPMGATE_SIGNING_ALGORITHM: 'ED25519' })).toBe('ed25519');
    expect(readSigningAlgorithm({ RPMGATE_SIGNING_ALGORITHM: 'rsa4096' })).toBe('rsa4096');
  });

  it('refuses anything else with a usage error', () => {
    expect(() => readSigningAlgorithm({ RPMGATE_SIGNING_ALGORITHM: 'dsa1024' })).toThrow(/must be one of rsa3072, rsa4096, ed25519/);
  });
});

describe('first start', () => {
  it('generates an RSA 3072 key by default, stored with 0600 files in a 0700 directory', async () => {
    const dataDir = await tempDir();
    const keyring = await Keyring.open({ dataDir, hostname: 'repo.example' });
    const info = keyring.current().info;
    expect(info).toMatchObject({ algorithm: 'rsa3072', userId: 'rpmgate <rpmgate@repo.example>', status: 'current', source: 'generated' });
    expect(info.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(info.keyId).toBe(info.fingerprint.slice(-16));
    expect(info.shortKeyId).toBe(info.fingerprint.slice(-8));
    const dir = path.join(dataDir, 'keys');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await readdir(dir)).sort()).toEqual([`${info.fingerprint}.key.asc`, `${info.fingerprint}.pub.asc`, 'index.json'].sort());
    for (const file of await readdir(dir)) expect((await stat(path.join(dir, file))).mode & 0o777).toBe(0o600);
    const secret = await openpgp.readPrivateKey({ armoredKey: await readFile(path.join(dir, `${info.fingerprint}.key.asc`), 'utf8') });
    expect(secret.getAlgorithmInfo()).toMatchObject({ algorithm: 'rsaEncryptSign', bits: 3072 });
    expect(secret.subkeys).toHaveLength(0);
  });

  it('generates an ed25519 (EdDSA, the algorithm rpm 4 knows) key when asked', async () => {
    const keyring = await open(await tempDir());
    expect(keyring.current().info.algorithm).toBe('ed25519');
    const key = await openpgp.readKey({ armoredKey: keyring.publicKeysArmored() });
    expect(key.getAlgorithmInfo().algorithm).toBe('eddsaLegacy');
  });

  it('reopens the same key instead of generating another', async () => {
    const dataDir = await tempDir();
    const first = (await open(dataDir)).current().info;
    const again = await open(dataDir, { algorithm: 'rsa4096' });
    expect(again.current().info).toEqual(first);
    expect(again.list()).toHaveLength(1);
  });

  it('protects a generated key with RPMGATE_SIGNING_KEY_PASSPHRASE, and needs it to reopen', async () => {
    const dataDir = await tempDir();
    const info = (await open(dataDir, { passphrase: 'correct horse' })).current().info;
    const stored = await openpgp.readPrivateKey({ armoredKey: await readFile(path.join(dataDir, 'keys', `${info.fingerprint}.key.asc`), 'utf8') });
    expect(stored.isDecrypted()).toBe(false);
    expect((await open(dataDir, { passphrase: 'correct horse' })).current().info.fingerprint).toBe(info.fingerprint);
    await expectError(open(dataDir), 'usage', /protected by a passphrase: set RPMGATE_SIGNING_KEY_PASSPHRASE/);
    await expectError(open(dataDir, { passphrase: 'wrong' }), 'usage', /wrong passphrase/);
  });
});

describe('RPMGATE_SIGNING_KEY_FILE', () => {
  it('loads a passphrase-protected key as the current key without copying its secret', async () => {
    const dataDir = await tempDir();
    const { armored, fingerprint } = await armoredKey('s3cret');
    const keyFile = path.join(dataDir, 'release.asc');
    await writeFile(keyFile, armored);
    const keyring = await open(dataDir, { keyFile, passphrase: 's3cret' });
    expect(keyring.current().info).toMatchObject({ fingerprint, source: 'file', file: keyFile, status: 'current', userId: 'Release Team <release@example.com>' });
    expect(await readdir(path.join(dataDir, 'keys'))).not.toContain(`${fingerprint}.key.asc`);
  });

  it('says clearly when the passphrase is missing or wrong, or the file is not a key', async () => {
    const dataDir = await tempDir();
    const { armored } = await armoredKey('s3cret');
    const keyFile = path.join(dataDir, 'release.asc');
    await writeFile(keyFile, armored);
    await expectError(open(dataDir, { keyFile }), 'usage', /RPMGATE_SIGNING_KEY_FILE .*release\.asc is protected by a passphrase: set RPMGATE_SIGNING_KEY_PASSPHRASE/);
    await expectError(open(dataDir, { keyFile, passphrase: 'guess' }), 'usage', /wrong passphrase/);
    await writeFile(keyFile, (await openpgp.readKey({ armoredKey: armored })).toPublic().armor());
    await expectError(open(dataDir, { keyFile }), 'usage', /not an armored OpenPGP private key/);
    await expectError(open(dataDir, { keyFile: path.join(dataDir, 'missing.asc') }), 'usage', /cannot read RPMGATE_SIGNING_KEY_FILE .*ENOENT/);
  });

  it('takes over from a generated key, which stays published; the key file then decides what is current', async () => {
    const dataDir = await tempDir();
    const generated = (await open(dataDir)).current().info;
    const { armored, fingerprint } = await armoredKey();
    const keyFile = path.join(dataDir, 'release.asc');
    await writeFile(keyFile, armored);
    const keyring = await open(dataDir, { keyFile });
    expect(keyring.current().info.fingerprint).toBe(fingerprint);
    expect(keyring.published().map((key) => [key.fingerprint, key.status])).toEqual([
      [fingerprint, 'current'],
      [generated.fingerprint, 'published'],
    ]);
    await expectError(keyring.makeCurrent(generated.fingerprint), 'conflict', /RPMGATE_SIGNING_KEY_FILE decides/);
    // Without the variable, the file key cannot sign any more: say so rather than sign with another key.
    await expectError(open(dataDir), 'usage', /no longer set/);
  });
});

describe('rotation states', () => {
  it('adds a key as published, makes it current, retires the old one, and remembers it all', async () => {
    const dataDir = await tempDir();
    const keyring = await open(dataDir);
    const old = keyring.current().info;
    const next = await keyring.generateKey({ algorithm: 'ed25519' });
    expect(next.status).toBe('published');
    expect(keyring.current().info.fingerprint).toBe(old.fingerprint);

    await keyring.makeCurrent(next.fingerprint);
    expect(keyring.current().info).toMatchObject({ fingerprint: next.fingerprint, status: 'current' });
    expect(keyring.find(old.shortKeyId).status).toBe('published');
    await expectError(keyring.retire(next.fingerprint), 'conflict', /current signing key/);

    const retired = await keyring.retire(old.fingerprint);
    expect(retired.status).toBe('retired');
    expect(retired.retiredAt).not.toBeNull();
    expect(keyring.published().map((key) => key.fingerprint)).toEqual([next.fingerprint]);

    const reopened = await open(dataDir);
    expect(reopened.current().info.fingerprint).toBe(next.fingerprint);
    expect(reopened.list().map((key) => [key.fingerprint, key.status])).toEqual([
      [next.fingerprint, 'current'],
      [old.fingerprint, 'retired'],
    ]);
    expect((await readdir(path.join(dataDir, 'keys'))).filter((file) => file.includes('.tmp-'))).toEqual([]);
  });

  it('adds an armored key, refusing it twice', async () => {
    const keyring = await open(await tempDir());
    const { armored, fingerprint } = await armoredKey('pw');
    await expectError(keyring.addKey(armored), 'usage', /passphrase/);
    const added = await keyring.addKey(armored, { passphrase: 'pw' });
    expect(added).toMatchObject({ fingerprint, status: 'published', source: 'added' });
    await expectError(keyring.addKey(armored, { passphrase: 'pw' }), 'conflict', /already in the keyring/);
    await expectError(keyring.makeCurrent(fingerprint), 'usage', /protected by a passphrase/);
    await expectError(keyring.makeCurrent('0123456789abcdef'), 'not_found', /no signing key/);
  });

  it('publishes the current key first, then the other published keys, in one armored block', async () => {
    const keyring = await open(await tempDir());
    const old = keyring.current().info;
    const next = await keyring.generateKey();
    await keyring.makeCurrent(next.fingerprint);
    const armored = keyring.publicKeysArmored();
    expect(armored.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----/g)).toHaveLength(1);
    expect(armored).toMatch(/\n=[A-Za-z0-9+/]{4}\n-----END PGP PUBLIC KEY BLOCK-----/);
    const keys = await openpgp.readKeys({ armoredKeys: armored });
    expect(keys.map((key) => key.getFingerprint())).toEqual([next.fingerprint, old.fingerprint]);
    expect(keys.every((key) => !key.isPrivate())).toBe(true);
  });
});

describe('signing', () => {
  it('makes deterministic detached signatures that verify, dated no earlier than the key', async () => {
    const keyring = await open(await tempDir());
    const key = keyring.current();
    expect(key.validFrom.getTime()).toBe(new Date(key.info.createdAt).getTime());
    const data = new TextEncoder().encode('the header blob');
    const date = new Date(key.validFrom.getTime() + 60_000);
    const a = await key.sign(data, date);
    const b = await key.sign(data, date);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const verification = await openpgp.verify({
      message: await openpgp.createMessage({ binary: data }),
      signature: await openpgp.readSignature({ binarySignature: a }),
      verificationKeys: await openpgp.readKey({ armoredKey: keyring.publicKeysArmored() }),
      expectSigned: true,
      date,
    });
    expect(verification.signatures[0]?.keyID.toHex()).toBe(key.info.keyId);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(data.subarray(0, 4));
        controller.enqueue(data.subarray(4));
        controller.close();
      },
    });
    expect(Buffer.from(await key.sign(stream, date)).equals(Buffer.from(a))).toBe(true);
    await expect(key.sign(data, new Date(key.validFrom.getTime() - 86_400_000))).rejects.toThrow();
  });
});
