// The offline upload queue (patient/js/lib/queue.js): states, backoff, session reuse, the driver.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  BACKOFF_CAP_MS,
  drive,
  emptyQueue,
  FAILED_RETRYING,
  MemoryQueueStorage,
  nextAction,
  nextAttemptAt,
  READY,
  reduce,
  REJECTED,
  SENT,
  sessionUsable,
  summary,
  UPLOADING,
  UploadQueue,
  WAITING,
} from '../js/lib/queue.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');
const MIN = 60_000;
const photo = (id, extra = {}) => ({ id, folderId: 'fld-1', sizeBytes: 1000, capturedAt: '2026-06-01T09:59:00Z', kid: 'local:kek/1', ...extra });
const session = (n, expiresAt = T0 + 15 * MIN) => ({ uploadId: `img-${n}`, uploadUrl: `https://blob/uploads/p/img-${n}?sig`, expiresAt: new Date(expiresAt).toISOString() });
const run = (events) => events.reduce((state, event) => reduce(state, event), emptyQueue());

describe('nextAttemptAt: exponential backoff with jitter and a cap', () => {
  test('known answers without jitter (random = 0) and with full jitter (random -> 1)', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => nextAttemptAt(a, 0, 0)), [1000, 2000, 4000, 8000, 16000]);
    assert.deepEqual([1, 2, 3].map((a) => nextAttemptAt(a, 0, 0.999999)), [1999, 3999, 7999]);
  });

  test('grows, never beyond the cap, also for absurd attempt counts', () => {
    let previous = 0;
    for (let attempts = 1; attempts < 12; attempts += 1) {
      const at = nextAttemptAt(attempts, T0, 0);
      assert.ok(at >= previous);
      previous = at;
    }
    assert.ok(nextAttemptAt(1e6, T0, 0.99) - T0 <= BACKOFF_CAP_MS);
    assert.ok(nextAttemptAt(1e6, T0, 0) - T0 >= BACKOFF_CAP_MS / 2);
  });

  test('jitter spreads retries of phones that failed together', () => {
    const times = new Set(Array.from({ length: 20 }, (_, i) => nextAttemptAt(4, T0, i / 20)));
    assert.equal(times.size, 20);
  });
});

describe('sessionUsable', () => {
  test('until a minute before expiresAt (ISO or epoch ms)', () => {
    assert.equal(sessionUsable(session(1), T0), true);
    assert.equal(sessionUsable(session(1), T0 + 14 * MIN - 1), true);
    assert.equal(sessionUsable(session(1), T0 + 14 * MIN), false);
    assert.equal(sessionUsable({ ...session(1), expiresAt: T0 + 5 * MIN }, T0), true);
    assert.equal(sessionUsable(null, T0), false);
    assert.equal(sessionUsable({ ...session(1), expiresAt: 'garbage' }, T0), false);
  });
});

describe('reduce: the happy path', () => {
  test('waiting -> uploading -> sent -> ready', () => {
    let s = run([{ type: 'enqueue', item: photo('a'), now: T0 }]);
    assert.equal(s.items.a.state, WAITING);
    assert.deepEqual(nextAction(s, T0), { kind: 'start-session', item: s.items.a });
    s = reduce(s, { type: 'session-started', id: 'a', session: session(1), now: T0 });
    assert.equal(nextAction(s, T0).kind, 'upload');
    s = reduce(s, { type: 'upload-started', id: 'a', now: T0 });
    assert.equal(s.items.a.state, UPLOADING);
    s = reduce(s, { type: 'progress', id: 'a', loaded: 250, total: 1000 });
    assert.equal(s.items.a.progress, 0.25);
    assert.deepEqual(summary(s), { waitingToSend: 1, checking: 0, uploading: [{ id: 'a', progress: 0.25 }] });
    s = reduce(s, { type: 'upload-succeeded', id: 'a', now: T0 + 1000 });
    assert.equal(s.items.a.state, SENT);
    assert.equal(nextAction(s, T0 + 1000).kind, 'check-status');
    s = reduce(s, { type: 'status', id: 'a', status: 'pending', now: T0 + 1000 });
    assert.equal(nextAction(s, T0 + 1000).kind, 'idle');
    s = reduce(s, { type: 'status', id: 'a', status: 'ready', now: T0 + 3000 });
    assert.equal(s.items.a.state, READY);
    assert.deepEqual(summary(s), { waitingToSend: 0, checking: 0, uploading: [] });
  });

  test('rejected keeps the reason for the screen', () => {
    let s = run([
      { type: 'enqueue', item: photo('a'), now: T0 },
      { type: 'session-started', id: 'a', session: session(1), now: T0 },
      { type: 'upload-started', id: 'a', now: T0 },
      { type: 'upload-succeeded', id: 'a', now: T0 },
    ]);
    s = reduce(s, { type: 'status', id: 'a', status: 'rejected', rejectionReason: 'The photo is too large.', now: T0 });
    assert.equal(s.items.a.state, REJECTED);
    assert.equal(s.items.a.rejectionReason, 'The photo is too large.');
  });

  test('enqueuing the same photo twice keeps one item', () => {
    const s = run([
      { type: 'enqueue', item: photo('a'), now: T0 },
      { type: 'enqueue', item: photo('a'), now: T0 + 5 },
    ]);
    assert.equal(Object.keys(s.items).length, 1);
  });

  test('events that do not fit the state change nothing', () => {
    const s = run([{ type: 'enqueue', item: photo('a'), now: T0 }]);
    assert.equal(reduce(s, { type: 'upload-succeeded', id: 'a', now: T0 }), s);
    assert.equal(reduce(s, { type: 'upload-started', id: 'a', now: T0 }), s, 'no session yet');
    assert.equal(reduce(s, { type: 'status', id: 'a', status: 'ready', now: T0 }), s);
    assert.equal(reduce(s, { type: 'upload-started', id: 'nope', now: T0 }), s);
  });
});

describe('reduce: failures never duplicate a photo', () => {
  const uploading = () =>
    run([
      { type: 'enqueue', item: photo('a'), now: T0 },
      { type: 'session-started', id: 'a', session: session(1), now: T0 },
      { type: 'upload-started', id: 'a', now: T0 },
    ]);

  test('a dropped connection retries the same session after the backoff', () => {
    let s = reduce(uploading(), { type: 'upload-failed', id: 'a', error: 'No connection', random: 0, now: T0 });
    assert.equal(s.items.a.state, FAILED_RETRYING);
    assert.equal(s.items.a.attempts, 1);
    assert.deepEqual(nextAction(s, T0), { kind: 'idle', until: T0 + 1000 });
    const action = nextAction(s, T0 + 1000);
    assert.equal(action.kind, 'upload');
    assert.equal(action.item.session.uploadId, 'img-1');
    s = reduce(s, { type: 'upload-started', id: 'a', now: T0 + 1000 });
    s = reduce(s, { type: 'upload-failed', id: 'a', random: 0, now: T0 + 1000 });
    assert.equal(s.items.a.nextAttemptAt, T0 + 1000 + 2000);
    assert.deepEqual(s.discard, []);
  });

  test('an expired session is replaced and its pending image discarded', () => {
    let s = reduce(uploading(), { type: 'upload-failed', id: 'a', random: 0, now: T0 });
    const later = T0 + 20 * MIN;
    assert.equal(nextAction(s, later).kind, 'start-session');
    s = reduce(s, { type: 'session-started', id: 'a', session: session(2, later + 15 * MIN), now: later });
    assert.deepEqual(s.discard, ['img-1']);
    assert.deepEqual(nextAction(s, later), { kind: 'discard', uploadId: 'img-1' });
    s = reduce(s, { type: 'discarded', uploadId: 'img-1' });
    assert.equal(nextAction(s, later).kind, 'upload');
    assert.equal(nextAction(s, later).item.session.uploadId, 'img-2');
  });

  test('a refused URL (403) is not used again', () => {
    const s = reduce(uploading(), { type: 'upload-failed', id: 'a', sessionRefused: true, random: 0, now: T0 });
    assert.equal(nextAction(s, T0 + 1000).kind, 'start-session');
  });

  test('a sent photo is never sent again, even when status checks fail', () => {
    let s = reduce(uploading(), { type: 'upload-succeeded', id: 'a', now: T0 });
    for (let i = 0; i < 5; i += 1) s = reduce(s, { type: 'status-failed', id: 'a', random: 0, now: T0 });
    assert.equal(s.items.a.state, SENT);
    assert.equal(reduce(s, { type: 'upload-started', id: 'a', now: T0 }), s);
    assert.equal(nextAction(s, T0 + 10 * MIN).kind, 'check-status');
  });

  test('removing an unsent photo discards its pending image', () => {
    const s = reduce(uploading(), { type: 'remove', id: 'a', now: T0 });
    assert.deepEqual(s.items, {});
    assert.deepEqual(s.discard, ['img-1']);
  });

  test('an upload cut by a restart goes back to waiting, with its session', () => {
    const s = reduce(uploading(), { type: 'recover', now: T0 + 5 });
    assert.equal(s.items.a.state, WAITING);
    assert.equal(nextAction(s, T0 + 5).item.session.uploadId, 'img-1');
  });

  test('offline: nothing to do', () => {
    const s = run([{ type: 'enqueue', item: photo('a'), now: T0 }]);
    assert.deepEqual(nextAction(s, T0, { online: false }), { kind: 'idle', until: null });
  });

  test('one upload at a time, oldest first', () => {
    let s = run([
      { type: 'enqueue', item: photo('b'), now: T0 + 1 },
      { type: 'enqueue', item: photo('a'), now: T0 },
    ]);
    assert.equal(nextAction(s, T0 + 2).item.id, 'a');
    s = reduce(s, { type: 'session-started', id: 'a', session: session(1), now: T0 });
    s = reduce(s, { type: 'upload-started', id: 'a', now: T0 });
    assert.equal(nextAction(s, T0 + 2).kind, 'idle');
  });
});

/** A fake API and Blob Storage: scripted failures, counts of what was created. */
function fakeApi({ failPuts = 0, refusePuts = 0, online = () => true } = {}) {
  const api = {
    sessions: [],
    puts: [],
    deleted: [],
    statuses: new Map(),
    clock: T0,
    isOnline: online,
    async startSession(item) {
      const n = api.sessions.length + 1;
      api.sessions.push(item.id);
      return session(n, api.clock + 15 * MIN);
    },
    async upload(item, onProgress) {
      if (refusePuts > 0) {
        refusePuts -= 1;
        throw { status: 403 };
      }
      if (failPuts > 0) {
        failPuts -= 1;
        throw new TypeError('Failed to fetch');
      }
      await onProgress(item.sizeBytes / 2, item.sizeBytes);
      api.puts.push(item.session.uploadId);
      api.statuses.set(item.session.uploadId, { status: 'ready' });
    },
    async checkStatus(uploadId) {
      return api.statuses.get(uploadId) || { status: 'pending' };
    },
    async deleteImage(uploadId) {
      api.deleted.push(uploadId);
    },
  };
  return api;
}

describe('drive: the queue against a fake API', () => {
  test('sends each photo once and sees it ready; persisted along the way', async () => {
    const api = fakeApi();
    const storage = new MemoryQueueStorage();
    const queue = new UploadQueue({ storage, clock: () => api.clock, random: () => 0 });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    await queue.dispatch({ type: 'enqueue', item: photo('b') });
    await drive(queue, api);
    assert.deepEqual(api.sessions, ['a', 'b']);
    assert.deepEqual(api.puts, ['img-1', 'img-2']);
    assert.equal(queue.state.items.a.state, READY);
    assert.equal(queue.state.items.b.state, READY);
    assert.deepEqual((await storage.loadAll()).items.a.state, READY);
  });

  test('flaky network: retries to the same session, one photo, no duplicates', async () => {
    const api = fakeApi({ failPuts: 3 });
    const queue = new UploadQueue({ storage: new MemoryQueueStorage(), clock: () => api.clock, random: () => 0 });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    let until = await drive(queue, api);
    while (queue.state.items.a.state !== READY) {
      api.clock = until;
      until = await drive(queue, api);
    }
    assert.deepEqual(api.sessions, ['a']);
    assert.deepEqual(api.puts, ['img-1']);
    assert.equal(queue.state.items.a.attempts, 3);
  });

  test('offline for an hour: a fresh session, the stale pending image deleted, still one photo', async () => {
    let online = true;
    const api = fakeApi({ failPuts: 1, online: () => online });
    const queue = new UploadQueue({ storage: new MemoryQueueStorage(), clock: () => api.clock, random: () => 0 });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    await drive(queue, api); // session 1, the PUT fails
    online = false;
    assert.deepEqual(await drive(queue, api), null);
    api.clock += 60 * MIN;
    online = true;
    await drive(queue, api);
    assert.deepEqual(api.sessions, ['a', 'a']);
    assert.deepEqual(api.deleted, ['img-1']);
    assert.deepEqual(api.puts, ['img-2']);
    assert.equal(queue.state.items.a.state, READY);
  });

  test('a refused SAS starts a new session', async () => {
    const api = fakeApi({ refusePuts: 1 });
    const queue = new UploadQueue({ storage: new MemoryQueueStorage(), clock: () => api.clock, random: () => 0 });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    api.clock = await drive(queue, api);
    await drive(queue, api);
    assert.deepEqual(api.puts, ['img-2']);
    assert.deepEqual(api.deleted, ['img-1']);
  });

  test('a restart in the middle of an upload resumes from storage', async () => {
    const api = fakeApi();
    const storage = new MemoryQueueStorage();
    const first = new UploadQueue({ storage, clock: () => api.clock });
    await first.load();
    await first.dispatch({ type: 'enqueue', item: photo('a') });
    await first.dispatch({ type: 'session-started', id: 'a', session: session(1) });
    await first.dispatch({ type: 'upload-started', id: 'a' });
    // the tab is closed here
    const second = new UploadQueue({ storage, clock: () => api.clock });
    await second.load();
    assert.equal(second.state.items.a.state, WAITING);
    await drive(second, api);
    assert.deepEqual(api.sessions, []);
    assert.deepEqual(api.puts, ['img-1']);
    assert.equal(second.state.items.a.state, READY);
  });

  test('progress is shown but not written to storage', async () => {
    const storage = new MemoryQueueStorage();
    const seen = [];
    const queue = new UploadQueue({ storage, clock: () => T0, onChange: (s) => seen.push(s.items.a && s.items.a.progress) });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    await queue.dispatch({ type: 'session-started', id: 'a', session: session(1) });
    await queue.dispatch({ type: 'upload-started', id: 'a' });
    const saves = storage.saves;
    await queue.dispatch({ type: 'progress', id: 'a', loaded: 1, total: 4 });
    assert.equal(storage.saves, saves);
    assert.equal(seen.at(-1), 0.25);
  });

  test('"sign in again" stops the run without costing a try', async () => {
    const api = fakeApi();
    api.startSession = async () => {
      throw Object.assign(new Error('session expired'), { name: 'SessionExpiredError' });
    };
    const queue = new UploadQueue({ storage: new MemoryQueueStorage(), clock: () => api.clock });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    await assert.rejects(drive(queue, api), { name: 'SessionExpiredError' });
    assert.equal(queue.state.items.a.state, WAITING);
    assert.equal(queue.state.items.a.attempts, 0);
  });

  test('a photo whose ciphertext is gone (404 on the PUT) leaves the queue and its pending image is deleted', async () => {
    const api = fakeApi();
    api.upload = async () => {
      throw { status: 404 };
    };
    const queue = new UploadQueue({ storage: new MemoryQueueStorage(), clock: () => api.clock });
    await queue.load();
    await queue.dispatch({ type: 'enqueue', item: photo('a') });
    await drive(queue, api);
    assert.deepEqual(queue.state.items, {});
    assert.deepEqual(api.deleted, ['img-1']);
  });
});
