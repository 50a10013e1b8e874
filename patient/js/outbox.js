// Photos on their way to SkinVault. A photo is prepared (orientation applied, every piece of
// metadata but the capture time removed; lib/photo.js), encrypted with Azure Storage client-side
// encryption v2 under the KEK's public key (lib/cse.js; the phone can never decrypt it again) and
// only then stored, in the outbox store of IndexedDB. The queue's state (folder, capture time,
// upload session, tries) is a record sealed under the person's passcode key; lib/queue.js decides
// what to do next (one upload session per photo, reused until it expires, backoff with jitter).
// It is driven on app open, on the `online` event, when the service worker's Background Sync
// fires, and when a retry falls due.

import { ApiError, SessionExpiredError, api } from "./api.js";
import * as idb from "./idb.js";
import { putEncryptedBlob } from "./lib/blob-put.js";
import { encryptBlobV2 } from "./lib/cse.js";
import { READY, REJECTED, SENT, UploadQueue, drive } from "./lib/queue.js";
import { keyFor, loadRecord, onForget, saveRecord } from "./people.js";
import { currentSub } from "./session.js";

const UPLOAD_KEY_RECORD = "upload-key";
const QUEUE_RECORD = "upload-queue";
const listeners = new Set();
const queues = new Map(); // sub -> Promise<UploadQueue>
let running = null;
let timer = 0;

export class NoUploadKeyError extends Error {
  constructor() {
    super("no upload key");
    this.name = "NoUploadKeyError";
  }
}

export function onOutboxChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event) {
  for (const fn of listeners) {
    try {
      fn(event);
    } catch {
      // a screen that went away must not stop the queue
    }
  }
}

/** This person's queue, loaded from their sealed record (recovering anything left mid-upload). */
function queueFor(sub = currentSub()) {
  if (!queues.has(sub)) {
    const storage = {
      loadAll: () => loadRecord(QUEUE_RECORD, sub),
      save: (state) => saveRecord(QUEUE_RECORD, state, sub),
    };
    let previous = {};
    const q = new UploadQueue({
      storage,
      onChange: (state) => {
        for (const item of Object.values(state.items)) {
          const before = previous[item.id];
          if (item.state === "uploading" && before?.state === "uploading" && before.progress !== item.progress) {
            emit({ type: "progress", id: item.id, folderId: item.folderId, progress: item.progress });
          } else if (!before || before.state !== item.state) {
            emit({ type: item.state === SENT ? "sent" : "changed", id: item.id, folderId: item.folderId, imageId: item.session?.uploadId, state: item.state });
          }
        }
        previous = state.items;
      },
    });
    queues.set(
      sub,
      q.load().then(() => {
        previous = q.state.items;
        return q;
      }),
    );
  }
  return queues.get(sub);
}

/** Forget the in-memory queue of a person (sign out, wipe, account deleted). */
export function dropQueue(sub) {
  queues.delete(sub);
}
onForget(dropQueue);

/**
 * The KEK's public key (kid + JWK): from GET /api/upload-key when online (kept, sealed, for offline
 * use), else the kept copy. Where the API has no such endpoint, null: the caller then takes the
 * key from a new upload session.
 */
export async function uploadKey({ refresh = false } = {}) {
  const cachedKey = await loadRecord(UPLOAD_KEY_RECORD);
  if (cachedKey && !refresh) return cachedKey;
  if (navigator.onLine) {
    try {
      const key = await api.uploadKey();
      const value = { kid: key.kid, jwk: key.jwk };
      await saveRecord(UPLOAD_KEY_RECORD, value);
      return value;
    } catch (err) {
      if (err instanceof SessionExpiredError) throw err;
      if (err instanceof ApiError && err.status === 404 && !cachedKey) return null;
    }
  }
  if (cachedKey) return cachedKey;
  throw new NoUploadKeyError();
}

/** Photos not sent yet (or sent and still being checked) for the screen, oldest first. */
export async function pending(sub = currentSub()) {
  if (!sub || !keyFor(sub)) return [];
  const q = await queueFor(sub);
  return Object.values(q.state.items)
    .filter((i) => i.state !== READY && i.state !== REJECTED && i.state !== SENT)
    .sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * Prepare, encrypt and queue one photo (a File or Blob). Throws the photo module's PhotoUnreadable
 * (with a plain message) for a file the app cannot read, so cannot strip.
 */
export async function queuePhoto(file, folderId) {
  const sub = currentSub();
  if (!keyFor(sub)) throw new Error("locked");
  const { preparePhoto } = await import("./lib/photo.js");
  // a camera frame or a file with no capture time of its own: when it was taken / last changed
  const fallbackTime = new Date(file.lastModified || Date.now()).toISOString();
  const prepared = await preparePhoto(file, { captureTime: fallbackTime });
  // online: the current key (it may have been rotated); offline: the copy kept on the phone
  let kek = await uploadKey({ refresh: navigator.onLine });
  let session = null;
  if (!kek) {
    // no upload-key endpoint: the session for this very photo tells us the key (and is reused)
    session = await driverApi.startSession({ folderId, sizeBytes: prepared.jpeg.byteLength, capturedAt: prepared.captureTime || fallbackTime });
    kek = { kid: session.encryption.kid, jwk: session.encryption.jwk };
    await saveRecord(UPLOAD_KEY_RECORD, kek);
  }
  const encrypted = await encryptBlobV2(prepared.jpeg, kek);
  const captured = prepared.captureTime || fallbackTime;
  const id = crypto.randomUUID();
  await idb.put("outbox", {
    id,
    sub,
    body: new Blob([encrypted.body], { type: "application/octet-stream" }),
    encryptiondata: encrypted.metadata.encryptiondata,
  });
  const q = await queueFor(sub);
  await q.dispatch({ type: "enqueue", item: { id, folderId, sizeBytes: prepared.jpeg.byteLength, capturedAt: captured, kid: kek.kid } });
  if (session) await q.dispatch({ type: "session-started", id, session: { uploadId: session.uploadId, uploadUrl: session.uploadUrl, expiresAt: session.expiresAt } });
  emit({ type: "queued", id, folderId });
  return { id, folderId, capturedAt: captured };
}

const driverApi = {
  isOnline: () => navigator.onLine,
  startSession: async (item) => {
    const s = await api.startUpload(item.folderId, { contentType: "image/jpeg", sizeBytes: item.sizeBytes, capturedAt: item.capturedAt });
    return { uploadId: s.uploadId, uploadUrl: s.uploadUrl, expiresAt: s.expiresAt, encryption: s.encryption };
  },
  upload: async (item, onProgress) => {
    const row = await idb.get("outbox", item.id);
    if (!row) throw Object.assign(new Error("photo missing"), { status: 404 });
    const body = new Uint8Array(await row.body.arrayBuffer());
    await putEncryptedBlob(item.session.uploadUrl, body, row.encryptiondata, { onProgress });
  },
  checkStatus: (uploadId) => api.image(uploadId),
  deleteImage: (uploadId) => api.deleteImage(uploadId),
};

/** Send whatever is due for the person using the app. One run at a time. */
export function sendPending() {
  if (running) return running;
  running = (async () => {
    clearTimeout(timer);
    const sub = currentSub();
    if (!sub || !keyFor(sub)) return;
    const q = await queueFor(sub);
    let until = null;
    try {
      until = await drive(q, driverApi);
    } catch (err) {
      if (!(err instanceof SessionExpiredError)) throw err;
    }
    // finished photos leave the queue, and their ciphertext leaves the phone
    for (const item of Object.values(q.state.items)) {
      if (item.state === SENT || item.state === READY || item.state === REJECTED) await idb.del("outbox", item.id);
      if (item.state === READY || item.state === REJECTED) await q.dispatch({ type: "remove", id: item.id });
    }
    if (until !== null && currentSub() === sub) timer = setTimeout(() => sendPending(), Math.max(250, until - Date.now()));
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Ask the browser to wake the app when it is online again (Background Sync, where it exists). */
export async function requestBackgroundSync() {
  try {
    const reg = await navigator.serviceWorker?.ready;
    await reg?.sync?.register("skinvault-outbox");
  } catch {
    // not supported or not allowed: the online event and app open still send the queue
  }
}
