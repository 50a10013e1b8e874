// The offline upload queue: a pure state machine the app drives, plus a small driver.
//
// A photo is stored (already encrypted) before it joins the queue; the queue only keeps the facts
// about sending it. Item states:
//
//   waiting ──► uploading ──► sent ──► ready
//      ▲            │           └────► rejected
//      │            ▼
//      └── failed-retrying (after nextAttemptAt)
//
// - One upload session per photo (POST /folders/{id}/uploads), kept with the item and reused for
//   every retry until it expires: a retried PUT overwrites the same blob, so a photo is never
//   duplicated. Only a session that expired (or whose URL was refused) before the PUT succeeded is
//   replaced, and its pending image is listed in `discard` so the app deletes it
//   (DELETE /images/{uploadId}) before starting the next one.
// - A photo that was sent is never sent again; its status is checked until ready or rejected.
// - Failures back off exponentially with jitter, capped (nextAttemptAt).
// - After a restart, an item left "uploading" goes back to "waiting" (recover).
//
// reduce(state, event) is pure: no clock, no randomness, no I/O. Times are epoch milliseconds and
// come in on the events; jitter comes in as `random` (0..1) on failure events.

export const WAITING = 'waiting';
export const UPLOADING = 'uploading';
export const SENT = 'sent';
export const READY = 'ready';
export const REJECTED = 'rejected';
export const FAILED_RETRYING = 'failed-retrying';
export const STATES = [WAITING, UPLOADING, SENT, READY, REJECTED, FAILED_RETRYING];

export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_CAP_MS = 5 * 60_000;
export const STATUS_CHECK_BASE_MS = 1_000;
export const STATUS_CHECK_CAP_MS = 60_000;
// A session is not used for a PUT that may not finish before it expires.
export const SESSION_MARGIN_MS = 60_000;

/**
 * When to try again after `attempts` failures (attempts >= 1): an exponential delay
 * base * 2^(attempts-1), capped, of which the upper half is random ("equal jitter"), so phones that
 * come back online together do not all retry at once. random: a number in [0, 1).
 */
export function nextAttemptAt(attempts, now, random = Math.random, { base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS } = {}) {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const delay = Math.min(cap, base * 2 ** exponent);
  const r = typeof random === 'function' ? random() : random;
  return now + delay / 2 + Math.floor((delay / 2) * Math.min(Math.max(r, 0), 0.999999));
}

/** Whether a session can still take a PUT at `now` (expiresAt minus a margin for the upload). */
export function sessionUsable(session, now, margin = SESSION_MARGIN_MS) {
  if (!session || !session.uploadUrl) return false;
  const expires = typeof session.expiresAt === 'number' ? session.expiresAt : Date.parse(session.expiresAt);
  return Number.isFinite(expires) && now < expires - margin;
}

export function emptyQueue() {
  return { items: {}, discard: [] };
}

/** New queue item for a photo that has just been stored encrypted under `id`. */
export function newItem({ id, folderId, sizeBytes, capturedAt = null, kid = null }, now) {
  if (!id || !folderId) throw new TypeError('an item needs an id and a folderId');
  return {
    id,
    folderId,
    sizeBytes,
    capturedAt,
    kid, // the key version the stored ciphertext is wrapped under
    state: WAITING,
    attempts: 0,
    nextAttemptAt: now,
    session: null, // {uploadId, uploadUrl, expiresAt}
    progress: 0,
    statusChecks: 0,
    nextCheckAt: null,
    rejectionReason: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}

function put(state, item) {
  return { ...state, items: { ...state.items, [item.id]: item } };
}

function failed(item, event) {
  const attempts = item.attempts + 1;
  return {
    ...item,
    state: FAILED_RETRYING,
    attempts,
    nextAttemptAt: nextAttemptAt(attempts, event.now, event.random ?? 0.5),
    progress: 0,
    lastError: event.error ?? null,
    updatedAt: event.now,
  };
}

/**
 * The pure reducer. Events ({type, id, now, ...}):
 *   enqueue {item: {id, folderId, sizeBytes, capturedAt, kid}}
 *   session-started {session: {uploadId, uploadUrl, expiresAt}}
 *   session-failed {error, random}                 POST /uploads failed (offline, 5xx)
 *   upload-started
 *   progress {loaded, total}
 *   upload-succeeded                               the PUT answered 201
 *   upload-failed {error, random, sessionRefused}  sessionRefused: 403 (SAS expired or refused)
 *   status {status: 'pending'|'ready'|'rejected', rejectionReason}
 *   status-failed {random}                         GET /images/{id} failed (offline, 5xx)
 *   image-gone                                     404: deleted elsewhere; the item is dropped
 *   discarded {uploadId}                           the app deleted a stale pending image
 *   remove                                         the patient removed the photo from the queue
 *   recover                                        after a restart
 * An event for an unknown item, or one that does not apply to its state, changes nothing.
 */
export function reduce(state, event) {
  if (event.type === 'enqueue') {
    if (state.items[event.item.id]) return state; // never twice
    return put(state, newItem(event.item, event.now));
  }
  if (event.type === 'discarded') {
    return { ...state, discard: state.discard.filter((uploadId) => uploadId !== event.uploadId) };
  }
  if (event.type === 'recover') {
    let next = state;
    for (const item of Object.values(state.items)) {
      if (item.state === UPLOADING) next = put(next, { ...item, state: WAITING, progress: 0, nextAttemptAt: event.now, updatedAt: event.now });
    }
    return next;
  }
  const item = state.items[event.id];
  if (!item) return state;
  switch (event.type) {
    case 'session-started': {
      if (item.state !== WAITING && item.state !== FAILED_RETRYING) return state;
      const discard = item.session && item.session.uploadId !== event.session.uploadId ? [...state.discard, item.session.uploadId] : state.discard;
      return { ...put(state, { ...item, session: { ...event.session }, updatedAt: event.now }), discard };
    }
    case 'session-failed':
      if (item.state !== WAITING && item.state !== FAILED_RETRYING) return state;
      return put(state, failed(item, event));
    case 'upload-started':
      if ((item.state !== WAITING && item.state !== FAILED_RETRYING) || !sessionUsable(item.session, event.now)) return state;
      return put(state, { ...item, state: UPLOADING, progress: 0, updatedAt: event.now });
    case 'progress':
      if (item.state !== UPLOADING || !(event.total > 0)) return state;
      return put(state, { ...item, progress: Math.min(1, Math.max(0, event.loaded / event.total)) });
    case 'upload-succeeded':
      if (item.state !== UPLOADING) return state;
      return put(state, { ...item, state: SENT, progress: 1, lastError: null, statusChecks: 0, nextCheckAt: event.now, updatedAt: event.now });
    case 'upload-failed': {
      if (item.state !== UPLOADING) return state;
      const next = failed(item, event);
      if (event.sessionRefused) {
        // The URL is no use any more: the next attempt starts a new session; the stale pending
        // image is discarded then (session-started moves it to `discard`).
        next.session = { ...item.session, expiresAt: 0 };
      }
      return put(state, next);
    }
    case 'status': {
      if (item.state !== SENT) return state;
      if (event.status === READY) return put(state, { ...item, state: READY, updatedAt: event.now });
      if (event.status === REJECTED) {
        return put(state, { ...item, state: REJECTED, rejectionReason: event.rejectionReason || 'The photo was not accepted.', updatedAt: event.now });
      }
      const checks = item.statusChecks + 1;
      return put(state, { ...item, statusChecks: checks, nextCheckAt: nextAttemptAt(checks, event.now, 0.5, { base: STATUS_CHECK_BASE_MS, cap: STATUS_CHECK_CAP_MS }) });
    }
    case 'status-failed': {
      if (item.state !== SENT) return state;
      const checks = item.statusChecks + 1;
      return put(state, { ...item, statusChecks: checks, nextCheckAt: nextAttemptAt(checks, event.now, event.random ?? 0.5, { base: STATUS_CHECK_BASE_MS, cap: STATUS_CHECK_CAP_MS }) });
    }
    case 'image-gone':
    case 'remove': {
      const items = { ...state.items };
      delete items[item.id];
      // A photo removed before it was sent leaves its pending image behind: discard it.
      const discard = event.type === 'remove' && item.session && item.state !== SENT && item.state !== READY && item.state !== REJECTED
        ? [...state.discard, item.session.uploadId]
        : state.discard;
      return { ...state, items, discard };
    }
    default:
      return state;
  }
}

/**
 * What the app should do next, or {kind: 'idle', until} (a time to look again, or null).
 * Discards first, then uploads oldest first (one at a time), then status checks.
 *   {kind: 'discard', uploadId}
 *   {kind: 'start-session', item}       POST /folders/{item.folderId}/uploads
 *   {kind: 'upload', item}              PUT item.session.uploadUrl
 *   {kind: 'check-status', item}        GET /images/{item.session.uploadId}
 */
export function nextAction(state, now, { online = true } = {}) {
  if (!online) return { kind: 'idle', until: null };
  if (state.discard.length) return { kind: 'discard', uploadId: state.discard[0] };
  const items = Object.values(state.items).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  if (items.some((item) => item.state === UPLOADING)) return { kind: 'idle', until: null };
  let until = null;
  const later = (t) => {
    until = until === null ? t : Math.min(until, t);
  };
  for (const item of items) {
    if (item.state !== WAITING && item.state !== FAILED_RETRYING) continue;
    if (item.nextAttemptAt > now) {
      later(item.nextAttemptAt);
      continue;
    }
    return sessionUsable(item.session, now) ? { kind: 'upload', item } : { kind: 'start-session', item };
  }
  for (const item of items) {
    if (item.state !== SENT) continue;
    if (item.nextCheckAt > now) {
      later(item.nextCheckAt);
      continue;
    }
    return { kind: 'check-status', item };
  }
  return { kind: 'idle', until };
}

/** For the screen: photos not yet sent ("Waiting to send"), and photos sent but not yet checked. */
export function summary(state) {
  const items = Object.values(state.items);
  return {
    waitingToSend: items.filter((i) => i.state === WAITING || i.state === UPLOADING || i.state === FAILED_RETRYING).length,
    checking: items.filter((i) => i.state === SENT).length,
    uploading: items.filter((i) => i.state === UPLOADING).map((i) => ({ id: i.id, progress: i.progress })),
  };
}

/**
 * The queue with its storage. storage: {loadAll(): Promise<{items, discard}|null>,
 * save(state): Promise} (the app keeps it in IndexedDB, encrypted under the person's key).
 * Every dispatch is saved before it resolves, so a crash loses at most the step in flight.
 */
export class UploadQueue {
  constructor({ storage, clock = () => Date.now(), random = Math.random, onChange = () => {} }) {
    this.storage = storage;
    this.clock = clock;
    this.random = random;
    this.onChange = onChange;
    this.state = emptyQueue();
  }

  async load() {
    const saved = await this.storage.loadAll();
    this.state = saved ? { items: { ...saved.items }, discard: [...(saved.discard || [])] } : emptyQueue();
    return this.dispatch({ type: 'recover' });
  }

  async dispatch(event) {
    const next = reduce(this.state, { now: this.clock(), random: this.random(), ...event });
    if (next !== this.state) {
      this.state = next;
      // Progress is for the screen only: not worth a write per chunk.
      if (event.type !== 'progress') await this.storage.save(next);
      this.onChange(next);
    }
    return next;
  }
}

/** In-memory storage (tests, and a fallback where IndexedDB is not available). */
export class MemoryQueueStorage {
  constructor() {
    this.saved = null;
    this.saves = 0;
  }

  async loadAll() {
    return this.saved ? structuredClone(this.saved) : null;
  }

  async save(state) {
    this.saved = structuredClone(state);
    this.saves += 1;
  }
}

/**
 * Do what can be done now, step by step, until there is nothing to do, or the network is gone.
 * api (the app's, talking to the API and Blob Storage):
 *   startSession(item)            -> {uploadId, uploadUrl, expiresAt}
 *   upload(item, onProgress)      -> resolves when the PUT answered 201 (item.session.uploadUrl)
 *   checkStatus(uploadId)         -> {status, rejectionReason}
 *   deleteImage(uploadId)         -> resolves also when it is already gone (404)
 *   isOnline()                    -> boolean
 * Errors thrown by api calls: {status} for HTTP answers (403 on the PUT = the SAS is refused;
 * 404 on the PUT = the photo or its place is gone, so it leaves the queue; 404 on a status check or
 * a new session = deleted elsewhere), anything else counts as no connection. Errors that mean
 * "sign in again" (isFatal: status 401 or a SessionExpiredError by default) are thrown to the
 * caller without costing the photo a try. Returns the next `until` (or null: nothing is due).
 */
export const signInNeeded = (error) => Boolean(error) && (error.status === 401 || error.name === 'SessionExpiredError');

export async function drive(queue, api, { maxSteps = 100, isFatal = signInNeeded } = {}) {
  for (let step = 0; step < maxSteps; step += 1) {
    const action = nextAction(queue.state, queue.clock(), { online: api.isOnline() });
    if (action.kind === 'idle') return action.until;
    if (action.kind === 'discard') {
      try {
        await api.deleteImage(action.uploadId);
      } catch (error) {
        if (isFatal(error)) throw error;
        if (!error || error.status !== 404) return queue.clock() + BACKOFF_BASE_MS;
      }
      await queue.dispatch({ type: 'discarded', uploadId: action.uploadId });
    } else if (action.kind === 'start-session') {
      const { id } = action.item;
      try {
        const session = await api.startSession(action.item);
        await queue.dispatch({ type: 'session-started', id, session });
      } catch (error) {
        if (isFatal(error)) throw error;
        if (error && error.status === 404) await queue.dispatch({ type: 'image-gone', id }); // the folder is gone
        else await queue.dispatch({ type: 'session-failed', id, error: describe(error) });
      }
    } else if (action.kind === 'upload') {
      const { id } = action.item;
      await queue.dispatch({ type: 'upload-started', id });
      if (queue.state.items[id].state !== UPLOADING) continue;
      try {
        await api.upload(queue.state.items[id], (loaded, total) => queue.dispatch({ type: 'progress', id, loaded, total }));
        await queue.dispatch({ type: 'upload-succeeded', id });
      } catch (error) {
        if (error && error.status === 404) {
          await queue.dispatch({ type: 'upload-failed', id, error: describe(error) });
          await queue.dispatch({ type: 'remove', id }); // nothing left to send: discard its pending image
        } else {
          await queue.dispatch({ type: 'upload-failed', id, error: describe(error), sessionRefused: Boolean(error && error.status === 403) });
        }
      }
    } else if (action.kind === 'check-status') {
      const { id } = action.item;
      try {
        const result = await api.checkStatus(action.item.session.uploadId);
        await queue.dispatch({ type: 'status', id, status: result.status, rejectionReason: result.rejectionReason });
      } catch (error) {
        if (isFatal(error)) throw error;
        if (error && error.status === 404) await queue.dispatch({ type: 'image-gone', id });
        else await queue.dispatch({ type: 'status-failed', id });
      }
    }
  }
  return queue.clock();
}

function describe(error) {
  if (error && error.status) return `HTTP ${error.status}`;
  return 'No connection';
}
