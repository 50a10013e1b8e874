// Send one encrypted photo to its upload URL: a single Put Blob of the v2 body from cse.js with the
// `x-ms-meta-encryptiondata` header, as the Python SDK's upload does (no DOM; XMLHttpRequest where
// there is one, for upload progress, else fetch).
//
// The upload URL is a short-lived SAS for one blob (create + write only). Retrying the same URL
// overwrites the blob: still one photo. The storage account's CORS rules must allow PUT from the
// app's origin with the headers x-ms-blob-type, x-ms-meta-encryptiondata and content-type.
//
// Failures are BlobPutError: status 0 = no connection (retry later), 403 = the URL expired or was
// refused (start a new session), others as the storage service answered.

export const PUT_HEADERS = Object.freeze({ 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream' });

export class BlobPutError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'BlobPutError';
    this.status = status; // 0 when no answer came back
  }

  get sessionRefused() {
    return this.status === 403;
  }

  get transient() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** The request headers for a v2 body with its encryptiondata metadata. */
export function putHeaders(encryptiondata) {
  if (typeof encryptiondata !== 'string' || !encryptiondata.startsWith('{')) throw new TypeError('encryptiondata must be the JSON text from encryptBlobV2');
  return { ...PUT_HEADERS, 'x-ms-meta-encryptiondata': encryptiondata };
}

const sizeOf = (body) => (typeof body.byteLength === 'number' ? body.byteLength : body.size);

/**
 * PUT `body` (Uint8Array, ArrayBuffer or Blob) to `url`. onProgress(loaded, total) as the bytes go (XMLHttpRequest only;
 * with fetch it is called once at the end). signal: an AbortSignal. Resolves on 201 Created.
 */
export function putEncryptedBlob(url, body, encryptiondata, { onProgress = () => {}, signal, timeoutMs = 120_000 } = {}) {
  const headers = putHeaders(encryptiondata);
  if (typeof XMLHttpRequest === 'function') return putWithXhr(url, body, headers, onProgress, signal, timeoutMs);
  return putWithFetch(url, body, headers, onProgress, signal, timeoutMs);
}

function putWithXhr(url, body, headers, onProgress, signal, timeoutMs) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.timeout = timeoutMs;
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      if (xhr.status === 201) {
        onProgress(sizeOf(body), sizeOf(body));
        resolve({ status: xhr.status, etag: xhr.getResponseHeader('etag') });
      } else {
        reject(new BlobPutError(xhr.status, `The photo storage answered ${xhr.status}.`));
      }
    };
    xhr.onerror = () => reject(new BlobPutError(0, 'No connection to the photo storage.'));
    xhr.ontimeout = () => reject(new BlobPutError(0, 'The upload took too long.'));
    xhr.onabort = () => reject(new BlobPutError(0, 'The upload was stopped.'));
    if (signal) {
      if (signal.aborted) {
        reject(new BlobPutError(0, 'The upload was stopped.'));
        return;
      }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(body);
  });
}

async function putWithFetch(url, body, headers, onProgress, signal, timeoutMs) {
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
  let response;
  try {
    response = await fetch(url, { method: 'PUT', headers, body, signal: AbortSignal.any ? AbortSignal.any(signals) : signals[0] });
  } catch {
    throw new BlobPutError(0, 'No connection to the photo storage.');
  }
  if (response.status !== 201) {
    await response.body?.cancel();
    throw new BlobPutError(response.status, `The photo storage answered ${response.status}.`);
  }
  onProgress(sizeOf(body), sizeOf(body));
  return { status: response.status, etag: response.headers.get('etag') };
}
