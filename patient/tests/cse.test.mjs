// Client-side encryption v2 (patient/js/lib/cse.js) on Node's built-in test runner.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';

import {
  CseError,
  decryptBlobV2,
  encryptBlobV2,
  encryptedLength,
  encryptRegionsV2,
  importWrappingKey,
  parseEncryptionData,
  pythonJsonDumps,
  regionNonce,
  REGION_DATA_LENGTH,
} from '../js/lib/cse.js';

const MiB4 = REGION_DATA_LENGTH;
const subtle = globalThis.crypto.subtle;
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fixedKey = () => Uint8Array.from({ length: 32 }, (_, i) => i);
const pattern = (length) => Uint8Array.from({ length }, (_, i) => i % 251);

let kek; // {kid, jwk} as the API hands it out
let privateKey;
const unwrapWith = (key) => async (wrapped) => new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, key, wrapped));

before(async () => {
  const pair = await subtle.generateKey(
    { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['encrypt', 'decrypt'],
  );
  const { n, e } = await subtle.exportKey('jwk', pair.publicKey);
  const kid = 'local:kek/0123456789abcdef';
  kek = { kid, jwk: { kty: 'RSA', n, e, kid, alg: 'RSA-OAEP-256', use: 'enc', key_ops: ['wrapKey'] } };
  privateKey = pair.privateKey;
});

describe('known answers (azure-storage-blob GCMBlobEncryptionStream, key 00..1f)', () => {
  test('an empty plaintext is an empty body', async () => {
    assert.equal((await encryptRegionsV2(new Uint8Array(0), fixedKey())).length, 0);
  });

  test('one byte', async () => {
    const body = await encryptRegionsV2(new TextEncoder().encode('A'), fixedKey());
    assert.equal(hex(body), '0000000000000000000000004fe2de768ae0d698df975a2e8542f275f8');
  });

  test('a short text', async () => {
    const body = await encryptRegionsV2(new TextEncoder().encode('SkinVault region test'), fixedKey());
    assert.equal(hex(body), '0000000000000000000000005dd7dcb0e34df6d17c88db507f45fef7f23733205cd1725fafbfecfc78827011b7b9780b4c');
  });

  test('two regions (4 MiB + 5 bytes) match byte for byte', async () => {
    const body = await encryptRegionsV2(pattern(MiB4 + 5), fixedKey());
    assert.equal(body.length, 4194365);
    assert.equal(createHash('sha256').update(body).digest('hex'), '1df452d6c4d78f30ef39da3b7eaa4c6fcdb68adfc3f72322e703139af8addf3d');
  });

  test('region nonces are big-endian counters', () => {
    assert.equal(hex(regionNonce(0)), '000000000000000000000000');
    assert.equal(hex(regionNonce(1)), '000000000000000000000001');
    assert.equal(hex(regionNonce(258)), '000000000000000000000102');
  });
});

describe('sizes at region boundaries', () => {
  for (const size of [0, 1, MiB4 - 1, MiB4, MiB4 + 1]) {
    test(`${size} bytes round-trip and have the v2 length`, async () => {
      const plain = pattern(size);
      const { body, metadata } = await encryptBlobV2(plain, kek);
      assert.equal(body.length, encryptedLength(size));
      assert.equal(body.length, size + Math.ceil(size / MiB4) * 28);
      const back = await decryptBlobV2(body, metadata.encryptiondata, unwrapWith(privateKey));
      assert.deepEqual(back, plain);
    });
  }
});

describe('encryptiondata metadata', () => {
  test('has the Python SDK layout, key order and spacing', async () => {
    const { metadata } = await encryptBlobV2(pattern(10), kek);
    const text = metadata.encryptiondata;
    const data = JSON.parse(text);
    assert.deepEqual(Object.keys(data), ['WrappedContentKey', 'EncryptionAgent', 'EncryptedRegionInfo', 'KeyWrappingMetadata', 'EncryptionMode']);
    assert.deepEqual(Object.keys(data.WrappedContentKey), ['KeyId', 'EncryptedKey', 'Algorithm']);
    assert.equal(data.WrappedContentKey.KeyId, kek.kid);
    assert.equal(data.WrappedContentKey.Algorithm, 'RSA-OAEP-256');
    assert.deepEqual(data.EncryptionAgent, { Protocol: '2.0', EncryptionAlgorithm: 'AES_GCM_256' });
    assert.deepEqual(data.EncryptedRegionInfo, { DataLength: 4194304, NonceLength: 12 });
    assert.equal(data.EncryptionMode, 'FullBlob');
    assert.ok(text.startsWith('{"WrappedContentKey": {"KeyId": "local:kek/0123456789abcdef", "EncryptedKey": "'));
    assert.equal(text, pythonJsonDumps(data));
  });

  test('the wrapped key is RSA-OAEP-256 of "2.0" padded to 8 bytes + a 32-byte key', async () => {
    const { metadata } = await encryptBlobV2(pattern(10), kek);
    const wrapped = Buffer.from(JSON.parse(metadata.encryptiondata).WrappedContentKey.EncryptedKey, 'base64');
    assert.equal(wrapped.length, 256);
    const raw = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, privateKey, wrapped));
    assert.equal(raw.length, 40);
    assert.equal(hex(raw.subarray(0, 8)), '322e300000000000');
  });

  test('every blob gets its own content key', async () => {
    const a = await encryptBlobV2(pattern(100), kek);
    const b = await encryptBlobV2(pattern(100), kek);
    assert.notEqual(hex(a.body), hex(b.body));
  });

  test('pythonJsonDumps escapes non-ASCII as Python does', () => {
    assert.equal(pythonJsonDumps({ a: 'é', b: [1, null, true] }), '{"a": "\\u00e9", "b": [1, null, true]}');
  });
});

describe('tampering is refused', () => {
  const twoRegions = async () => encryptBlobV2(pattern(2 * MiB4 + 100), kek);

  test('one flipped bit', async () => {
    const { body, metadata } = await twoRegions();
    body[MiB4 + 50] ^= 0x01;
    await assert.rejects(decryptBlobV2(body, metadata.encryptiondata, unwrapWith(privateKey)), (e) => e instanceof CseError && e.code === 'integrity');
  });

  test('two regions swapped', async () => {
    const { body, metadata } = await twoRegions();
    const size = MiB4 + 28;
    const swapped = new Uint8Array(body.length);
    swapped.set(body.subarray(size, 2 * size), 0);
    swapped.set(body.subarray(0, size), size);
    swapped.set(body.subarray(2 * size), 2 * size);
    await assert.rejects(decryptBlobV2(swapped, metadata.encryptiondata, unwrapWith(privateKey)), (e) => e.code === 'integrity');
  });

  test('a truncated last region', async () => {
    const { body, metadata } = await twoRegions();
    await assert.rejects(decryptBlobV2(body.subarray(0, body.length - 1), metadata.encryptiondata, unwrapWith(privateKey)), (e) => e.code === 'integrity');
  });

  test('the last region dropped', async () => {
    const { body, metadata } = await twoRegions();
    const cut = body.subarray(0, 2 * (MiB4 + 28));
    // Still authentic regions 0 and 1, but the plaintext is short: GCM cannot tell; the length
    // of the plaintext is the caller's to check (the server compares with the upload's size).
    const back = await decryptBlobV2(cut, metadata.encryptiondata, unwrapWith(privateKey));
    assert.equal(back.length, 2 * MiB4);
  });

  test('a content key wrapped under a foreign key', async () => {
    const other = await subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
    const { body, metadata } = await encryptBlobV2(pattern(10), kek);
    await assert.rejects(decryptBlobV2(body, metadata.encryptiondata, unwrapWith(other.privateKey)), (e) => e.code === 'bad-key');
  });
});

describe('the API\'s encryption object', () => {
  test('is accepted as it is', async () => {
    const { body, metadata } = await encryptBlobV2(pattern(10), { protocol: '2.0', alg: 'RSA-OAEP-256', ...kek });
    assert.deepEqual(await decryptBlobV2(body, metadata.encryptiondata, unwrapWith(privateKey)), pattern(10));
  });

  test('another protocol or wrapping algorithm is refused', async () => {
    await assert.rejects(encryptBlobV2(pattern(1), { ...kek, protocol: '2.1' }), (e) => e.code === 'unsupported-encryption');
    await assert.rejects(encryptBlobV2(pattern(1), { ...kek, alg: 'RSA1_5' }), (e) => e.code === 'unsupported-encryption');
  });

  test('regions encrypted one at a time or several at once are the same bytes', async () => {
    const plain = pattern(3 * MiB4 + 9);
    const one = await encryptRegionsV2(plain, fixedKey(), { concurrency: 1 });
    const many = await encryptRegionsV2(plain, fixedKey(), { concurrency: 8 });
    assert.equal(hex(one.subarray(0, 64)), hex(many.subarray(0, 64)));
    assert.equal(createHash('sha256').update(one).digest('hex'), createHash('sha256').update(many).digest('hex'));
  });
});

describe('what is refused before any key is used', () => {
  const v2 = {
    WrappedContentKey: { KeyId: 'k', EncryptedKey: 'AAAA', Algorithm: 'RSA-OAEP-256' },
    EncryptionAgent: { Protocol: '2.0', EncryptionAlgorithm: 'AES_GCM_256' },
    EncryptedRegionInfo: { DataLength: MiB4, NonceLength: 12 },
    EncryptionMode: 'FullBlob',
  };

  test('v1 (AES-CBC) metadata', () => {
    const v1 = { ...v2, EncryptionAgent: { Protocol: '1.0', EncryptionAlgorithm: 'AES_CBC_256' }, ContentEncryptionIV: 'AAAAAAAAAAAAAAAAAAAAAA==' };
    assert.throws(() => parseEncryptionData(JSON.stringify(v1)), (e) => e.code === 'unsupported-encryption');
  });

  test('another cipher under 2.0', () => {
    assert.throws(() => parseEncryptionData({ ...v2, EncryptionAgent: { Protocol: '2.0', EncryptionAlgorithm: 'AES_CBC_256' } }), (e) => e.code === 'unsupported-encryption');
  });

  test('protocol 2.1', () => {
    assert.throws(() => parseEncryptionData({ ...v2, EncryptionAgent: { Protocol: '2.1', EncryptionAlgorithm: 'AES_GCM_256' } }), (e) => e.code === 'unsupported-encryption');
  });

  test('not JSON, or incomplete', () => {
    assert.throws(() => parseEncryptionData('{'), (e) => e.code === 'metadata-invalid');
    assert.throws(() => parseEncryptionData({ ...v2, WrappedContentKey: undefined }), (e) => e.code === 'metadata-invalid');
    assert.throws(() => parseEncryptionData({ ...v2, EncryptedRegionInfo: { DataLength: MiB4, NonceLength: 16 } }), (e) => e.code === 'metadata-invalid');
  });

  test('decryptBlobV2 refuses v1 without calling unwrap', async () => {
    let called = false;
    const v1 = { ...v2, EncryptionAgent: { Protocol: '1.0', EncryptionAlgorithm: 'AES_CBC_256' } };
    await assert.rejects(decryptBlobV2(new Uint8Array(32), JSON.stringify(v1), async () => { called = true; return new Uint8Array(40); }), (e) => e.code === 'unsupported-encryption');
    assert.equal(called, false);
  });

  test('a private JWK, a small key, another algorithm, no kid', async () => {
    const priv = await subtle.exportKey('jwk', privateKey);
    await assert.rejects(importWrappingKey(priv), (e) => e.code === 'bad-key');
    await assert.rejects(importWrappingKey({ ...kek.jwk, alg: 'RSA1_5' }), (e) => e.code === 'bad-key');
    const small = await subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
    const smallJwk = await subtle.exportKey('jwk', small.publicKey);
    await assert.rejects(importWrappingKey({ kty: 'RSA', n: smallJwk.n, e: smallJwk.e }), (e) => e.code === 'bad-key' && /1024 bits/.test(e.message));
    await assert.rejects(encryptBlobV2(new Uint8Array(1), { jwk: { ...kek.jwk, kid: undefined } }), (e) => e.code === 'bad-key');
  });
});
