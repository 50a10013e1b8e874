// Prepare a photo on the phone before anything is stored or sent (browser only: needs
// createImageBitmap and a canvas; no DOM is changed).
//
//   1. read the capture time from the file's EXIF (JPEG) before anything else is thrown away;
//   2. decode with createImageBitmap(file, {imageOrientation: 'from-image'}): the EXIF
//      orientation is applied to the pixels;
//   3. draw to a canvas and encode a new JPEG (quality 0.92) at full resolution;
//   4. stripAllButCaptureTime: the only metadata left is DateTimeOriginal (+ offset) and
//      Orientation = 1 (jpeg-meta.js explains what goes).
//
// Refused here, with a plain message (PhotoUnreadable): files the browser cannot decode (HEIC in
// Chromium, damaged files, non-images), and photos over the server's limit of 60 million pixels.

import { checkJpeg, isJpeg, JpegUnreadable, readExif, stripAllButCaptureTime } from './jpeg-meta.js';

export const MAX_PIXELS = 60_000_000; // the server's MAX_IMAGE_PIXELS
export const JPEG_QUALITY = 0.92;
// Some browsers (Safari on iPhone) cannot draw a canvas larger than this; a photo bigger than the
// canvas allows is scaled down to fit rather than refused, and `scaled` says so.
export const FALLBACK_CANVAS_PIXELS = 16_777_216;

export const UNREADABLE_MESSAGE = "This file can't be used. Choose a photo saved as JPEG or PNG, or take the photo again with the app.";
export const HEIC_MESSAGE =
  "This photo is in HEIC format, which this browser can't open. On iPhone, go to Settings, Camera, Formats and choose Most Compatible, or take the photo with the app.";

export class PhotoUnreadable extends Error {
  constructor(message = UNREADABLE_MESSAGE, detail = '') {
    super(message);
    this.name = 'PhotoUnreadable';
    this.detail = detail; // for developers; never shown
  }
}

/** True for an ISO-BMFF HEIF/HEIC/AVIF-family file ("ftyp" box with a HEIF brand). */
export function looksLikeHeic(bytes) {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'ftyp') return false;
  const brand = String.fromCharCode(...bytes.subarray(8, 12));
  return ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand);
}

function makeCanvas(width, height) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

async function encodeJpeg(canvas, quality) {
  if (typeof canvas.convertToBlob === 'function') return canvas.convertToBlob({ type: 'image/jpeg', quality });
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

async function drawAndEncode(bitmap, width, height, quality) {
  const canvas = makeCanvas(width, height);
  try {
    const context = canvas.getContext('2d', { alpha: false });
    if (!context) return null;
    context.fillStyle = '#fff'; // transparent PNG areas become white, not black
    context.fillRect(0, 0, width, height);
    context.drawImage(bitmap, 0, 0, width, height);
    const blob = await encodeJpeg(canvas, quality);
    return blob && blob.size > 0 ? new Uint8Array(await blob.arrayBuffer()) : null;
  } catch {
    return null;
  } finally {
    canvas.width = 0; // let the browser free the pixels now
    canvas.height = 0;
  }
}

/**
 * blobOrFile: a File from the gallery or a Blob from the camera.
 * options.captureTime: used when the file carries none (a camera frame); ISO 8601.
 * Returns {jpeg: Uint8Array, captureTime, width, height, scaled}.
 */
export async function preparePhoto(blobOrFile, { quality = JPEG_QUALITY, maxPixels = MAX_PIXELS, captureTime = null } = {}) {
  const head = new Uint8Array(await blobOrFile.slice(0, 16).arrayBuffer());
  const heic = looksLikeHeic(head);
  let time = null;
  if (isJpeg(head)) {
    try {
      const bytes = new Uint8Array(await blobOrFile.arrayBuffer());
      checkJpeg(bytes); // a truncated file would decode to a part-grey picture: refuse it instead
      time = readExif(bytes).captureTime;
    } catch (error) {
      if (error instanceof JpegUnreadable) throw new PhotoUnreadable(UNREADABLE_MESSAGE, error.detail);
      throw error;
    }
  }
  time = time || captureTime;

  let bitmap;
  try {
    bitmap = await createImageBitmap(blobOrFile, { imageOrientation: 'from-image' });
  } catch (error) {
    throw new PhotoUnreadable(heic ? HEIC_MESSAGE : UNREADABLE_MESSAGE, String(error && error.message));
  }
  try {
    const { width, height } = bitmap;
    if (!width || !height) throw new PhotoUnreadable(UNREADABLE_MESSAGE, 'empty image');
    if (width * height > maxPixels) {
      const megapixels = Math.floor(maxPixels / 1_000_000);
      throw new PhotoUnreadable(`This photo is too big to send (more than ${megapixels} megapixels). Take the photo again at a lower resolution.`, `${width}x${height}`);
    }
    let outWidth = width;
    let outHeight = height;
    let encoded = await drawAndEncode(bitmap, width, height, quality);
    if (!encoded && width * height > FALLBACK_CANVAS_PIXELS) {
      const scale = Math.sqrt(FALLBACK_CANVAS_PIXELS / (width * height));
      outWidth = Math.max(1, Math.floor(width * scale));
      outHeight = Math.max(1, Math.floor(height * scale));
      encoded = await drawAndEncode(bitmap, outWidth, outHeight, quality);
    }
    if (!encoded) throw new PhotoUnreadable(UNREADABLE_MESSAGE, 'the canvas could not encode a JPEG');
    return { jpeg: stripAllButCaptureTime(encoded, time), captureTime: time, width: outWidth, height: outHeight, scaled: outWidth !== width };
  } finally {
    bitmap.close();
  }
}
