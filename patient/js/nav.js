// App addresses: ?page=<screen>&<params>, relative to wherever the app is served (/app/ or /).

export function pageUrl(page, params = {}) {
  const q = new URLSearchParams();
  if (page && page !== "home") q.set("page", page);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "./";
}
