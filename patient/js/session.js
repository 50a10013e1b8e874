// Who is using the app in this tab, and their API tokens: sessionStorage only (never the URL, never
// localStorage). Each person on the phone has their own token entry, so switching person never
// shows one person's data with another's token.

const CURRENT_KEY = "skinvault.current";
const TOKEN_PREFIX = "skinvault.token.";
const NOTICE_KEY = "skinvault.notice";

export function currentSub() {
  return sessionStorage.getItem(CURRENT_KEY);
}

export function setCurrentSub(sub) {
  if (sub) sessionStorage.setItem(CURRENT_KEY, sub);
  else sessionStorage.removeItem(CURRENT_KEY);
}

export function readToken(sub) {
  try {
    const raw = sessionStorage.getItem(TOKEN_PREFIX + sub);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function writeToken(sub, token) {
  sessionStorage.setItem(TOKEN_PREFIX + sub, JSON.stringify(token));
}

export function clearToken(sub) {
  sessionStorage.removeItem(TOKEN_PREFIX + sub);
}

export function setNotice(notice) {
  sessionStorage.setItem(NOTICE_KEY, notice);
}

export function takeNotice() {
  const notice = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return notice;
}

const RETURN_KEY = "skinvault.returnTo";

/**
 * Remember an in-app address (only "?page=..." forms) to go back to once `sub` (or, when not known
 * yet, whoever signs in next) has signed in or unlocked. Never another person's page.
 */
export function rememberReturn(search, sub) {
  if (typeof search === "string" && /^\?page=(?!signin|callback|unlock|passcode|people)[a-z-]+(&|$)/.test(search)) {
    sessionStorage.setItem(RETURN_KEY, JSON.stringify({ search, sub: sub || null }));
  }
}

export function takeReturn(sub = currentSub()) {
  let value = null;
  try {
    value = JSON.parse(sessionStorage.getItem(RETURN_KEY) || "null");
  } catch {
    value = null;
  }
  sessionStorage.removeItem(RETURN_KEY);
  if (!value || typeof value.search !== "string" || !value.search.startsWith("?page=")) return null;
  return !value.sub || value.sub === sub ? value.search : null;
}
