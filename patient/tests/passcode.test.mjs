// The per-person passcode lock (patient/js/lib/passcode.js).
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { before, describe, test } from 'node:test';

import {
  createLock,
  deriveKey,
  MAX_WRONG_TRIES,
  MIN_ITERATIONS,
  openRecord,
  RecordUnreadable,
  sealRecord,
  unlock,
  validatePasscode,
} from '../js/lib/passcode.js';

const subtle = globalThis.crypto.subtle;

describe('validatePasscode', () => {
  test('4 to 6 digits, nothing else', () => {
    for (const good of ['0000', '1234', '12345', '987654']) assert.deepEqual(validatePasscode(good), { ok: true });
    for (const bad of ['', '123', '1234567', '12a4', ' 1234', '１２３４', 1234, null]) {
      assert.deepEqual(validatePasscode(bad), { ok: false, message: 'Enter 4 to 6 numbers.' }, String(bad));
    }
  });
});

describe('deriveKey', () => {
  test('known answer: PBKDF2-HMAC-SHA256, 310,000 iterations, as an AES-256-GCM key', async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
    const key = await deriveKey('246810', salt);
    assert.equal(key.extractable, false);
    assert.deepEqual(key.algorithm, { name: 'AES-GCM', length: 256 });
    assert.deepEqual([...key.usages].sort(), ['decrypt', 'encrypt']);
    // Same bytes as an independent PBKDF2: a record sealed with one opens with the other.
    const raw = pbkdf2Sync('246810', salt, MIN_ITERATIONS, 32, 'sha256');
    const reference = await subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    const sealed = await sealRecord(key, 'person-1', 'folders', { name: 'Mole' });
    assert.deepEqual(await openRecord(reference, 'person-1', 'folders', sealed), { name: 'Mole' });
  });

  test('refuses fewer than 310,000 iterations and bad salts', async () => {
    const salt = new Uint8Array(16);
    await assert.rejects(deriveKey('1234', salt, 100_000), RangeError);
    await assert.rejects(deriveKey('1234', new Uint8Array(8)), RangeError);
    await assert.rejects(deriveKey('12', salt), RangeError);
  });
});

describe('sealRecord / openRecord', () => {
  let key;
  let otherKey;
  before(async () => {
    key = await deriveKey('1111', new Uint8Array(16).fill(1));
    otherKey = await deriveKey('1112', new Uint8Array(16).fill(1));
  });

  test('round-trips JSON and bytes; a fresh IV each time', async () => {
    const a = await sealRecord(key, 'p1', 'queue', { id: 'x', n: 1 });
    const b = await sealRecord(key, 'p1', 'queue', { id: 'x', n: 1 });
    assert.notDeepEqual(a.iv, b.iv);
    assert.notDeepEqual(a.data, b.data);
    assert.deepEqual(await openRecord(key, 'p1', 'queue', a), { id: 'x', n: 1 });
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 1, 2, 3]);
    const sealed = await sealRecord(key, 'p1', 'photos', bytes, 'photo-1');
    assert.equal(sealed.kind, 'bytes');
    assert.deepEqual(await openRecord(key, 'p1', 'photos', sealed, 'photo-1'), bytes);
  });

  test('the sealed bytes hold no plaintext', async () => {
    const sealed = await sealRecord(key, 'p1', 'folders', { notes: 'itchy mole on left shoulder' });
    assert.ok(!Buffer.from(sealed.data).toString('latin1').includes('mole'));
  });

  test('does not open under another person, store, record key, passcode, or with a flipped bit', async () => {
    const sealed = await sealRecord(key, 'p1', 'photos', { a: 1 }, 'r1');
    await assert.rejects(openRecord(key, 'p2', 'photos', sealed, 'r1'), RecordUnreadable);
    await assert.rejects(openRecord(key, 'p1', 'folders', sealed, 'r1'), RecordUnreadable);
    await assert.rejects(openRecord(key, 'p1', 'photos', sealed, 'r2'), RecordUnreadable);
    await assert.rejects(openRecord(otherKey, 'p1', 'photos', sealed, 'r1'), RecordUnreadable);
    const flipped = { ...sealed, data: sealed.data.slice() };
    flipped.data[0] ^= 1;
    await assert.rejects(openRecord(key, 'p1', 'photos', flipped, 'r1'), RecordUnreadable);
    await assert.rejects(openRecord(key, 'p1', 'photos', { ...sealed, kind: 'bytes' }, 'r1'), RecordUnreadable);
    await assert.rejects(openRecord(key, 'p1', 'photos', { nope: true }), RecordUnreadable);
  });
});

describe('createLock / unlock', () => {
  let created;
  before(async () => {
    created = await createLock('person-7', '4821');
  });

  test('the lock record holds no secret and a 16-byte random salt', () => {
    const { lock } = created;
    assert.equal(lock.iterations, MIN_ITERATIONS);
    assert.equal(lock.salt.length, 16);
    assert.equal(lock.wrongTries, 0);
    assert.ok(!JSON.stringify(lock).includes('4821'));
  });

  test('the right passcode unlocks, with a key that opens what the first key sealed', async () => {
    const sealed = await sealRecord(created.key, 'person-7', 'profile', { givenName: 'Ada' });
    const result = await unlock(created.lock, '4821');
    assert.equal(result.status, 'unlocked');
    assert.deepEqual(await openRecord(result.key, 'person-7', 'profile', sealed), { givenName: 'Ada' });
  });

  test('five wrong tries in a row say: wipe this person', async () => {
    let lock = created.lock;
    const seen = [];
    for (let i = 0; i < MAX_WRONG_TRIES; i += 1) {
      const result = await unlock(lock, '0000');
      seen.push(result.status === 'wrong' ? result.triesLeft : result.status);
      lock = result.lock;
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 'wipe']);
    // Even the right passcode cannot undo it once the count is reached.
    assert.equal((await unlock(lock, '4821')).status, 'wipe');
  });

  test('a right passcode resets the count', async () => {
    let { lock } = await unlock(created.lock, '9999');
    ({ lock } = await unlock(lock, '9998'));
    assert.equal(lock.wrongTries, 2);
    const ok = await unlock(lock, '4821');
    assert.equal(ok.status, 'unlocked');
    assert.equal(ok.lock.wrongTries, 0);
  });

  test('something that cannot be a passcode costs no try', async () => {
    const result = await unlock(created.lock, 'abcd');
    assert.deepEqual([result.status, result.triesLeft, result.lock.wrongTries], ['wrong', 5, 0]);
  });

  test('two people with the same passcode get different keys', async () => {
    const other = await createLock('person-8', '4821');
    const sealed = await sealRecord(other.key, 'person-7', 'profile', { x: 1 });
    await assert.rejects(openRecord(created.key, 'person-7', 'profile', sealed), RecordUnreadable);
  });
});
