// The per-person lock on one phone: a 4-6 digit passcode, a key derived from it, and records
// sealed under that key. WebCrypto only (globalThis.crypto.subtle), no DOM.
//
// - The key: PBKDF2-HMAC-SHA256 over the passcode with a random 16-byte salt and 310,000 or more
//   iterations (OWASP's figure for PBKDF2-SHA256), to a non-extractable AES-256-GCM key. The
//   passcode and the key are never stored; the lock record keeps the salt, the iteration count, a
//   sealed check value and the count of wrong tries.
// - Records: AES-GCM with a random 12-byte IV; the additional data binds a record to its person
//   and store (and, when given, its key in that store), so a record moved to another person or
//   store does not open.
// - Wrong tries: the fifth wrong passcode in a row answers {status: 'wipe'}; the caller must then
//   delete that person's local data (never anything in the cloud). The caller must save the
//   returned lock record BEFORE telling the person the result, so reloading the page does not
//   reset the count.
//
// A passcode of 4-6 digits is a small space: the lock keeps people who share a phone out of each
// other's photos and slows guessing; it is not meant to stop someone who copies the phone's storage
// and runs 10^6 PBKDF2 guesses offline. Everything that matters is also encrypted in the cloud
// under keys the phone never holds.

export const MIN_ITERATIONS = 310_000;
export const MAX_WRONG_TRIES = 5;
export const SALT_LENGTH = 16;
export const IV_LENGTH = 12;
const CHECK_VALUE = 'skinvault-passcode-check-v1';
const CHECK_STORE = 'lock';

export class RecordUnreadable extends Error {
  constructor(message = 'This record cannot be opened with this key.') {
    super(message);
    this.name = 'RecordUnreadable';
  }
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error('WebCrypto is not available (a secure context is needed).');
  return s;
}

const utf8 = (text) => new TextEncoder().encode(text);

/** {ok: true} or {ok: false, message} in plain English. */
export function validatePasscode(passcode) {
  if (typeof passcode !== 'string' || !/^[0-9]{4,6}$/.test(passcode)) {
    return { ok: false, message: 'Enter 4 to 6 numbers.' };
  }
  return { ok: true };
}

/** The AES-GCM key for `passcode` (non-extractable). salt: 16 bytes. */
export async function deriveKey(passcode, salt, iterations = MIN_ITERATIONS) {
  if (!validatePasscode(passcode).ok) throw new RangeError('The passcode must be 4 to 6 digits.');
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_LENGTH) throw new RangeError('The salt must be 16 bytes.');
  if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS) throw new RangeError(`At least ${MIN_ITERATIONS} iterations are required.`);
  const base = await subtle().importKey('raw', utf8(passcode), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

function additionalData(personId, storeName, recordKey) {
  if (typeof personId !== 'string' || !personId || typeof storeName !== 'string' || !storeName) {
    throw new TypeError('A person id and a store name are required.');
  }
  const parts = ['skinvault', personId, storeName];
  if (recordKey !== undefined && recordKey !== null) parts.push(String(recordKey));
  return utf8(parts.join('\u0000'));
}

/**
 * Seal `value` (anything JSON can hold, or bytes) for one person and store.
 * Returns {v: 1, kind: 'json'|'bytes', iv: Uint8Array, data: Uint8Array}: IndexedDB keeps it as is.
 */
export async function sealRecord(key, personId, storeName, value, recordKey) {
  const kind = value instanceof Uint8Array ? 'bytes' : 'json';
  const plain = kind === 'bytes' ? value : utf8(JSON.stringify(value));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const aad = additionalData(personId, `${storeName}\u0000${kind}`, recordKey);
  const data = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, plain));
  return { v: 1, kind, iv, data };
}

/** Open a sealed record; throws RecordUnreadable when the key, person, store or bytes differ. */
export async function openRecord(key, personId, storeName, sealed, recordKey) {
  if (!sealed || sealed.v !== 1 || (sealed.kind !== 'json' && sealed.kind !== 'bytes') || !(sealed.iv instanceof Uint8Array) || !(sealed.data instanceof Uint8Array)) {
    throw new RecordUnreadable('This is not a sealed record.');
  }
  const aad = additionalData(personId, `${storeName}\u0000${sealed.kind}`, recordKey);
  let plain;
  try {
    plain = new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: sealed.iv, additionalData: aad }, key, sealed.data));
  } catch {
    throw new RecordUnreadable();
  }
  return sealed.kind === 'bytes' ? plain : JSON.parse(new TextDecoder().decode(plain));
}

/**
 * Set up the lock for a person. Returns {lock, key}: store `lock` (no secret in it) and keep
 * `key` in memory while the person is unlocked.
 */
export async function createLock(personId, passcode, { iterations = MIN_ITERATIONS } = {}) {
  const valid = validatePasscode(passcode);
  if (!valid.ok) throw new RangeError(valid.message);
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const key = await deriveKey(passcode, salt, iterations);
  const check = await sealRecord(key, personId, CHECK_STORE, CHECK_VALUE);
  return { lock: { v: 1, personId, kdf: 'PBKDF2-SHA256', iterations, salt, check, wrongTries: 0 }, key };
}

/**
 * Try a passcode. Returns one of
 *   {status: 'unlocked', key, lock}          (wrong-try count back to 0)
 *   {status: 'wrong', triesLeft, lock}       (save `lock`, then say how many tries are left)
 *   {status: 'wipe', lock}                   (the fifth wrong try: delete this person's local data)
 * A passcode that is not 4-6 digits is 'wrong' without costing a try (it cannot be theirs).
 */
export async function unlock(lock, passcode) {
  if (!lock || lock.v !== 1 || lock.kdf !== 'PBKDF2-SHA256') throw new TypeError('This is not a lock record.');
  if (lock.wrongTries >= MAX_WRONG_TRIES) return { status: 'wipe', lock };
  if (!validatePasscode(passcode).ok) return { status: 'wrong', triesLeft: MAX_WRONG_TRIES - lock.wrongTries, lock };
  const key = await deriveKey(passcode, lock.salt, lock.iterations);
  try {
    if ((await openRecord(key, lock.personId, CHECK_STORE, lock.check)) === CHECK_VALUE) {
      return { status: 'unlocked', key, lock: { ...lock, wrongTries: 0 } };
    }
  } catch (error) {
    if (!(error instanceof RecordUnreadable)) throw error;
  }
  const wrongTries = lock.wrongTries + 1;
  const next = { ...lock, wrongTries };
  if (wrongTries >= MAX_WRONG_TRIES) return { status: 'wipe', lock: next };
  return { status: 'wrong', triesLeft: MAX_WRONG_TRIES - wrongTries, lock: next };
}
