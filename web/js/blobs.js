// Decrypted photos arrive as blobs (fetched with the bearer token) and are shown through object
// URLs. Every URL is tracked and revoked when the view changes and at sign-out.

import { api } from "./api.js";

const live = new Set();

export function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  live.add(url);
  return url;
}

export function revoke(url) {
  if (url && live.delete(url)) URL.revokeObjectURL(url);
}

export function revokeAll() {
  for (const url of live) URL.revokeObjectURL(url);
  live.clear();
}

export function liveObjectUrls() {
  return live.size;
}

function filenameFrom(res, fallback) {
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallback;
  return name.replace(/[\\/]/g, "_");
}

/** Fetch a photo at a size and return an object URL for it. */
export async function loadImage(imageId, size, signal) {
  const res = await api.imageContent(imageId, size, signal);
  const blob = await res.blob();
  return objectUrl(blob);
}

/** Save a response body as a file through a short-lived object URL. */
export async function saveResponse(res, fallbackName) {
  const blob = await res.blob();
  const url = objectUrl(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filenameFrom(res, fallbackName);
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => revoke(url), 30000);
  return a.download;
}

/**
 * Loads thumbnails as they scroll into view, a few at a time.
 * onError(err) receives failures other than aborts (e.g. the share was revoked).
 */
export class LazyImages {
  constructor({ signal, onError, size = "thumbnail", concurrency = 6, rootMargin = "300px" }) {
    this.signal = signal;
    this.onError = onError;
    this.size = size;
    this.concurrency = concurrency;
    this.queue = [];
    this.active = 0;
    this.observer =
      "IntersectionObserver" in window
        ? new IntersectionObserver((entries) => this.#seen(entries), { rootMargin })
        : null;
    signal.addEventListener("abort", () => this.observer?.disconnect());
  }

  observe(img, imageId) {
    img.dataset.imageId = imageId;
    img.dataset.state = "waiting";
    if (this.observer) this.observer.observe(img);
    else this.#enqueue(img);
  }

  #seen(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      this.observer.unobserve(entry.target);
      this.#enqueue(entry.target);
    }
  }

  #enqueue(img) {
    this.queue.push(img);
    this.#pump();
  }

  #pump() {
    while (this.active < this.concurrency && this.queue.length && !this.signal.aborted) {
      const img = this.queue.shift();
      this.active += 1;
      img.dataset.state = "loading";
      loadImage(img.dataset.imageId, this.size, this.signal)
        .then((url) => {
          if (this.signal.aborted) {
            revoke(url);
            return;
          }
          img.addEventListener("load", () => (img.dataset.state = "loaded"), { once: true });
          img.src = url;
        })
        .catch((err) => {
          img.dataset.state = "failed";
          if (err?.name !== "AbortError" && !this.signal.aborted) this.onError?.(err);
        })
        .finally(() => {
          this.active -= 1;
          this.#pump();
        });
    }
  }
}
