// Several people on one phone. Each person's local data is sealed under a key derived from the
// passcode they chose (lib/passcode.js: PBKDF2-SHA256 + AES-GCM); the key lives in memory only while
// they are unlocked. Five wrong passcodes in a row wipe that person's local data on this phone
// (never anything in the cloud). Signing out removes it too.

import * as idb from "./idb.js";
import { createLock, openRecord, sealRecord, unlock as tryPasscode, validatePasscode } from "./lib/passcode.js";
import { clearToken, currentSub, setCurrentSub } from "./session.js";

const unlocked = new Map(); // sub -> CryptoKey (memory only)
const forgetHooks = new Set(); // other modules' in-memory state of a person (e.g. the upload queue)

/** Call fn(sub) whenever a person's local data is removed (sign out, wipe, account deleted). */
export function onForget(fn) {
  forgetHooks.add(fn);
}

export class WrongPasscodeError extends Error {
  constructor(triesLeft) {
    super("wrong passcode");
    this.name = "WrongPasscodeError";
    this.triesLeft = triesLeft;
  }
}

export class WipedError extends Error {
  constructor() {
    super("local data wiped");
    this.name = "WipedError";
  }
}

export function validPasscode(value) {
  return validatePasscode(String(value ?? "")).ok;
}

export async function people() {
  const list = await idb.getAll("people");
  return list.sort((a, b) => a.name.localeCompare(b.name));
}

export async function person(sub) {
  return sub ? idb.get("people", sub) : null;
}

export async function addPerson(sub, name, passcode) {
  const { lock, key } = await createLock(sub, String(passcode));
  await idb.put("people", { sub, name, lock, createdAt: new Date().toISOString() });
  unlocked.set(sub, key);
  return key;
}

export function isUnlocked(sub = currentSub()) {
  return Boolean(sub && unlocked.has(sub));
}

export function keyFor(sub = currentSub()) {
  return unlocked.get(sub) || null;
}

/** Unlock with a passcode: the key, or WrongPasscodeError(triesLeft), or WipedError after the fifth. */
export async function unlock(sub, passcode) {
  const p = await person(sub);
  if (!p) throw new WipedError();
  const result = await tryPasscode(p.lock, String(passcode ?? ""));
  if (result.status === "wipe") {
    await forgetPerson(sub);
    throw new WipedError();
  }
  await idb.put("people", { ...p, lock: result.lock }); // saved before the person is told anything
  if (result.status === "wrong") throw new WrongPasscodeError(result.triesLeft);
  unlocked.set(sub, result.key);
  return result.key;
}

export function lockAll() {
  unlocked.clear();
}

/** Only one person is unlocked at a time: switching person locks everyone else. */
export function lockOthers(sub) {
  for (const other of [...unlocked.keys()]) if (other !== sub) unlocked.delete(other);
}

/** Remove everything this person has on the phone (sign out, or five wrong passcodes). */
export async function forgetPerson(sub) {
  unlocked.delete(sub);
  for (const fn of forgetHooks) fn(sub);
  clearToken(sub);
  if (currentSub() === sub) setCurrentSub(null);
  await idb.wipePerson(sub);
}

// ------------------------------------------------------------------ sealed records per person
export async function saveRecord(name, value, sub = currentSub()) {
  const key = keyFor(sub);
  if (!key) throw new Error("locked");
  await idb.put("records", { sub, name, sealed: await sealRecord(key, sub, "records", value, name) });
}

export async function loadRecord(name, sub = currentSub()) {
  const key = keyFor(sub);
  if (!key) return null;
  const row = await idb.get("records", [sub, name]);
  if (!row) return null;
  try {
    return await openRecord(key, sub, "records", row.sealed, name);
  } catch {
    return null;
  }
}

export async function dropRecord(name, sub = currentSub()) {
  await idb.del("records", [sub, name]);
}
