// Sending an encrypted photo (patient/js/lib/blob-put.js), on Node's fetch against a local server.
// (The XMLHttpRequest path runs in Chromium: tests/e2e/patient_lib.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { encryptBlobV2 } from '../js/lib/cse.js';
import { BlobPutError, putEncryptedBlob, putHeaders } from '../js/lib/blob-put.js';

let server;
let base;
const received = [];
let answer = 201;

before(async () => {
  server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(answer, { etag: '"0x1"' });
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

describe('putEncryptedBlob', () => {
  test('one PUT of the body with the blob type and the encryption metadata', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
    const { n, e } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const { body, metadata } = await encryptBlobV2(new Uint8Array(5000).fill(7), { kid: 'k/1', jwk: { kty: 'RSA', n, e } });
    const progress = [];
    received.length = 0;
    answer = 201;
    const result = await putEncryptedBlob(`${base}/uploads/p/img-1?sv=x&sig=y`, body, metadata.encryptiondata, { onProgress: (l, t) => progress.push([l, t]) });
    assert.deepEqual(result, { status: 201, etag: '"0x1"' });
    assert.equal(received.length, 1);
    const [put] = received;
    assert.equal(put.method, 'PUT');
    assert.equal(put.url, '/uploads/p/img-1?sv=x&sig=y');
    assert.equal(put.headers['x-ms-blob-type'], 'BlockBlob');
    assert.equal(put.headers['x-ms-meta-encryptiondata'], metadata.encryptiondata);
    assert.equal(Number(put.headers['content-length']), body.length);
    assert.deepEqual(new Uint8Array(put.body), body);
    assert.deepEqual(progress.at(-1), [body.length, body.length]);
  });

  test('a Blob body (as IndexedDB keeps it) is sent as it is', async () => {
    answer = 201;
    received.length = 0;
    const progress = [];
    await putEncryptedBlob(`${base}/b`, new Blob([new Uint8Array([1, 2, 3, 4])]), '{"a": 1}', { onProgress: (l, t) => progress.push([l, t]) });
    assert.deepEqual([...received[0].body], [1, 2, 3, 4]);
    assert.deepEqual(progress.at(-1), [4, 4]);
  });

  test('a refused URL is a 403 BlobPutError that says start a new session', async () => {
    answer = 403;
    await assert.rejects(putEncryptedBlob(`${base}/x`, new Uint8Array(3), '{"a": 1}'), (e) => e instanceof BlobPutError && e.status === 403 && e.sessionRefused && !e.transient);
  });

  test('a server error is transient', async () => {
    answer = 503;
    await assert.rejects(putEncryptedBlob(`${base}/x`, new Uint8Array(3), '{"a": 1}'), (e) => e.status === 503 && e.transient);
  });

  test('no connection is status 0, transient', async () => {
    await assert.rejects(putEncryptedBlob('http://127.0.0.1:9/x', new Uint8Array(3), '{"a": 1}'), (e) => e instanceof BlobPutError && e.status === 0 && e.transient);
  });

  test('refuses metadata that is not the encryptiondata JSON text', () => {
    assert.throws(() => putHeaders(undefined), TypeError);
    assert.throws(() => putHeaders({}), TypeError);
  });
});
