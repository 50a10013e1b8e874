// SkinVault clinician viewer: boot, routing, and the states every view shares.

import { NotAvailableError, SessionExpiredError } from "./api.js";
import { authMode, currentUser, getToken, loadConfig, signOut } from "./auth.js";
import { revokeAll } from "./blobs.js";
import { clear } from "./dom.js";
import { readSession, rememberReturn, setNotice } from "./session.js";
import { forgetAll } from "./store.js";
import { caseView } from "./views/case.js";
import { compareView } from "./views/compare.js";
import { photoView } from "./views/photo.js";
import { requestPhotosView } from "./views/request.js";
import { researchListView, researchStudyView } from "./views/research.js";
import { signInView } from "./views/signin.js";
import { errorState, notFoundState, revokedState } from "./views/states.js";
import { worklistView } from "./views/worklist.js";

const ROUTES = [
  { name: "signin", pattern: /^\/signin\/?$/, view: signInView, public: true },
  { name: "worklist", pattern: /^\/$/, view: worklistView },
  { name: "request-photos", pattern: /^\/requests\/new\/?$/, view: requestPhotosView },
  { name: "case", pattern: /^\/cases\/([^/]+)\/?$/, view: caseView, keys: ["caseId"] },
  { name: "photo", pattern: /^\/cases\/([^/]+)\/photos\/([^/]+)\/?$/, view: photoView, keys: ["caseId", "imageId"] },
  { name: "compare", pattern: /^\/cases\/([^/]+)\/compare\/?$/, view: compareView, keys: ["caseId"] },
  { name: "research", pattern: /^\/research\/?$/, view: researchListView },
  { name: "research-study", pattern: /^\/research\/studies\/([^/]+)\/?$/, view: researchStudyView, keys: ["studyId"] },
];

let current = null;
let renderSeq = 0;
const main = () => document.getElementById("maincontent");

function match(pathname) {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (m) {
      const params = {};
      (route.keys || []).forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]);
      });
      return { route, params };
    }
  }
  return null;
}

function here() {
  return location.pathname + location.search;
}

function teardown() {
  if (!current) return;
  current.controller.abort();
  for (const fn of current.cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // cleanup must not stop navigation
    }
  }
  revokeAll();
  current = null;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

function setState(name, state) {
  const el = main();
  el.dataset.view = name;
  el.dataset.state = state;
}

function updateHeader(signedIn) {
  const nav = document.getElementById("account");
  const name = document.getElementById("account-name");
  const user = signedIn ? currentUser() : null;
  nav.hidden = !user;
  name.textContent = user ? user.name : "";
}

function sendToSignIn(reason) {
  if (current) {
    current.controller.abort();
  }
  rememberReturn(here());
  if (reason) setNotice(reason);
  navigate("/signin", { replace: true });
}

/** Errors that every view treats the same way. Returns true when handled. */
function handleCommon(err, ctx) {
  if (err?.name === "AbortError" || ctx.signal.aborted) return true;
  if (err instanceof SessionExpiredError) {
    sendToSignIn("expired");
    return true;
  }
  if (err instanceof NotAvailableError && ctx.routeName !== "worklist") {
    teardownView(ctx);
    revokedState(ctx);
    setState(ctx.routeName, "revoked");
    return true;
  }
  return false;
}

function teardownView(ctx) {
  for (const fn of ctx.cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // ignore
    }
  }
  revokeAll();
}

function makeContext(route, params, url, controller, seq) {
  const cleanups = [];
  const ctx = {
    routeName: route.name,
    params,
    query: url.searchParams,
    signal: controller.signal,
    cleanups,
    config: null,
    onCleanup: (fn) => cleanups.push(fn),
    /** Replace the page content (ignored when the user has already moved on). */
    show(...nodes) {
      if (seq !== renderSeq || controller.signal.aborted) return false;
      const el = clear(main());
      for (const n of nodes.flat()) if (n) el.append(n);
      return true;
    },
    title(text) {
      document.title = `${text} - SkinVault clinician viewer - NHS`;
    },
    focusHeading() {
      const h1 = main().querySelector("h1");
      if (h1) {
        h1.setAttribute("tabindex", "-1");
        h1.focus({ preventScroll: false });
      }
    },
    loading(text) {
      setState(route.name, "loading");
    },
    ready() {
      if (seq !== renderSeq) return;
      setState(route.name, "ready");
      performance.mark(`skinvault:ready:${route.name}`); // read by bench/bench_web.py
    },
    /** For errors from actions inside a view: true when the app dealt with it. */
    handled(err) {
      return handleCommon(err, ctx);
    },
    fail(err) {
      if (handleCommon(err, ctx)) return;
      teardownView(ctx);
      errorState(ctx, err, () => render());
      setState(route.name, "error");
    },
    rerender: () => render(),
    navigate,
  };
  return ctx;
}

async function render() {
  teardown();
  const seq = ++renderSeq;
  const url = new URL(location.href);
  const found = match(url.pathname);
  const controller = new AbortController();
  const config = await loadConfig();
  if (seq !== renderSeq) return;
  if (!found) {
    const ctx = makeContext({ name: "not-found" }, {}, url, controller, seq);
    current = { controller, cleanups: ctx.cleanups };
    updateHeader(Boolean(await getToken()));
    notFoundState(ctx);
    setState("not-found", "ready");
    return;
  }
  const { route, params } = found;
  const ctx = makeContext(route, params, url, controller, seq);
  ctx.config = config;
  current = { controller, cleanups: ctx.cleanups };
  if (!route.public) {
    const hadSession = authMode() === "dev" && Boolean(readSession());
    const token = await getToken();
    if (seq !== renderSeq) return;
    if (!token) {
      rememberReturn(here());
      if (hadSession) setNotice("expired");
      navigate("/signin", { replace: true });
      return;
    }
    updateHeader(true);
  } else {
    updateHeader(Boolean(await getToken()));
  }
  setState(route.name, "loading");
  try {
    await route.view(ctx);
  } catch (err) {
    ctx.fail(err);
  }
}

async function onSignOut() {
  teardown();
  revokeAll();
  forgetAll();
  if (await signOut()) return; // on its way to Entra ID's sign-out page
  setNotice("signed-out");
  location.replace("/signin");
}

function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const href = a.getAttribute("href");
  if (!href.startsWith("/") || href.startsWith("//") || href.startsWith("/api/")) return;
  e.preventDefault();
  if (href === here()) {
    render();
    return;
  }
  navigate(href);
}

async function initFrontend() {
  document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
  try {
    const nhsuk = await import("/vendor/nhsuk/nhsuk-frontend.min.js");
    nhsuk.initSkipLinks?.();
  } catch {
    // styles still work without the component scripts
  }
}

function boot() {
  initFrontend();
  document.addEventListener("click", onLinkClick);
  document.getElementById("sign-out").addEventListener("click", onSignOut);
  window.addEventListener("popstate", () => render());
  // Someone signing out in another tab, or the session being cleared, ends this one too.
  window.addEventListener("storage", (e) => {
    if (e.storageArea === sessionStorage && e.key === null) location.replace("/signin");
  });
  render();
}

boot();
