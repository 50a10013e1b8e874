// The API client: bearer token from auth.js, problem+json errors mapped to typed errors.
// Every API URL is built by apiUrl() from apiBaseUrl in config.json: the Function App's origin in
// Azure (there is no Static Web App linked backend), "" locally (the API on this same origin).

import { getConfig, getToken } from "./auth.js";
import { clearSession } from "./session.js";

export class SessionExpiredError extends Error {
  constructor() {
    super("session expired");
    this.name = "SessionExpiredError";
  }
}

/** 404: absent, not ours, or the patient withdrew access (the API does not say which). */
export class NotAvailableError extends Error {
  constructor(problem) {
    super(problem?.title || "not available");
    this.name = "NotAvailableError";
    this.problem = problem;
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

/** The absolute URL of an API path ("/api/..."): apiBaseUrl + path; "" or absent = this origin. */
export function apiUrl(path) {
  const base = String(getConfig()?.apiBaseUrl || "").replace(/\/+$/, "");
  return base + path;
}

async function readProblem(res) {
  try {
    const type = res.headers.get("Content-Type") || "";
    if (type.includes("json")) return await res.json();
  } catch {
    // not JSON
  }
  return null;
}

/**
 * request("/api/clinic/cases", {query, method, json, signal, as: "json"|"blob"|"response"})
 */
export async function request(path, { method = "GET", query, json, signal, as = "json" } = {}) {
  const token = await getToken();
  if (!token) throw new SessionExpiredError();
  let url = apiUrl(path);
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== "") params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const headers = { Authorization: `Bearer ${token}`, Accept: as === "json" ? "application/json" : "*/*" };
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
  if (res.status === 401) {
    clearSession();
    throw new SessionExpiredError();
  }
  if (res.status === 404 || res.status === 410) {
    const problem = await readProblem(res);
    if (res.status === 410) throw new ApiError(410, problem);
    throw new NotAvailableError(problem);
  }
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  if (as === "response") return res;
  if (as === "blob") return res.blob();
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const api = {
  cases: (filter, continuationToken, limit, signal, sort = "urgency") =>
    request("/api/clinic/cases", { query: { filter, limit, continuationToken, sort }, signal }),
  folderTriage: (caseId, folderId, body) =>
    request(`/api/clinic/cases/${encodeURIComponent(caseId)}/folders/${encodeURIComponent(folderId)}/triage`, { method: "POST", json: body }),
  folderTriageHistory: (caseId, folderId, signal) =>
    request(`/api/clinic/cases/${encodeURIComponent(caseId)}/folders/${encodeURIComponent(folderId)}/triage`, { signal }),
  revealPhoto: (caseId, imageId) => request(`/api/clinic/cases/${encodeURIComponent(caseId)}/images/${encodeURIComponent(imageId)}/reveal`, { method: "POST", json: {} }),
  addMeasurement: (caseId, imageId, body) =>
    request(`/api/clinic/cases/${encodeURIComponent(caseId)}/images/${encodeURIComponent(imageId)}/measurements`, { method: "POST", json: body }),
  measurements: (caseId, imageId, signal) => request(`/api/clinic/cases/${encodeURIComponent(caseId)}/images/${encodeURIComponent(imageId)}/measurements`, { signal }),
  case: (caseId, signal) => request(`/api/clinic/cases/${encodeURIComponent(caseId)}`, { signal }),
  markReviewed: (caseId) => request(`/api/clinic/cases/${encodeURIComponent(caseId)}/reviewed`, { method: "POST", json: {} }),
  triage: (caseId, { outcome, note, patientMessage, reminder }) =>
    request(`/api/clinic/cases/${encodeURIComponent(caseId)}/triage`, {
      method: "PUT",
      json: { outcome, note: note || null, patientMessage: patientMessage || null, reminder: reminder || null },
    }),
  folderMessages: (folderId, signal) => request(`/api/folders/${encodeURIComponent(folderId)}/messages`, { signal }),
  withdrawComment: (caseId, commentId) =>
    request(`/api/clinic/cases/${encodeURIComponent(caseId)}/comments/${encodeURIComponent(commentId)}/withdraw`, { method: "POST", json: {} }),
  caseNotes: (caseId, signal) => request(`/api/clinic/cases/${encodeURIComponent(caseId)}/notes`, { signal }),
  addCaseNote: (caseId, text) => request(`/api/clinic/cases/${encodeURIComponent(caseId)}/notes`, { method: "POST", json: { text } }),
  requestPhotos: (body) => request("/api/clinic/invitations", { method: "POST", json: body }),
  cancelInvitation: (invitationId) =>
    request(`/api/clinic/invitations/${encodeURIComponent(invitationId)}/cancel`, { method: "POST", json: {} }),
  imageComments: (imageId, signal) => request(`/api/images/${encodeURIComponent(imageId)}/comments`, { signal }),
  addImageComment: (imageId, text) =>
    request(`/api/images/${encodeURIComponent(imageId)}/comments`, { method: "POST", json: { text } }),
  folderComments: (folderId, signal) => request(`/api/folders/${encodeURIComponent(folderId)}/comments`, { signal }),
  addFolderComment: (folderId, text) =>
    request(`/api/folders/${encodeURIComponent(folderId)}/comments`, { method: "POST", json: { text } }),
  imageContent: (imageId, size, signal) =>
    request(`/api/images/${encodeURIComponent(imageId)}/content`, { query: { size }, signal, as: "response" }),
  startExport: (caseId, imageIds) =>
    request("/api/exports", { method: "POST", json: imageIds ? { caseId, imageIds } : { caseId } }),
  exportStatus: (exportId, signal) => request(`/api/exports/${encodeURIComponent(exportId)}`, { signal }),
  exportContent: (exportId) => request(`/api/exports/${encodeURIComponent(exportId)}/content`, { as: "response" }),
};

// Research studies (researchers only): every path here, like the rest, goes through apiUrl().
const encodeSegment = encodeURIComponent;
export const researchApi = {
  studies: (signal) => request("/api/research/studies", { signal }),
  study: (studyId, signal) => request(`/api/research/studies/${encodeSegment(studyId)}`, { signal }),
  participants: (studyId, signal) => request(`/api/research/studies/${encodeSegment(studyId)}/participants`, { signal }),
  photo: (studyId, participantId, photoId, size, signal) =>
    request(`/api/research/studies/${encodeSegment(studyId)}/participants/${encodeSegment(participantId)}/photos/${encodeSegment(photoId)}/content`, {
      query: { size },
      signal,
      as: "response",
    }),
  exports: (studyId, signal) => request(`/api/research/studies/${encodeSegment(studyId)}/exports`, { signal }),
  startExport: (studyId) => request(`/api/research/studies/${encodeSegment(studyId)}/exports`, { method: "POST" }),
  exportStatus: (studyId, exportId, signal) => request(`/api/research/studies/${encodeSegment(studyId)}/exports/${encodeSegment(exportId)}`, { signal }),
  exportContent: (studyId, exportId) =>
    request(`/api/research/studies/${encodeSegment(studyId)}/exports/${encodeSegment(exportId)}/content`, { as: "response" }),
};
