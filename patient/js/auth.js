// Sign-in, chosen by config.json:
//  - "dev": the local dev issuer mints a token for a demo patient (POST /api/dev/token);
//  - "oidc": NHS login or Entra External ID through oidc-client-ts (authorisation code + PKCE,
//    redirect flow, its state and tokens in sessionStorage).

import { apiUrl, appBase, getConfig } from "./config.js";
import { clearToken, currentSub, readToken, writeToken } from "./session.js";

const EXPIRY_SKEW_MS = 5000;
let manager = null;

export function authMode() {
  return getConfig().auth?.mode === "oidc" ? "oidc" : "dev";
}

// ------------------------------------------------------------------------------------- dev mode
export async function loadDemoUsers() {
  const res = await fetch("demo-users.json", { cache: "no-store" });
  if (!res.ok) throw new Error("demo users unavailable");
  const users = await res.json();
  return users.filter((u) => u && u.sub && u.name && (u.role || "patient") === "patient");
}

export async function signInDev(user) {
  const res = await fetch(apiUrl("/api/dev/token"), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ sub: user.sub, name: user.name, role: "patient" }),
    cache: "no-store",
    credentials: "omit",
  });
  if (!res.ok) {
    const err = new Error("sign-in failed");
    err.status = res.status;
    throw err;
  }
  const body = await res.json();
  const lifetime = Number(body.expires_in) || 3600;
  writeToken(user.sub, { accessToken: body.access_token, expiresAt: Date.now() + lifetime * 1000, name: user.name, mode: "dev" });
  return { sub: user.sub, name: user.name };
}

// ------------------------------------------------------------------------------------ oidc mode
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error("could not load the sign-in library"));
    document.head.append(s);
  });
}

async function oidcManager() {
  if (manager) return manager;
  if (!globalThis.oidc) await loadScript(new URL("vendor/oidc/oidc-client-ts.min.js", appBase()).href);
  const lib = globalThis.oidc;
  const a = getConfig().auth;
  manager = new lib.UserManager({
    authority: a.authority,
    client_id: a.clientId,
    redirect_uri: `${appBase()}?page=callback`,
    post_logout_redirect_uri: appBase(),
    response_type: "code", // authorisation code; oidc-client-ts always adds PKCE (S256)
    scope: a.scope || "openid profile",
    extraQueryParams: a.extraQueryParams || {},
    userStore: new lib.WebStorageStateStore({ store: window.sessionStorage }),
    stateStore: new lib.WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: false,
    monitorSession: false,
    loadUserInfo: false,
  });
  return manager;
}

export async function startOidcSignIn(loginHint) {
  const m = await oidcManager();
  await m.signinRedirect(loginHint ? { login_hint: loginHint } : undefined);
}

/** On ?page=callback: finish the redirect; returns {sub, name}. */
export async function completeOidcSignIn() {
  const m = await oidcManager();
  const user = await m.signinRedirectCallback(window.location.href);
  const profile = user.profile || {};
  const sub = profile.sub;
  const name = [profile.given_name, profile.family_name].filter(Boolean).join(" ") || profile.name || "You";
  writeToken(sub, { accessToken: user.access_token, expiresAt: (user.expires_at || 0) * 1000, name, mode: "oidc" });
  await m.removeUser(); // the token now lives only in this person's session entry
  return { sub, name };
}

// ------------------------------------------------------------------------------------- common
/** The bearer token for the person using the app (or `sub`), or null when there is none. */
export function getToken(sub = currentSub()) {
  if (!sub) return null;
  const t = readToken(sub);
  if (!t?.accessToken) return null;
  if (Date.now() >= t.expiresAt - EXPIRY_SKEW_MS) {
    clearToken(sub);
    return null;
  }
  return t.accessToken;
}
