// Case view: patient details, triage (with a message for the patient), internal notes, export, and
// each folder as a timeline of photos with its conversation with the patient.

import { api, NotAvailableError } from "../api.js";
import { LazyImages, saveResponse } from "../blobs.js";
import { announce, backLink, button, h, tag } from "../dom.js";
import {
  formatDate,
  formatDateTime,
  formatNhsNumber,
  formatPlainDate,
  plural,
  purposeLabel,
  QUALITY_LABELS,
  REMINDER_LABELS,
  TRIAGE_OUTCOMES,
  triageLabel,
} from "../format.js";
import { exportFor, rememberCase, rememberExport } from "../store.js";
import { folderClinical, guardIntimate, isIntimate, patientFlagFacts } from "./clinical.js";
import { commentsSection } from "./comments.js";
import { actionErrorMessage, inlineError } from "./states.js";

export function qualityLabel(code) {
  return QUALITY_LABELS[code] || String(code || "Quality warning").replace(/[-_]/g, " ");
}

export function readyImages(folder) {
  return (folder.images || [])
    .filter((i) => !i.status || i.status === "ready")
    .sort((a, b) => String(a.capturedAt || "").localeCompare(String(b.capturedAt || "")));
}

/** True when the photo's time is the upload's (the phone recorded no capture time): say "Uploaded", never "Taken". */
export function uploadTimeOnly(image) {
  return image.capturedAtSource === "upload-time";
}

export function photoLabel(image) {
  if (uploadTimeOnly(image)) return `Photo uploaded ${formatDateTime(image.uploadedAt || image.capturedAt) || "on an unknown date"}`;
  return `Photo taken ${formatDateTime(image.capturedAt) || "on an unknown date"}`;
}

/** What the patient wrote about a photo besides notes. */
export function patientWords(image) {
  const parts = [];
  if (image.rating !== null && image.rating !== undefined) parts.push(["Patient's rating", `${image.rating} out of 10`]);
  if (image.description) parts.push(["Patient's description", image.description]);
  if (image.treatment) parts.push(["Treatment at the time", image.treatment]);
  return parts;
}

function qualityFlags(image) {
  const flags = image.quality?.flags || [];
  if (!flags.length) return null;
  return h(
    "ul",
    { class: "app-quality nhsuk-list" },
    flags.map((f) =>
      h("li", { class: "app-quality__item" }, tag(qualityLabel(f.code), "orange"), f.advice ? h("span", { class: "app-quality__advice nhsuk-body-s" }, f.advice) : null),
    ),
  );
}

/** The ids of the photos the API counts as new since the last review (the most recently uploaded). */
function newImageIds(detail) {
  const count = Number(detail.newImageCount) || 0;
  if (!count) return new Set();
  const all = (detail.folders || []).flatMap((f) => readyImages(f));
  all.sort((a, b) => String(b.uploadedAt || b.capturedAt || "").localeCompare(String(a.uploadedAt || a.capturedAt || "")));
  return new Set(all.slice(0, count).map((i) => i.id));
}

export function humanise(code) {
  if (!code) return "";
  const text = String(code).replace(/[-_]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function timeline(ctx, detail, folder, lazy, fresh) {
  const images = readyImages(folder);
  const pending = (folder.images || []).filter((i) => i.status === "pending").length;
  if (!images.length) {
    return h("p", { class: "nhsuk-body app-muted" }, pending ? "Photos are still being processed." : "There are no photos in this folder yet.");
  }
  return h(
    "ol",
    { class: "app-timeline nhsuk-list", "aria-label": `Photos in ${folder.name}, oldest first` },
    images.map((img) => {
      const thumb = h("img", {
        class: "app-thumb__img",
        alt: `${photoLabel(img)}, ${folder.name}`,
        width: "160",
        height: "120",
        decoding: "async",
      });
      lazy.observe(thumb, img.id);
      const link = h(
        "a",
        { class: "app-thumb", href: `/cases/${encodeURIComponent(detail.caseId)}/photos/${encodeURIComponent(img.id)}` },
        thumb,
        h("span", { class: "app-thumb__caption" }, "Open photo", h("span", { class: "nhsuk-u-visually-hidden" }, ` ${photoLabel(img).replace(/^Photo /, "")}`)),
      );
      const uploaded = uploadTimeOnly(img);
      return h(
        "li",
        { class: "app-timeline__photo", dataset: { imageId: img.id } },
        h(
          "h3",
          { class: "app-timeline__date nhsuk-heading-xs" },
          uploaded ? "Uploaded " : null,
          h("time", { datetime: (uploaded ? img.uploadedAt : img.capturedAt) || "" }, formatDate(uploaded ? img.uploadedAt : img.capturedAt) || "Date unknown"),
        ),
        link,
        isIntimate(folder) ? guardIntimate(ctx, detail, img, link) : null,
        fresh.has(img.id) ? tag("New", "blue") : null,
        img.notes ? h("p", { class: "app-photo-note nhsuk-body-s" }, h("span", { class: "app-muted" }, "Patient's note: "), img.notes) : null,
        patientWords(img).map(([k, v]) => h("p", { class: "app-photo-note nhsuk-body-s" }, h("span", { class: "app-muted" }, `${k}: `), v)),
        qualityFlags(img),
      );
    }),
  );
}

function compareForm(ctx, detail, folder) {
  const images = readyImages(folder);
  if (images.length < 2) return null;
  const base = `compare-${folder.id}`;
  const options = (selected) =>
    images.map((img, i) => h("option", { value: img.id, selected: img.id === selected }, `${i + 1}. ${formatDateTime(img.capturedAt) || img.id}`));
  const first = h("select", { class: "nhsuk-select", id: `${base}-a`, name: "a" }, options(images[0].id));
  const second = h("select", { class: "nhsuk-select", id: `${base}-b`, name: "b" }, options(images[images.length - 1].id));
  const form = h(
    "form",
    { class: "app-compare-form", novalidate: true, dataset: { folderId: folder.id } },
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, "Compare two photos side by side"),
      h(
        "div",
        { class: "app-compare-form__fields" },
        h("div", { class: "nhsuk-form-group" }, h("label", { class: "nhsuk-label", for: first.id }, "First photo"), first),
        h("div", { class: "nhsuk-form-group" }, h("label", { class: "nhsuk-label", for: second.id }, "Second photo"), second),
        button("Compare", { type: "submit", variant: "secondary" }),
      ),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ folder: folder.id, a: first.value, b: second.value });
    ctx.navigate(`/cases/${encodeURIComponent(detail.caseId)}/compare?${q}`);
  });
  return form;
}

/** The folder's older photos, a page at a time (the case view carries only the newest of each folder). */
function olderPhotosButton(ctx, detail, folder, lazy, fresh, redraw) {
  if (!folder.imagesContinuationToken) return null;
  const more = button("Show older photos", {
    variant: "secondary",
    dataset: { action: "older-photos" },
    onclick: async () => {
      more.disabled = true;
      try {
        const page = await api.folderImages(folder.id, folder.imagesContinuationToken, ctx.signal);
        folder.images = [...(folder.images || []), ...(page.items || [])];
        folder.imagesContinuationToken = page.continuationToken;
        redraw();
      } catch (err) {
        more.disabled = false;
        ctx.handled(err);
      }
    },
  });
  return more;
}

function folderSection(ctx, detail, folder, lazy, fresh) {
  const code = folder.bodySiteCode;
  const site = humanise(folder.bodySite) || code?.display || "Not recorded";
  const count = Number.isInteger(folder.imageCount) ? folder.imageCount : readyImages(folder).length;
  let section = null;
  const redraw = () => {
    const next = folderSection(ctx, detail, folder, lazy, fresh);
    section.replaceWith(next);
  };
  const fact = (label, value, title) =>
    h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, label), h("dd", { class: "app-facts__value", title: title || null }, value || "Not recorded"));
  section = h(
    "section",
    { class: "app-folder", "aria-labelledby": `folder-${folder.id}`, dataset: { folderId: folder.id } },
    h("h2", { id: `folder-${folder.id}`, class: "app-folder__title" }, folder.name, h("span", { class: "nhsuk-caption-m app-folder__count" }, plural(count, "photo", "photos"))),
    h(
      "dl",
      { class: "app-facts" },
      fact("Body site", site),
      code?.code ? fact("SNOMED CT", `${code.code}${code.display ? ` ${code.display}` : ""}`) : null,
      fact("Condition", folder.condition),
      fact("Treatment", folder.treatment),
      folder.startDate ? fact("Started", formatPlainDate(folder.startDate)) : null,
    ),
    folder.notes ? h("p", { class: "nhsuk-body-s app-folder__notes" }, h("span", { class: "app-muted" }, "Patient's notes: "), folder.notes) : null,
    timeline(ctx, detail, folder, lazy, fresh),
    olderPhotosButton(ctx, detail, folder, lazy, fresh, () => redraw()),
    compareForm(ctx, detail, folder),
    folderClinical(ctx, detail, folder),
    commentsSection(ctx, {
      heading: "Conversation with the patient",
      label: "Write to the patient about this folder",
      hint: "The patient sees this and can reply. For notes only your clinic should see, use Internal notes.",
      load: (signal) => api.folderMessages(folder.id, signal),
      add: (text) => api.addFolderComment(folder.id, text),
      withdraw: (c) => api.withdrawComment(detail.caseId, c.id),
      testid: "folder-comments",
    }),
  );
  return section;
}

function triageSummary(triage) {
  if (!triage?.outcome) return h("p", { class: "nhsuk-body", dataset: { testid: "triage-current" } }, tag("Awaiting triage", "yellow"));
  const t = triageLabel(triage.outcome);
  return h(
    "div",
    { dataset: { testid: "triage-current" } },
    h("p", { class: "nhsuk-body" }, tag(t.label, t.colour)),
    triage.note ? h("p", { class: "nhsuk-body-s app-triage-note" }, h("span", { class: "app-muted" }, "Internal note: "), triage.note) : null,
    triage.patientText ? h("p", { class: "nhsuk-body-s app-triage-note" }, h("span", { class: "app-muted" }, "The patient was told: "), triage.patientText) : null,
    triage.patientMessage
      ? h("p", { class: "nhsuk-body-s app-triage-note", dataset: { testid: "triage-patient-message" } }, h("span", { class: "app-muted" }, "Message for the patient: "), triage.patientMessage)
      : null,
    triage.reminder ? h("p", { class: "nhsuk-body-s" }, `Reminder set: ${REMINDER_LABELS[triage.reminder] || triage.reminder}`) : null,
    h(
      "p",
      { class: "nhsuk-body-s app-muted" },
      `Recorded ${formatDateTime(triage.recordedAt) || ""}${triage.recordedBy ? ` by ${triage.recordedBy.name || triage.recordedBy}` : ""}`,
    ),
  );
}

function triageCard(ctx, detail) {
  const current = h("div", {}, triageSummary(detail.triage));
  const errorSlot = h("div", {});
  const name = "triage-outcome";
  const radios = TRIAGE_OUTCOMES.map((o, i) =>
    h(
      "div",
      { class: "nhsuk-radios__item" },
      h("input", {
        class: "nhsuk-radios__input",
        id: `${name}-${i}`,
        name,
        type: "radio",
        value: o.value,
        checked: detail.triage?.outcome === o.value,
      }),
      h("label", { class: "nhsuk-label nhsuk-radios__label", for: `${name}-${i}` }, o.label),
    ),
  );
  const note = h("textarea", { class: "nhsuk-textarea", id: "triage-note", name: "note", rows: "3", maxlength: "2000", "aria-describedby": "triage-note-hint" });
  const message = h("textarea", {
    class: "nhsuk-textarea",
    id: "triage-message",
    name: "patientMessage",
    rows: "3",
    maxlength: "2000",
    "aria-describedby": "triage-message-hint",
  });
  const reminder = h(
    "select",
    { class: "nhsuk-select", id: "triage-reminder", name: "reminder" },
    h("option", { value: "" }, "No reminder"),
    Object.entries(REMINDER_LABELS).map(([value, label]) => h("option", { value }, `Remind ${label}`)),
  );
  const reminderGroup = h(
    "div",
    { class: "nhsuk-form-group", hidden: detail.triage?.outcome !== "request-more-photos", dataset: { testid: "triage-reminder" } },
    h("label", { class: "nhsuk-label", for: "triage-reminder" }, "Remind the patient to take new photos (optional)"),
    reminder,
  );
  const submit = button("Record triage outcome", { type: "submit" });
  const form = h(
    "form",
    { class: "app-triage-form", novalidate: true },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h(
        "fieldset",
        { class: "nhsuk-fieldset", "aria-describedby": "triage-hint" },
        h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, "Outcome"),
        h("div", { class: "nhsuk-hint", id: "triage-hint" }, "Choose one."),
        h("div", { class: "nhsuk-radios nhsuk-radios--small" }, radios),
      ),
    ),
    reminderGroup,
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "triage-message" }, "Message for the patient (optional)"),
      h("div", { class: "nhsuk-hint", id: "triage-message-hint" }, "The patient sees the outcome explained in plain English, with this message."),
      message,
    ),
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "triage-note" }, "Internal note (optional)"),
      h("div", { class: "nhsuk-hint", id: "triage-note-hint" }, "Only your clinic sees this. It is never shown or sent to the patient."),
      note,
    ),
    errorSlot,
    submit,
  );
  form.addEventListener("change", (e) => {
    if (e.target.name === name) reminderGroup.hidden = e.target.value !== "request-more-photos";
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorSlot.replaceChildren();
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    if (!chosen) {
      errorSlot.replaceChildren(inlineError("Select a triage outcome"));
      form.querySelector(`input[name="${name}"]`).focus();
      return;
    }
    submit.disabled = true;
    try {
      const triage = await api.triage(detail.caseId, {
        outcome: chosen.value,
        note: note.value.trim(),
        patientMessage: message.value.trim(),
        reminder: chosen.value === "request-more-photos" ? reminder.value : "",
      });
      detail.triage = triage;
      rememberCase(detail);
      current.replaceChildren(triageSummary(triage));
      note.value = "";
      message.value = "";
      reminder.value = "";
      announce(`Triage outcome recorded: ${triageLabel(triage.outcome).label}`);
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    } finally {
      submit.disabled = false;
    }
  });
  return h(
    "section",
    { class: "nhsuk-card app-card", "aria-labelledby": "triage-heading", dataset: { testid: "triage" } },
    h("div", { class: "nhsuk-card__content" }, h("h2", { class: "nhsuk-card__heading nhsuk-heading-m", id: "triage-heading" }, "Triage"), current, form),
  );
}

const EXPORT_TEXT = {
  queued: "The export is waiting to start.",
  running: "The export is being prepared.",
  ready: "The export is ready to download.",
  failed: "The export failed.",
  expired: "The export has expired. Start a new one.",
};

function exportCard(ctx, detail) {
  const status = h("p", { class: "nhsuk-body", role: "status", dataset: { testid: "export-status" } });
  const errorSlot = h("div", {});
  const actions = h("div", { class: "app-export-actions" });
  let timer = 0;
  ctx.onCleanup(() => clearTimeout(timer));

  const startBtn = button("Export to patient record", {
    variant: "secondary",
    dataset: { action: "start-export" },
    onclick: () => start(),
  });

  const show = (state) => {
    const s = state?.status;
    status.textContent = s ? EXPORT_TEXT[s] || `Export ${s}.` : "";
    if (s === "failed" && state.reason) status.textContent += ` ${state.reason}`;
    status.hidden = !s;
    const busy = s === "queued" || s === "running";
    const parts = [];
    if (s === "ready") {
      parts.push(button("Download export", { dataset: { action: "download-export" }, onclick: (e) => download(state, e.currentTarget) }));
    }
    startBtn.disabled = busy;
    startBtn.textContent = s === "ready" || s === "failed" || s === "expired" ? "Start a new export" : "Export to patient record";
    parts.push(startBtn);
    actions.replaceChildren(...parts);
  };

  const poll = (state, delay = 500) => {
    clearTimeout(timer);
    if (ctx.signal.aborted) return;
    timer = setTimeout(async () => {
      try {
        const next = await api.exportStatus(state.exportId, ctx.signal);
        const merged = { ...state, ...next };
        rememberExport(detail.caseId, merged);
        show(merged);
        if (merged.status === "queued" || merged.status === "running") poll(merged, Math.min(delay * 1.5, 4000));
        else if (merged.status === "ready") announce("The export is ready to download");
      } catch (err) {
        if (err instanceof NotAvailableError) {
          rememberExport(detail.caseId, null);
          show({ status: "expired" });
          return;
        }
        if (!ctx.handled(err)) {
          errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
          poll(state, 4000);
        }
      }
    }, delay);
  };

  const start = async () => {
    errorSlot.replaceChildren();
    startBtn.disabled = true;
    try {
      const created = await api.startExport(detail.caseId);
      const state = { exportId: created.exportId, status: created.status || "queued" };
      rememberExport(detail.caseId, state);
      show(state);
      announce("Export started");
      poll(state);
    } catch (err) {
      startBtn.disabled = false;
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  };

  const download = async (state, btn) => {
    errorSlot.replaceChildren();
    btn.disabled = true;
    try {
      const res = await api.exportContent(state.exportId);
      await saveResponse(res, `skinvault-export-${state.exportId}.zip`);
      announce("Export downloaded");
    } catch (err) {
      if (err?.status === 410) {
        rememberExport(detail.caseId, { ...state, status: "expired" });
        show({ ...state, status: "expired" });
      } else if (!ctx.handled(err)) {
        errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    } finally {
      btn.disabled = false;
    }
  };

  const existing = exportFor(detail.caseId);
  show(existing);
  if (existing && (existing.status === "queued" || existing.status === "running")) poll(existing);

  return h(
    "section",
    { class: "nhsuk-card app-card", "aria-labelledby": "export-heading", dataset: { testid: "export" } },
    h(
      "div",
      { class: "nhsuk-card__content" },
      h("h2", { class: "nhsuk-card__heading nhsuk-heading-m", id: "export-heading" }, "Export to patient record"),
      h("p", { class: "nhsuk-body-s" }, "Makes a package of this case's photos and notes for the hospital's electronic patient record."),
      status,
      errorSlot,
      actions,
    ),
  );
}

function reviewCard(ctx, detail) {
  const value = h("p", { class: "nhsuk-body", dataset: { testid: "last-reviewed" } }, formatDateTime(detail.lastReviewedAt) || "Not yet reviewed");
  const errorSlot = h("div", {});
  const btn = button("Mark as reviewed", {
    variant: "secondary",
    dataset: { action: "mark-reviewed" },
    onclick: async () => {
      errorSlot.replaceChildren();
      btn.disabled = true;
      try {
        const res = await api.markReviewed(detail.caseId);
        detail.lastReviewedAt = res?.lastReviewedAt || new Date().toISOString();
        detail.newImageCount = 0;
        rememberCase(detail);
        value.textContent = formatDateTime(detail.lastReviewedAt);
        for (const t of document.querySelectorAll(".app-timeline__photo .nhsuk-tag--blue")) t.remove();
        document.querySelector("[data-testid='new-since-review']")?.remove(); // the header count clears at once
        announce("Case marked as reviewed");
      } catch (err) {
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      } finally {
        btn.disabled = false;
      }
    },
  });
  return h(
    "section",
    { class: "nhsuk-card app-card", "aria-labelledby": "review-heading", dataset: { testid: "review" } },
    h(
      "div",
      { class: "nhsuk-card__content" },
      h("h2", { class: "nhsuk-card__heading nhsuk-heading-m", id: "review-heading" }, "Last reviewed"),
      value,
      errorSlot,
      btn,
    ),
  );
}

function notesCard(ctx, detail) {
  const list = h("ul", { class: "app-comments nhsuk-list", dataset: { testid: "internal-notes-list" } });
  const status = h("p", { class: "nhsuk-body-s app-muted" }, "Loading notes…");
  const errorSlot = h("div", {});
  const textarea = h("textarea", { class: "nhsuk-textarea", id: "internal-note", name: "text", rows: "3", maxlength: "4000", "aria-describedby": "internal-note-hint" });
  const submit = button("Add internal note", { type: "submit", variant: "secondary" });
  const item = (n) =>
    h(
      "li",
      { class: "app-comments__item", dataset: { noteId: n.id } },
      h("p", { class: "app-comments__meta nhsuk-body-s" }, h("strong", {}, n.author?.name || "Unknown"), " · ", h("time", { datetime: n.createdAt }, formatDateTime(n.createdAt) || "")),
      h("p", { class: "app-comments__text" }, n.text),
    );
  const form = h(
    "form",
    { class: "app-comment-form", novalidate: true },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "internal-note" }, "Add an internal note"),
      h("div", { class: "nhsuk-hint", id: "internal-note-hint" }, "Only your clinic sees internal notes. The patient never does."),
      textarea,
    ),
    errorSlot,
    submit,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorSlot.replaceChildren();
    const text = textarea.value.trim();
    if (!text) {
      errorSlot.replaceChildren(inlineError("Enter a note"));
      textarea.focus();
      return;
    }
    submit.disabled = true;
    try {
      list.append(item(await api.addCaseNote(detail.caseId, text)));
      status.hidden = true;
      textarea.value = "";
      announce("Internal note added");
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    } finally {
      submit.disabled = false;
    }
  });
  api
    .caseNotes(detail.caseId, ctx.signal)
    .then((res) => {
      const items = res?.items || [];
      status.textContent = items.length ? "" : "No internal notes yet.";
      status.hidden = items.length > 0;
      list.replaceChildren(...items.map(item));
    })
    .catch((err) => {
      if (!ctx.handled(err)) status.textContent = "Internal notes could not be loaded.";
    });
  return h(
    "section",
    { class: "nhsuk-card app-card", "aria-labelledby": "notes-heading", dataset: { testid: "internal-notes" } },
    h("div", { class: "nhsuk-card__content" }, h("h2", { class: "nhsuk-card__heading nhsuk-heading-m", id: "notes-heading" }, "Internal notes"), status, list, form),
  );
}

function watchForWithdrawal(ctx, caseId) {
  const seconds = Number(ctx.config?.caseRefreshSeconds) || 0;
  const check = async () => {
    try {
      await api.case(caseId, ctx.signal);
    } catch (err) {
      if (err instanceof NotAvailableError || err?.name === "SessionExpiredError") ctx.handled(err);
    }
  };
  if (seconds > 0) {
    const id = setInterval(check, seconds * 1000);
    ctx.onCleanup(() => clearInterval(id));
  }
  const onVisible = () => {
    if (document.visibilityState === "visible") check();
  };
  document.addEventListener("visibilitychange", onVisible);
  ctx.onCleanup(() => document.removeEventListener("visibilitychange", onVisible));
}

export async function caseView(ctx) {
  const { caseId } = ctx.params;
  ctx.title("Case");
  ctx.show(backLink("/", "Back to worklist"), h("h1", {}, "Case"), h("p", { class: "nhsuk-body app-loading", role: "status" }, "Loading case…"));
  const detail = await api.case(caseId, ctx.signal);
  rememberCase(detail);
  const p = detail.patient || {};
  ctx.title(p.displayName || "Case");

  const lazy = new LazyImages({ signal: ctx.signal, onError: (err) => ctx.handled(err) });
  const folders = detail.folders || [];
  const fresh = newImageIds(detail);
  const nhs = formatNhsNumber(p.nhsNumber);
  const share = detail.share || {};

  ctx.show(
    backLink("/", "Back to worklist"),
    h("h1", { class: "app-patient-name" }, p.displayName || "Unnamed patient"),
    h(
      "dl",
      { class: "app-facts app-patient-details" },
      h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, "Date of birth"), h("dd", { class: "app-facts__value" }, formatPlainDate(p.dateOfBirth) || "Not recorded")),
      h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, "NHS number"), h("dd", { class: "app-facts__value", dataset: { testid: "nhs-number" } }, nhs || "Not recorded")),
      h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, "Shared until"), h("dd", { class: "app-facts__value" }, formatDate(share.expiresAt) || "No end date")),
      share.purposes?.length
        ? h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, "Shared for"), h("dd", { class: "app-facts__value" }, share.purposes.map(purposeLabel).join(", ")))
        : null,
      fresh.size ? h("div", { class: "app-facts__item", dataset: { testid: "new-since-review" } }, h("dt", { class: "app-facts__key" }, "New since last review"), h("dd", { class: "app-facts__value" }, tag(plural(fresh.size, "photo", "photos"), "blue"))) : null,
      detail.newReplyCount
        ? h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, "Patient replies"), h("dd", { class: "app-facts__value", dataset: { testid: "new-replies" } }, tag(`${plural(detail.newReplyCount, "new reply", "new replies")}`, "aqua-green")))
        : null,
      detail.waitingForPhotos ? h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, "Photos"), h("dd", { class: "app-facts__value" }, tag("Waiting for photos", "yellow"))) : null,
      patientFlagFacts(detail),
    ),
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h(
        "div",
        { class: "nhsuk-grid-column-two-thirds" },
        folders.length
          ? folders.map((f) => folderSection(ctx, detail, f, lazy, fresh))
          : h("p", { class: "nhsuk-body" }, "The patient has not shared any folders in this case."),
      ),
      h("div", { class: "nhsuk-grid-column-one-third app-sidebar" }, reviewCard(ctx, detail), triageCard(ctx, detail), notesCard(ctx, detail), exportCard(ctx, detail)),
    ),
  );
  watchForWithdrawal(ctx, caseId);
  ctx.focusHeading();
  ctx.ready();
}
