// SkinVault patient app: boot, routing (?page=... so the app works under any base path, /app/
// locally and / in Azure), the lock, and the states every screen shares.

import { SessionExpiredError } from "./api.js";
import { getToken } from "./auth.js";
import { revokeAll } from "./blobs.js";
import { loadConfig } from "./config.js";
import { clear } from "./dom.js";
import { pageUrl } from "./nav.js";
import { onOutboxChange, requestBackgroundSync, sendPending } from "./outbox.js";
import { forgetPerson, isUnlocked, lockAll, person } from "./people.js";
import { currentSub, rememberReturn, setNotice } from "./session.js";
import { cameraView } from "./views/camera.js";
import { inviteView, messagesView } from "./views/conversation.js";
import { folderEditView, folderView, foldersView } from "./views/folders.js";
import { passcodeNewView, peopleView, unlockView } from "./views/people.js";
import { compareView, photoView } from "./views/photo.js";
import { profileView } from "./views/profile.js";
import { accountView, auditView, shareView, sharesView } from "./views/sharing.js";
import { callbackView, signInView } from "./views/signin.js";
import { errorState, notFoundState } from "./views/states.js";

// access: "public" (anyone), "token" (signed in, passcode not needed yet), default: unlocked
const ROUTES = {
  signin: { view: signInView, access: "public" },
  callback: { view: callbackView, access: "public" },
  people: { view: peopleView, access: "public" },
  unlock: { view: unlockView, access: "public" },
  passcode: { view: passcodeNewView, access: "token" },
  home: { view: foldersView },
  "new-folder": { view: folderEditView },
  "edit-folder": { view: folderEditView },
  folder: { view: folderView },
  camera: { view: cameraView },
  photo: { view: photoView },
  compare: { view: compareView },
  profile: { view: profileView },
  share: { view: shareView },
  shares: { view: sharesView },
  audit: { view: auditView },
  account: { view: accountView },
  invite: { view: inviteView },
  messages: { view: messagesView },
};

let current = null;
let renderSeq = 0;
const main = () => document.getElementById("maincontent");

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
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

function setState(name, state) {
  const el = main();
  el.dataset.view = name;
  el.dataset.state = state;
}

async function updateHeader(unlocked) {
  const nav = document.getElementById("account");
  const nameEl = document.getElementById("account-name");
  const p = unlocked ? await person(currentSub()) : null;
  nav.hidden = !p;
  nameEl.textContent = p ? p.name : "";
}

function updateOnline() {
  document.getElementById("offline-banner").hidden = navigator.onLine;
}

function makeContext(name, url, controller, seq) {
  const cleanups = [];
  const ctx = {
    routeName: name,
    query: url.searchParams,
    signal: controller.signal,
    cleanups,
    onCleanup: (fn) => cleanups.push(fn),
    show(...nodes) {
      if (seq !== renderSeq || controller.signal.aborted) return false;
      const el = clear(main());
      for (const n of nodes.flat()) if (n) el.append(n);
      return true;
    },
    title(text) {
      document.title = `${text} - SkinVault - NHS`;
    },
    focusHeading() {
      const h1 = main().querySelector("h1");
      if (h1) {
        h1.setAttribute("tabindex", "-1");
        h1.focus({ preventScroll: false });
      }
    },
    ready() {
      if (seq === renderSeq) setState(name, "ready");
    },
    handled(err) {
      if (err?.name === "AbortError" || controller.signal.aborted) return true;
      if (err instanceof SessionExpiredError) {
        setNotice("expired");
        navigate(pageUrl("signin"), { replace: true });
        return true;
      }
      return false;
    },
    fail(err) {
      if (ctx.handled(err)) return;
      errorState(ctx, err, () => render());
      setState(name, "error");
    },
    rerender: () => render(),
    navigate,
    pageUrl,
  };
  return ctx;
}

/** Where someone must go before this page (sign in, choose a passcode, unlock); they come back after. */
async function gate(route) {
  const redirect = await needs(route);
  if (redirect) rememberReturn(location.search, currentSub());
  return redirect;
}

async function needs(route) {
  if (route.access === "public") return null;
  const sub = currentSub();
  if (!sub) return pageUrl("signin");
  const p = await person(sub);
  if (route.access === "token") return getToken(sub) ? null : pageUrl("signin");
  if (!p) return getToken(sub) ? pageUrl("passcode") : pageUrl("signin");
  if (!isUnlocked(sub)) return pageUrl("unlock", { sub });
  if (!getToken(sub) && navigator.onLine) {
    setNotice("expired");
    return pageUrl("signin", { sub });
  }
  return null;
}

export async function render() {
  teardown();
  const seq = ++renderSeq;
  const url = new URL(location.href);
  await loadConfig();
  if (seq !== renderSeq) return;
  const name = url.searchParams.get("page") || "home";
  const route = ROUTES[name];
  const controller = new AbortController();
  const ctx = makeContext(route ? name : "not-found", url, controller, seq);
  current = { controller, cleanups: ctx.cleanups };
  updateOnline();
  if (!route) {
    await updateHeader(isUnlocked());
    notFoundState(ctx);
    setState("not-found", "ready");
    return;
  }
  const redirect = await gate(route);
  if (seq !== renderSeq) return;
  if (redirect) {
    navigate(redirect, { replace: true });
    return;
  }
  await updateHeader(isUnlocked() && route.access !== "public");
  setState(name, "loading");
  try {
    await route.view(ctx);
  } catch (err) {
    ctx.fail(err);
  }
}

async function onSignOut() {
  const sub = currentSub();
  teardown();
  if (sub) await forgetPerson(sub);
  setNotice("signed-out");
  navigate(pageUrl("signin"), { replace: true });
}

function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const href = a.getAttribute("href");
  if (!(href.startsWith("?") || href === "./")) return;
  e.preventDefault();
  navigate(href);
}

async function initFrontend() {
  document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
  try {
    const nhsuk = await import("../vendor/nhsuk/nhsuk-frontend.min.js");
    nhsuk.initSkipLinks?.();
  } catch {
    // styles still work without the component scripts
  }
}

function kickOutbox() {
  if (!isUnlocked() || !navigator.onLine) return;
  sendPending().catch(() => {});
}

function boot() {
  // a clinic's request for photos arrives as a link: /app/?invite=CODE
  const invite = new URLSearchParams(location.search).get("invite");
  if (invite) history.replaceState(null, "", pageUrl("invite", { code: invite }));
  initFrontend();
  document.addEventListener("click", onLinkClick);
  document.getElementById("sign-out").addEventListener("click", onSignOut);
  window.addEventListener("popstate", () => render());
  window.addEventListener("online", () => {
    updateOnline();
    kickOutbox();
  });
  window.addEventListener("offline", () => {
    updateOnline();
    requestBackgroundSync();
  });
  onOutboxChange((e) => {
    if (e.type === "queued") {
      if (navigator.onLine) kickOutbox();
      else requestBackgroundSync();
    }
  });
  const retry = setInterval(kickOutbox, 10000);
  window.addEventListener("pagehide", () => {
    clearInterval(retry);
    lockAll();
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
    navigator.serviceWorker.addEventListener("message", (e) => {
      if (e.data?.type === "send-outbox") kickOutbox();
    });
  }
  render().then(kickOutbox);
}

export { kickOutbox };

boot();
