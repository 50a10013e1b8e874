// Photos come from the API as decrypted JPEG bodies (fetched with the bearer token) and are shown
// through object URLs, revoked when the screen changes and at sign-out. Nothing is cached.

import { api } from "./api.js";

const live = new Set();

export function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  live.add(url);
  return url;
}

export function revokeAll() {
  for (const url of live) URL.revokeObjectURL(url);
  live.clear();
}

/** Fill an <img> with a photo at a size; resolves with the object URL (or null on failure). */
export async function loadInto(img, imageId, size, signal) {
  try {
    const blob = await api.imageContent(imageId, size, signal);
    if (signal?.aborted) return null;
    const url = objectUrl(blob);
    img.src = url;
    img.dataset.state = "loaded";
    return url;
  } catch (err) {
    img.dataset.state = "failed";
    if (err?.name === "SessionExpiredError") throw err;
    return null;
  }
}

/** Save a response body as a file through a short-lived object URL. */
export async function saveResponse(res, fallbackName) {
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const url = objectUrl(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = (m ? decodeURIComponent(m[1]) : fallbackName).replace(/[\\/]/g, "_");
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  return a.download;
}
