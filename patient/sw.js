// SkinVault patient app service worker.
// - Caches the app shell (this folder's HTML, CSS, JS, icons, NHS.UK assets) so the app opens
//   with no network. The shell holds no patient data.
// - Never touches API calls, photo uploads or anything on another origin: those go straight to the
//   network and are never cached (patient data stays out of Cache Storage).
// - Background Sync: when the browser says the phone is online again, it wakes any open window of
//   the app to send its outbox (the outbox needs the person's passcode key, which only a window holds).

const VERSION = "skinvault-shell-v1";
const SHELL = [
  "./",
  "index.html",
  "manifest.webmanifest",
  "config.json",
  "css/app.css",
  "icons/icon-192.png",
  "icons/icon-512.png",
  "icons/icon-maskable-512.png",
  "vendor/nhsuk/nhsuk-frontend.min.css",
  "vendor/nhsuk/nhsuk-frontend.min.js",
  "vendor/nhsuk/assets/images/favicon.ico",
  "vendor/nhsuk/assets/images/favicon.svg",
  "js/api.js",
  "js/app.js",
  "js/audit-words.js",
  "js/auth.js",
  "js/blobs.js",
  "js/bodysites.js",
  "js/config.js",
  "js/dom.js",
  "js/format.js",
  "js/idb.js",
  "js/nav.js",
  "js/outbox.js",
  "js/people.js",
  "js/session.js",
  "js/lib/blob-put.js",
  "js/lib/cse.js",
  "js/lib/jpeg-meta.js",
  "js/lib/passcode.js",
  "js/lib/photo.js",
  "js/lib/queue.js",
  "js/views/bodymap.js",
  "js/views/camera.js",
  "js/views/conversation.js",
  "js/views/folders.js",
  "js/views/outbox.js",
  "js/views/people.js",
  "js/views/photo.js",
  "js/views/profile.js",
  "js/views/sharing.js",
  "js/views/signin.js",
  "js/views/states.js",
];
// Local development only (the deployed build has no dev sign-in): cached when present.
const OPTIONAL = ["demo-users.json"];
// Fetched fresh when online (they may change on deploy), from the cache when offline.
const NETWORK_FIRST = new Set(["", "index.html", "config.json", "demo-users.json"]);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(VERSION)
      .then((cache) =>
        cache.addAll(SHELL.map((p) => new Request(p, { cache: "reload" }))).then(() =>
          Promise.all(OPTIONAL.map((p) => cache.add(new Request(p, { cache: "reload" })).catch(() => null))),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function shellPath(url) {
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return null;
  const rel = url.pathname.slice(scope.pathname.length);
  if (rel.startsWith("api/")) return null;
  return rel;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  const rel = shellPath(url);
  if (rel === null || url.pathname.includes("/api/")) return; // API, uploads, other origins: network only
  if (req.mode === "navigate") {
    event.respondWith(
      fetch(req).catch(() => caches.open(VERSION).then((c) => c.match("index.html"))),
    );
    return;
  }
  if (NETWORK_FIRST.has(rel)) {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(VERSION).then((c) => c.put(req, copy));
          }
          return res;
        })
        .catch(() => caches.open(VERSION).then((c) => c.match(req, { ignoreSearch: true }))),
    );
    return;
  }
  event.respondWith(
    caches.open(VERSION).then((c) => c.match(req, { ignoreSearch: true }).then((hit) => hit || fetch(req))),
  );
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "skinvault-outbox") return;
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((clients) => {
      for (const client of clients) client.postMessage({ type: "send-outbox" });
    }),
  );
});
