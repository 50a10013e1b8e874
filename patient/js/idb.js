// A very small promise wrapper over IndexedDB for the app's one database.
//   people  (key sub)            who has local data on this phone: name, passcode salt and check, tries
//   records (key [sub, name])    one person's local data, each record sealed under their passcode key
//   outbox  (key id, index sub)  photos waiting to send: Azure CSE v2 ciphertext (the phone cannot
//                                decrypt it) plus details sealed under the person's passcode key

const DB_NAME = "skinvault-patient";
const DB_VERSION = 1;
let dbPromise = null;

export function openDb() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("people")) db.createObjectStore("people", { keyPath: "sub" });
      if (!db.objectStoreNames.contains("records")) db.createObjectStore("records", { keyPath: ["sub", "name"] });
      if (!db.objectStoreNames.contains("outbox")) {
        const outbox = db.createObjectStore("outbox", { keyPath: "id" });
        outbox.createIndex("sub", "sub", { unique: false });
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function tx(stores, mode, fn) {
  const db = await openDb();
  const t = db.transaction(stores, mode);
  const result = await fn(t);
  await new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error("transaction aborted"));
  });
  return result;
}

export async function get(store, key) {
  return tx([store], "readonly", (t) => done(t.objectStore(store).get(key)));
}

export async function put(store, value) {
  return tx([store], "readwrite", (t) => done(t.objectStore(store).put(value)));
}

export async function del(store, key) {
  return tx([store], "readwrite", (t) => done(t.objectStore(store).delete(key)));
}

export async function getAll(store) {
  return tx([store], "readonly", (t) => done(t.objectStore(store).getAll()));
}

export async function bySub(store, sub) {
  return tx([store], "readonly", (t) => done(t.objectStore(store).index("sub").getAll(sub)));
}

/** Delete everything one person has on this phone, in one transaction. */
export async function wipePerson(sub) {
  return tx(["people", "records", "outbox"], "readwrite", async (t) => {
    t.objectStore("people").delete(sub);
    t.objectStore("records").delete(IDBKeyRange.bound([sub, ""], [sub, "\uffff"]));
    const ids = await done(t.objectStore("outbox").index("sub").getAllKeys(sub));
    for (const key of ids) t.objectStore("outbox").delete(key);
  });
}
