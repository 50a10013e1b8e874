// In-memory state that outlives one view but never the session: dropped at sign-out.

const cases = new Map(); // caseId -> case detail (for the photo and compare views)
const exports = new Map(); // caseId -> {exportId, status, reason}
const pageTokens = new Map(); // filter -> [token for page 1 (null), page 2, ...]

export function rememberCase(detail) {
  cases.set(detail.caseId, detail);
}

export function cachedCase(caseId) {
  return cases.get(caseId) || null;
}

export function forgetCase(caseId) {
  cases.delete(caseId);
  exports.delete(caseId);
}

export function exportFor(caseId) {
  return exports.get(caseId) || null;
}

export function rememberExport(caseId, state) {
  exports.set(caseId, state);
}

export function pageToken(filter, page) {
  if (page <= 1) return null;
  const tokens = pageTokens.get(filter) || [];
  return tokens[page - 1] ?? undefined; // undefined: unknown (e.g. after a reload)
}

export function rememberPageToken(filter, page, token) {
  const tokens = pageTokens.get(filter) || [null];
  tokens[page - 1] = token;
  pageTokens.set(filter, tokens);
}

export function forgetAll() {
  cases.clear();
  exports.clear();
  pageTokens.clear();
}
