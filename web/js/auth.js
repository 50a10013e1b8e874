// Sign-in. Two modes chosen by /config.json, never by code edits:
//  - "dev": the local dev issuer mints a token for a demo clinician (POST /api/dev/token);
//  - "msal": Entra ID through MSAL for the browser (redirect flow, sessionStorage cache).

import { apiUrl } from "./api.js";
import { clearSession, readSession, wipeStorage, writeSession } from "./session.js";

let config = null;
let msalApp = null;

const EXPIRY_SKEW_MS = 5000;

export async function loadConfig() {
  if (config) return config;
  let loaded = { auth: { mode: "dev" } };
  try {
    const res = await fetch("/config.json", { cache: "no-store", credentials: "same-origin" });
    if (res.ok) loaded = await res.json();
  } catch {
    // offline or missing: fall back to dev mode, which only works where the dev issuer is on
  }
  config = { caseRefreshSeconds: 30, worklistPageSize: 50, ...loaded, auth: { mode: "dev", ...(loaded.auth || {}) } };
  return config;
}

export function getConfig() {
  return config;
}

export function authMode() {
  return config?.auth?.mode === "msal" ? "msal" : "dev";
}

// ------------------------------------------------------------------------------------- dev mode
export async function loadDemoUsers() {
  const res = await fetch("/demo-users.json", { cache: "no-store" });
  if (!res.ok) throw new Error("demo users unavailable");
  const users = await res.json();
  return users.filter((u) => u && u.sub && u.name && (u.role || "clinician") === "clinician");
}

export async function signInDev(user) {
  const res = await fetch(apiUrl("/api/dev/token"), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ sub: user.sub, name: user.name, role: "clinician" }),
    cache: "no-store",
  });
  if (!res.ok) {
    const err = new Error("sign-in failed");
    err.status = res.status;
    throw err;
  }
  const body = await res.json();
  const lifetime = Number(body.expires_in) || 3600;
  writeSession({
    mode: "dev",
    accessToken: body.access_token,
    expiresAt: Date.now() + lifetime * 1000,
    user: { sub: user.sub, name: user.name },
  });
}

// ------------------------------------------------------------------------------------ msal mode
async function msal() {
  if (msalApp) return msalApp;
  await import("/vendor/msal/msal-browser.min.js"); // UMD bundle: defines globalThis.msal
  const lib = globalThis.msal;
  const a = config.auth;
  msalApp = new lib.PublicClientApplication({
    auth: {
      clientId: a.clientId,
      authority: a.authority,
      redirectUri: window.location.origin + (a.redirectPath || "/signin"),
      postLogoutRedirectUri: window.location.origin + (a.redirectPath || "/signin"),
      navigateToLoginRequestUrl: false,
    },
    cache: { cacheLocation: "sessionStorage", storeAuthStateInCookie: false },
    system: { allowNativeBroker: false },
  });
  await msalApp.initialize();
  return msalApp;
}

function msalAccount(app) {
  return app.getActiveAccount() || app.getAllAccounts()[0] || null;
}

/** Called on the sign-in page: completes a redirect back from Entra ID. True when signed in. */
export async function completeMsalRedirect() {
  const app = await msal();
  const result = await app.handleRedirectPromise();
  if (result?.account) app.setActiveAccount(result.account);
  return Boolean(msalAccount(app));
}

export async function startMsalSignIn() {
  const app = await msal();
  await app.loginRedirect({ scopes: config.auth.scopes || [], prompt: "select_account" });
}

// ------------------------------------------------------------------------------------- common
/** The bearer token for the API, or null when there is no live session. */
export async function getToken() {
  if (authMode() === "msal") {
    try {
      const app = await msal();
      const account = msalAccount(app);
      if (!account) return null;
      const result = await app.acquireTokenSilent({ scopes: config.auth.scopes || [], account });
      return result.accessToken;
    } catch {
      return null; // interaction required: the caller sends the user to sign in
    }
  }
  const session = readSession();
  if (!session?.accessToken) return null;
  if (Date.now() >= session.expiresAt - EXPIRY_SKEW_MS) {
    clearSession();
    return null;
  }
  return session.accessToken;
}

export function currentUser() {
  if (authMode() === "msal") {
    const account = msalApp ? msalAccount(msalApp) : null;
    return account ? { sub: account.homeAccountId, name: account.name || account.username } : null;
  }
  const session = readSession();
  return session?.accessToken && Date.now() < session.expiresAt - EXPIRY_SKEW_MS ? session.user : null;
}

export async function hasSession() {
  return Boolean(await getToken());
}

/**
 * Forget the session in this tab. In msal mode also ends the Entra ID session: returns true when the
 * browser is being redirected there (the caller must not navigate itself).
 */
export async function signOut() {
  if (authMode() === "msal" && msalApp) {
    const account = msalAccount(msalApp);
    await msalApp.logoutRedirect({
      account,
      onRedirectNavigate: () => {
        wipeStorage();
        return true;
      },
    });
    return true;
  }
  wipeStorage();
  return false;
}
