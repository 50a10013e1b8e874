// Where the session lives: sessionStorage only (never the URL, never localStorage).

const SESSION_KEY = "skinvault.session";
const RETURN_KEY = "skinvault.returnTo";
const NOTICE_KEY = "skinvault.notice";

export function readSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function writeSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Only same-origin app paths are accepted as places to return to. */
export function safeReturnPath(path) {
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return "/";
  if (path === "/signin" || path.startsWith("/signin?") || path.startsWith("/api/")) return "/";
  return path;
}

export function rememberReturn(path) {
  sessionStorage.setItem(RETURN_KEY, safeReturnPath(path));
}

export function takeReturn() {
  const path = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return safeReturnPath(path || "/");
}

export function setNotice(notice) {
  sessionStorage.setItem(NOTICE_KEY, notice);
}

export function takeNotice() {
  const notice = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return notice;
}

/** Forget everything this tab stored (sign-out). */
export function wipeStorage() {
  sessionStorage.clear();
}
