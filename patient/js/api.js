// The API client: bearer token of the person using the app, problem+json errors as typed errors.
// Every URL is built from apiBaseUrl (config.json). Nothing here is ever cached (no-store).

import { getToken } from "./auth.js";
import { apiUrl } from "./config.js";

export class SessionExpiredError extends Error {
  constructor() {
    super("session expired");
    this.name = "SessionExpiredError";
  }
}

export class ApiError extends Error {
  constructor(status, problem, { network = false } = {}) {
    super(problem?.detail || problem?.title || (network ? "network error" : `HTTP ${status}`));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || null;
    this.network = network;
  }
}

async function readProblem(res) {
  try {
    if ((res.headers.get("Content-Type") || "").includes("json")) return await res.json();
  } catch {
    // not JSON
  }
  return null;
}

/** request("/api/folders", {query, method, json, signal, as: "json"|"blob"|"response"}) */
export async function request(path, { method = "GET", query, json, signal, as = "json", headers: extra } = {}) {
  const token = getToken();
  if (!token) throw new SessionExpiredError();
  let url = apiUrl(path);
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== "") params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const headers = { Authorization: `Bearer ${token}`, Accept: as === "json" ? "application/json" : "*/*", ...(extra || {}) };
  const init = { method, headers, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new ApiError(0, null, { network: true });
  }
  if (res.status === 401) throw new SessionExpiredError();
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  if (as === "response") return res;
  if (as === "blob") return res.blob();
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

const id = encodeURIComponent;

/** Every page of a paged list. */
async function all(path, query = {}, signal) {
  const items = [];
  let continuationToken = null;
  do {
    const page = await request(path, { query: { ...query, limit: 200, continuationToken }, signal });
    items.push(...(page?.items || []));
    continuationToken = page?.continuationToken || null;
  } while (continuationToken);
  return items;
}

export const api = {
  me: (signal) => request("/api/me", { signal }),
  updateMe: (body) => request("/api/me", { method: "PUT", json: body }),
  deleteMe: () => request("/api/me", { method: "DELETE" }),
  exportMe: () => request("/api/me/export", { as: "response" }),
  bodySites: (signal) => request("/api/body-sites", { signal }),
  folders: (signal) => all("/api/folders", {}, signal),
  folder: (folderId, signal) => request(`/api/folders/${id(folderId)}`, { signal }),
  createFolder: (body) => request("/api/folders", { method: "POST", json: body }),
  updateFolder: (folderId, body) => request(`/api/folders/${id(folderId)}`, { method: "PATCH", json: body }),
  images: (folderId, signal) => all(`/api/folders/${id(folderId)}/images`, {}, signal),
  image: (imageId, signal) => request(`/api/images/${id(imageId)}`, { signal }),
  updateImage: (imageId, body) => request(`/api/images/${id(imageId)}`, { method: "PATCH", json: body }),
  deleteImage: (imageId) => request(`/api/images/${id(imageId)}`, { method: "DELETE" }),
  imageContent: (imageId, size, signal) => request(`/api/images/${id(imageId)}/content`, { query: { size }, signal, as: "blob" }),
  startUpload: (folderId, body) => request(`/api/folders/${id(folderId)}/uploads`, { method: "POST", json: body }),
  uploadKey: (signal) => request("/api/upload-key", { signal }),
  clinicByCode: (code, signal) => request("/api/clinics", { query: { code }, signal }),
  consentText: (clinicId, signal) => request("/api/consent-text", { query: { clinicId }, signal }),
  shares: (signal) => all("/api/shares", {}, signal),
  createShare: (body) => request("/api/shares", { method: "POST", json: body }),
  revokeShare: (shareId) => request(`/api/shares/${id(shareId)}`, { method: "DELETE" }),
  audit: (signal) => all("/api/audit", {}, signal),
  // the conversation with clinics, photo requests and reminders (issue 11)
  invitation: (code, signal) => request(`/api/invitations/${id(code)}`, { signal }),
  acceptInvitation: (code) => request(`/api/invitations/${id(code)}/accept`, { method: "POST", json: {} }),
  messages: (signal) => all("/api/messages", {}, signal),
  folderMessages: (folderId, signal) => all(`/api/folders/${id(folderId)}/messages`, {}, signal),
  reply: (folderId, text, clinicId) =>
    request(`/api/folders/${id(folderId)}/comments`, { method: "POST", json: clinicId ? { text, clinicId } : { text } }),
  reminders: (signal) => all("/api/reminders", {}, signal),
  setReminder: (folderId, every) => request(`/api/folders/${id(folderId)}/reminder`, { method: "PUT", json: { every } }),
  clearReminder: (folderId) => request(`/api/folders/${id(folderId)}/reminder`, { method: "DELETE" }),
};
