// Azure Storage client-side encryption v2, byte-compatible with azure-storage-blob (Python) v2.
//
// Format (copied from azure/storage/blob/_encryption.py, encryption_version="2.0"):
// - a random 32-byte AES-256 content key per blob;
// - the plaintext is cut into 4 MiB regions; each region is stored as
//   nonce (12 bytes) + AES-GCM ciphertext + tag (16 bytes). The nonce is the region's index as a
//   12-byte big-endian counter (region 0 -> eleven zero bytes and 0x00), exactly as the Python SDK
//   writes it; the SDK's decryption checks the counter, so swapped regions are refused;
// - an empty plaintext is an empty body (no regions);
// - the content key is wrapped together with a version prefix: RSA-OAEP-256("2.0\0\0\0\0\0" + key)
//   under the public half of the key-encryption key (KEK);
// - the blob carries the metadata `encryptiondata`, a JSON text with WrappedContentKey,
//   EncryptionAgent {Protocol "2.0", EncryptionAlgorithm "AES_GCM_256"}, EncryptedRegionInfo,
//   KeyWrappingMetadata and EncryptionMode "FullBlob", in the Python SDK's key order and spacing.
//
// WebCrypto only (globalThis.crypto.subtle): the same module runs in Chromium and in Node 20.
// The phone holds only the public key: it can encrypt, never decrypt what is in the cloud.
// decryptBlobV2 exists for tests and tools that hold the private key.

export const PROTOCOL = '2.0';
export const CIPHER = 'AES_GCM_256';
export const KEY_WRAP_ALGORITHM = 'RSA-OAEP-256';
export const REGION_DATA_LENGTH = 4 * 1024 * 1024;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
export const MIN_RSA_BITS = 2048;
export const ENCRYPTION_LIBRARY = 'SkinVault patient app (WebCrypto) 1.0';
export const REGION_CONCURRENCY = 2;

const CEK_PREFIX = new Uint8Array([0x32, 0x2e, 0x30, 0, 0, 0, 0, 0]); // "2.0" padded to 8 bytes
const OVERHEAD = NONCE_LENGTH + TAG_LENGTH;
const PRIVATE_JWK_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

/** Why a blob cannot be encrypted or decrypted. `code` is stable; the message is for logs and tests. */
export class CseError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CseError';
    this.code = code; // bad-key | unsupported-encryption | metadata-invalid | integrity
  }
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new CseError('unsupported-encryption', 'WebCrypto is not available (a secure context is needed).');
  return s;
}

/** Number of regions a plaintext of `length` bytes is cut into (0 for an empty one). */
export function regionCount(length) {
  return Math.ceil(length / REGION_DATA_LENGTH);
}

/** Size of the v2 body for a plaintext of `length` bytes. */
export function encryptedLength(length) {
  return length + regionCount(length) * OVERHEAD;
}

/** The Python SDK's nonce for region `index`: the index as a 12-byte big-endian counter. */
export function regionNonce(index) {
  const nonce = new Uint8Array(NONCE_LENGTH);
  let value = index;
  for (let i = NONCE_LENGTH - 1; i >= 0 && value > 0; i -= 1) {
    nonce[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return nonce;
}

/**
 * Encrypt `plaintext` in v2 regions under the raw 32-byte content key `contentKey`.
 * One output buffer of the final size; each region's ciphertext is copied straight into it.
 * Up to `concurrency` regions are in flight at once (WebCrypto works off the main thread, and a
 * call has a fixed cost), so at most that many region-sized results exist besides the output.
 */
export async function encryptRegionsV2(plaintext, contentKey, { concurrency = REGION_CONCURRENCY } = {}) {
  const bytes = asBytes(plaintext, 'plaintext');
  if (!(contentKey instanceof Uint8Array) || contentKey.length !== 32) {
    throw new CseError('bad-key', 'The content key must be 32 bytes.');
  }
  const key = await subtle().importKey('raw', contentKey, { name: 'AES-GCM' }, false, ['encrypt']);
  const out = new Uint8Array(encryptedLength(bytes.length));
  const regions = regionCount(bytes.length);
  const encryptRegion = async (index) => {
    const start = index * REGION_DATA_LENGTH;
    const nonce = regionNonce(index);
    const sealed = await subtle().encrypt(
      { name: 'AES-GCM', iv: nonce, tagLength: TAG_LENGTH * 8 },
      key,
      bytes.subarray(start, Math.min(start + REGION_DATA_LENGTH, bytes.length)),
    );
    const at = index * (REGION_DATA_LENGTH + OVERHEAD);
    out.set(nonce, at);
    out.set(new Uint8Array(sealed), at + NONCE_LENGTH);
  };
  let next = 0;
  const worker = async () => {
    while (next < regions) {
      const index = next;
      next += 1;
      await encryptRegion(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, regions)) }, worker));
  return out;
}

const wrappingKeys = new Map(); // "n.e" -> Promise<CryptoKey>: one import per KEK version, not per photo

/**
 * Import the KEK's public JWK for RSA-OAEP-256 wrapping. Refuses private keys, other algorithms
 * and keys under 2048 bits. Only kty/n/e are given to WebCrypto (the API's JWK says
 * key_ops ["wrapKey"], which WebCrypto would hold against an "encrypt" usage).
 */
export async function importWrappingKey(jwk) {
  if (!jwk || typeof jwk !== 'object' || jwk.kty !== 'RSA') throw new CseError('bad-key', 'The key must be an RSA public JWK.');
  if (PRIVATE_JWK_FIELDS.some((field) => field in jwk)) throw new CseError('bad-key', 'The key carries private fields.');
  if (jwk.alg !== undefined && jwk.alg !== KEY_WRAP_ALGORITHM) throw new CseError('bad-key', `The key's alg must be ${KEY_WRAP_ALGORITHM}.`);
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string' || !jwk.n || !jwk.e) throw new CseError('bad-key', 'The key has no modulus or exponent.');
  const id = `${jwk.n}.${jwk.e}`;
  if (!wrappingKeys.has(id)) {
    const imported = importPublicRsa(jwk.n, jwk.e);
    imported.catch(() => wrappingKeys.delete(id));
    wrappingKeys.set(id, imported);
  }
  return wrappingKeys.get(id);
}

async function importPublicRsa(n, e) {
  let modulus;
  try {
    modulus = base64UrlDecode(n);
  } catch {
    throw new CseError('bad-key', 'The key modulus is not base64url.');
  }
  let first = 0;
  while (first < modulus.length && modulus[first] === 0) first += 1;
  const bits = (modulus.length - first) * 8 - (first < modulus.length ? Math.clz32(modulus[first]) - 24 : 0);
  if (bits < MIN_RSA_BITS) throw new CseError('bad-key', `The key is ${bits} bits; at least ${MIN_RSA_BITS} are required.`);
  try {
    return await subtle().importKey('jwk', { kty: 'RSA', n, e, ext: true }, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
  } catch (error) {
    throw new CseError('bad-key', `The key could not be imported (${error.message}).`);
  }
}

/**
 * Encrypt a blob as azure-storage-blob v2 does.
 * kek: {kid, jwk} with jwk the KEK's public RSA JWK, or the `encryption` object
 * POST /folders/{id}/uploads and GET /upload-key return ({protocol: "2.0", kid, alg, jwk}). Returns {body, metadata: {encryptiondata}}: PUT `body` with the
 * header `x-ms-meta-encryptiondata: <metadata.encryptiondata>`.
 */
export async function encryptBlobV2(plaintext, kek) {
  const bytes = asBytes(plaintext, 'plaintext');
  const kid = kek && (kek.kid || (kek.jwk && kek.jwk.kid));
  if (typeof kid !== 'string' || !kid) throw new CseError('bad-key', 'The key has no kid.');
  // The API's `encryption` object ({protocol, kid, alg, jwk}) can be passed as it is.
  if (kek.protocol !== undefined && kek.protocol !== PROTOCOL) throw new CseError('unsupported-encryption', `The server asked for protocol ${kek.protocol}.`);
  if (kek.alg !== undefined && kek.alg !== KEY_WRAP_ALGORITHM) throw new CseError('unsupported-encryption', `The server asked for key wrapping ${kek.alg}.`);
  const wrappingKey = await importWrappingKey(kek.jwk);
  const contentKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const toWrap = new Uint8Array(CEK_PREFIX.length + contentKey.length);
  toWrap.set(CEK_PREFIX);
  toWrap.set(contentKey, CEK_PREFIX.length);
  try {
    // Wrapping and encrypting are independent: let WebCrypto do both at once.
    const [wrapped, body] = await Promise.all([subtle().encrypt({ name: 'RSA-OAEP' }, wrappingKey, toWrap), encryptRegionsV2(bytes, contentKey)]);
    return { body, metadata: { encryptiondata: encryptionDataJson(kid, new Uint8Array(wrapped)) } };
  } finally {
    toWrap.fill(0);
    contentKey.fill(0);
  }
}

/** The `encryptiondata` text, in the Python SDK's key order and json.dumps spacing. */
export function encryptionDataJson(kid, wrappedKey) {
  const data = {
    WrappedContentKey: { KeyId: kid, EncryptedKey: base64Encode(wrappedKey), Algorithm: KEY_WRAP_ALGORITHM },
    EncryptionAgent: { Protocol: PROTOCOL, EncryptionAlgorithm: CIPHER },
    EncryptedRegionInfo: { DataLength: REGION_DATA_LENGTH, NonceLength: NONCE_LENGTH },
    KeyWrappingMetadata: { EncryptionLibrary: ENCRYPTION_LIBRARY },
    EncryptionMode: 'FullBlob',
  };
  return pythonJsonDumps(data);
}

/**
 * Check an `encryptiondata` text is v2 AES-GCM and return what decryption needs.
 * Refuses v1 (AES-CBC), other protocols and ciphers, and incomplete metadata.
 */
export function parseEncryptionData(encryptiondataJson) {
  let data;
  try {
    data = typeof encryptiondataJson === 'string' ? JSON.parse(encryptiondataJson) : encryptiondataJson;
  } catch {
    throw new CseError('metadata-invalid', 'The encryption metadata is not JSON.');
  }
  if (!data || typeof data !== 'object') throw new CseError('metadata-invalid', 'The encryption metadata is not an object.');
  const agent = data.EncryptionAgent;
  if (!agent || typeof agent !== 'object') throw new CseError('metadata-invalid', 'EncryptionAgent is missing.');
  if (agent.Protocol !== PROTOCOL) throw new CseError('unsupported-encryption', `Protocol ${String(agent.Protocol).slice(0, 20)} is not ${PROTOCOL}.`);
  if (agent.EncryptionAlgorithm !== CIPHER) throw new CseError('unsupported-encryption', `Cipher ${String(agent.EncryptionAlgorithm).slice(0, 20)} is not ${CIPHER}.`);
  if ('ContentEncryptionIV' in data) throw new CseError('metadata-invalid', 'A v1 IV is present in v2 metadata.');
  if ((data.EncryptionMode ?? 'FullBlob') !== 'FullBlob') throw new CseError('metadata-invalid', 'EncryptionMode is not FullBlob.');
  const region = data.EncryptedRegionInfo;
  if (!region || !Number.isSafeInteger(region.DataLength) || region.DataLength <= 0 || region.NonceLength !== NONCE_LENGTH) {
    throw new CseError('metadata-invalid', 'EncryptedRegionInfo is missing or not 12-byte nonces.');
  }
  const wrapped = data.WrappedContentKey;
  if (!wrapped || typeof wrapped.KeyId !== 'string' || !wrapped.KeyId || typeof wrapped.EncryptedKey !== 'string' || typeof wrapped.Algorithm !== 'string') {
    throw new CseError('metadata-invalid', 'WrappedContentKey is incomplete.');
  }
  let encryptedKey;
  try {
    encryptedKey = base64Decode(wrapped.EncryptedKey);
  } catch {
    throw new CseError('metadata-invalid', 'EncryptedKey is not base64.');
  }
  if (encryptedKey.length === 0) throw new CseError('metadata-invalid', 'EncryptedKey is empty.');
  return { kid: wrapped.KeyId, algorithm: wrapped.Algorithm, encryptedKey, dataLength: region.DataLength };
}

// The per-region nonce encodings azure-storage-blob accepts (Python, Java, .NET). One encoding must
// hold for every region of a blob, as the SDK enforces (a mix would let a moved region through).
const NONCE_ENCODINGS = {
  python: (index) => regionNonce(index),
  java: (index) => {
    const nonce = new Uint8Array(NONCE_LENGTH);
    new DataView(nonce.buffer).setBigUint64(0, BigInt(index), false);
    return nonce;
  },
  dotnet: (index) => {
    const nonce = new Uint8Array(NONCE_LENGTH);
    new DataView(nonce.buffer).setBigUint64(NONCE_LENGTH - 8, BigInt(index + 1), true);
    return nonce;
  },
};

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Decrypt a v2 blob. unwrapKey: async (wrappedKey: Uint8Array, kid, algorithm) => Uint8Array
 * (the 40 unwrapped bytes: the "2.0" prefix and the content key). Throws CseError on anything
 * altered: a flipped bit, reordered or truncated regions, a wrong key or prefix.
 */
export async function decryptBlobV2(body, encryptiondataJson, unwrapKey) {
  const bytes = asBytes(body, 'body');
  const info = parseEncryptionData(encryptiondataJson);
  let unwrapped;
  try {
    unwrapped = new Uint8Array(await unwrapKey(info.encryptedKey, info.kid, info.algorithm));
  } catch (error) {
    if (error instanceof CseError) throw error;
    throw new CseError('bad-key', `The content key could not be unwrapped (${error.message}).`);
  }
  if (unwrapped.length !== CEK_PREFIX.length + 32 || !sameBytes(unwrapped.subarray(0, CEK_PREFIX.length), CEK_PREFIX)) {
    throw new CseError('metadata-invalid', 'The unwrapped content key does not carry the 2.0 prefix.');
  }
  const key = await subtle().importKey('raw', unwrapped.subarray(CEK_PREFIX.length), { name: 'AES-GCM' }, false, ['decrypt']);
  unwrapped.fill(0);

  const regionLength = info.dataLength + OVERHEAD;
  const regions = Math.ceil(bytes.length / regionLength);
  const lastLength = bytes.length - (regions - 1) * regionLength;
  if (regions > 0 && lastLength <= OVERHEAD) throw new CseError('integrity', 'The last region is truncated.');
  const out = new Uint8Array(bytes.length - regions * OVERHEAD);
  let candidates = Object.values(NONCE_ENCODINGS);
  for (let index = 0; index < regions; index += 1) {
    const start = index * regionLength;
    const region = bytes.subarray(start, Math.min(start + regionLength, bytes.length));
    const nonce = region.subarray(0, NONCE_LENGTH);
    candidates = candidates.filter((encode) => sameBytes(encode(index), nonce));
    if (candidates.length === 0) throw new CseError('integrity', `Region ${index} is out of order.`);
    let plain;
    try {
      plain = await subtle().decrypt({ name: 'AES-GCM', iv: nonce, tagLength: TAG_LENGTH * 8 }, key, region.subarray(NONCE_LENGTH));
    } catch {
      throw new CseError('integrity', `Region ${index} failed authentication.`);
    }
    out.set(new Uint8Array(plain), index * info.dataLength);
  }
  return out;
}

// ------------------------------------------------------------------ helpers

function asBytes(value, name) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new CseError('bad-input', `${name} must be bytes (Uint8Array).`);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (what Python's base64.b64encode writes). */
export function base64Encode(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + '=';
  }
  return out;
}

/** Decode standard or URL-safe base64 (padding optional). Throws on any other character. */
export function base64Decode(text) {
  const clean = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (/[^A-Za-z0-9+/]/.test(clean) || clean.length % 4 === 1) throw new Error('not base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const ch of clean) {
    value = (value << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o] = (value >> bits) & 0xff;
      o += 1;
    }
  }
  return out;
}

export function base64UrlDecode(text) {
  return base64Decode(text);
}

/** JSON text as Python's json.dumps writes it by default: ", " and ": " separators, ASCII only. */
export function pythonJsonDumps(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
    .join(', ')}}`;
}
