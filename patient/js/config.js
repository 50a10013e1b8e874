// config.json (beside index.html) chooses the sign-in mode and where the API lives. Every API call
// builds its URL from apiBaseUrl ("" = this origin, as the local host serves it).

let config = null;

export async function loadConfig() {
  if (config) return config;
  let loaded = {};
  try {
    const res = await fetch("config.json", { cache: "no-store", credentials: "same-origin" });
    if (res.ok) loaded = await res.json();
  } catch {
    // offline: the service worker answers from its cache; failing that, dev mode
  }
  config = { apiBaseUrl: "", ...loaded, auth: { mode: "dev", ...(loaded.auth || {}) } };
  config.apiBaseUrl = String(config.apiBaseUrl || "").replace(/\/+$/, "");
  return config;
}

export function getConfig() {
  return config || { apiBaseUrl: "", auth: { mode: "dev" } };
}

/** "/api/folders" -> absolute URL on the configured API origin. */
export function apiUrl(path) {
  return `${getConfig().apiBaseUrl}${path}`;
}

/** The app's own base URL (/app/ locally, / in Azure), from where this module was loaded. */
export function appBase() {
  return new URL("../", import.meta.url).href;
}
