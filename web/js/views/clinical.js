// Clinical depth in the clinician app: triage per folder (coded outcomes, "List for excision" with
// procedure and priority, append-only history), the 28-day Faster Diagnosis Standard clock, the
// patient's lesion history, safeguards (intimate sites blurred until "Show photo", Under 18),
// how the NHS number was obtained, and the measure tool (calibrate on a ruler, measure in mm).

import { api } from "../api.js";
import { announce, button, h, tag } from "../dom.js";
import { formatDateTime, plural, TRIAGE_OUTCOMES, triageLabel } from "../format.js";
import { actionErrorMessage, inlineError } from "./states.js";

export const PROCEDURES = [
  { value: "excision-biopsy", label: "Excision biopsy" },
  { value: "shave", label: "Shave biopsy" },
  { value: "punch", label: "Punch biopsy" },
  { value: "curettage", label: "Curettage" },
];
export const PRIORITIES = [
  { value: "routine", label: "Routine" },
  { value: "urgent", label: "Urgent" },
  { value: "asap", label: "As soon as possible" },
];
const NHS_STATUS = {
  verified: "Verified by NHS login",
  unverified: "Not verified (entered by the patient)",
  absent: "Not given",
};

// ----------------------------------------------------------------------------- worklist
/** The FDS clock of an urgent suspected cancer case: days left of 28, or how long overdue. */
export function fdsTag(fds) {
  if (!fds) return null;
  const days = Number(fds.daysRemaining);
  const text = days < 0 ? `${plural(-days, "day", "days")} over the 28-day standard` : days === 0 ? "28-day standard ends today" : `${plural(days, "day", "days")} left of 28`;
  return h("span", { class: "app-fds", dataset: { testid: "fds" } }, tag(text, days <= 7 ? "red" : "orange"));
}

export function under18Tag(flag) {
  return flag ? tag("Under 18", "purple") : null;
}

// ----------------------------------------------------------------------------- case: patient facts
export function patientFlagFacts(detail) {
  const flags = detail.patientFlags || {};
  const fact = (label, value, testid) =>
    h("div", { class: "app-facts__item" }, h("dt", { class: "app-facts__key" }, label), h("dd", { class: "app-facts__value", dataset: { testid } }, value));
  return [
    flags.nhsNumberStatus ? fact("NHS number check", NHS_STATUS[flags.nhsNumberStatus] || flags.nhsNumberStatus, "nhs-status") : null,
    flags.under18 ? fact("Age", under18Tag(true), "under-18") : null,
    flags.duplicateNhsNumber
      ? fact("Identity", tag("Another patient shared with this NHS number and a different name or date of birth: check identity", "red"), "duplicate-nhs")
      : null,
    detail.fds ? fact("Urgent suspected cancer", fdsTag(detail.fds), "case-fds") : null,
  ];
}

// ----------------------------------------------------------------------------- case: per folder
function entrySummary(entry) {
  const t = triageLabel(entry.outcome);
  const ex = entry.excision;
  return h(
    "div",
    { class: "app-folder-triage__entry", dataset: { testid: "folder-triage-current", outcome: entry.outcome } },
    h("p", { class: "nhsuk-body-s" }, tag(t.label, t.colour)),
    entry.coding ? h("p", { class: "nhsuk-body-s app-muted" }, `SNOMED CT ${entry.coding.code} ${entry.coding.display}${entry.coding.toConfirm ? " (code to confirm)" : ""}`) : null,
    ex
      ? h(
          "p",
          { class: "nhsuk-body-s", dataset: { testid: "excision" } },
          `${ex.procedure.label}, ${ex.priorityLabel.toLowerCase()} priority, site: ${ex.bodySite ? ex.bodySite.label : ex.siteText || "not recorded"}`,
        )
      : null,
    entry.note ? h("p", { class: "nhsuk-body-s app-triage-note" }, h("span", { class: "app-muted" }, "Internal note: "), entry.note) : null,
    h("p", { class: "nhsuk-body-s app-muted" }, `Recorded ${formatDateTime(entry.recordedAt) || ""}${entry.recordedBy ? ` by ${entry.recordedBy}` : ""}`),
  );
}

function historyDetails(ctx, detail, folder) {
  const list = h("ol", { class: "nhsuk-list app-folder-triage__history" });
  const details = h(
    "details",
    { class: "nhsuk-details", dataset: { testid: "folder-triage-history" } },
    h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, "Triage history")),
    h("div", { class: "nhsuk-details__text" }, list),
  );
  details.addEventListener("toggle", async () => {
    if (!details.open) return;
    list.replaceChildren(h("li", { class: "nhsuk-body-s app-muted" }, "Loading…"));
    try {
      const res = await api.folderTriageHistory(detail.caseId, folder.id, ctx.signal);
      const items = res?.items || [];
      list.replaceChildren(...(items.length ? items.map((e) => h("li", {}, entrySummary(e))) : [h("li", { class: "nhsuk-body-s" }, "No decisions yet.")]));
    } catch (err) {
      if (!ctx.handled(err)) list.replaceChildren(h("li", {}, inlineError(actionErrorMessage(err))));
    }
  });
  return details;
}

function folderTriageForm(ctx, detail, folder, current) {
  const base = `ft-${folder.id}`;
  const name = `${base}-outcome`;
  const errorSlot = h("div", {});
  const radios = TRIAGE_OUTCOMES.map((o, i) =>
    h(
      "div",
      { class: "nhsuk-radios__item" },
      h("input", { class: "nhsuk-radios__input", id: `${name}-${i}`, name, type: "radio", value: o.value }),
      h("label", { class: "nhsuk-label nhsuk-radios__label", for: `${name}-${i}` }, o.label),
    ),
  );
  const select = (id, label, options) =>
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: id }, label),
      h("select", { class: "nhsuk-select", id, name: id }, options.map((o) => h("option", { value: o.value }, o.label))),
    );
  const procedure = select(`${base}-procedure`, "Procedure", PROCEDURES);
  const priority = select(`${base}-priority`, "Priority", PRIORITIES);
  const excision = h(
    "div",
    { class: "app-folder-triage__excision", hidden: true, dataset: { testid: "excision-fields" } },
    h("p", { class: "nhsuk-body-s" }, `Site: ${folder.bodySiteCode?.display || folder.name} (from the folder)`),
    procedure,
    priority,
  );
  const text = (id, label, hint) =>
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: id }, label),
      h("div", { class: "nhsuk-hint", id: `${id}-hint` }, hint),
      h("textarea", { class: "nhsuk-textarea", id, name: id, rows: "2", maxlength: "2000", "aria-describedby": `${id}-hint` }),
    );
  const message = text(`${base}-message`, "Message for the patient (optional)", "The patient sees the outcome explained in plain English, with this message.");
  const note = text(`${base}-note`, "Internal note (optional)", "Only your clinic sees this. It is never shown or sent to the patient.");
  const submit = button("Record outcome for this folder", { type: "submit", variant: "secondary", dataset: { action: "folder-triage" } });
  const form = h(
    "form",
    { class: "app-folder-triage__form", novalidate: true },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h(
        "fieldset",
        { class: "nhsuk-fieldset" },
        h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, `Outcome for ${folder.name}`),
        h("div", { class: "nhsuk-radios nhsuk-radios--small" }, radios),
      ),
    ),
    excision,
    message,
    note,
    errorSlot,
    submit,
  );
  form.addEventListener("change", (e) => {
    if (e.target.name === name) excision.hidden = e.target.value !== "list-for-excision";
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorSlot.replaceChildren();
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    if (!chosen) {
      errorSlot.replaceChildren(inlineError("Select an outcome for this folder"));
      form.querySelector(`input[name="${name}"]`).focus();
      return;
    }
    const body = {
      outcome: chosen.value,
      note: form.querySelector(`#${base}-note`).value.trim() || null,
      patientMessage: form.querySelector(`#${base}-message`).value.trim() || null,
    };
    if (chosen.value === "list-for-excision") {
      body.excision = { procedure: form.querySelector(`#${base}-procedure`).value, priority: form.querySelector(`#${base}-priority`).value };
    }
    submit.disabled = true;
    try {
      const entry = await api.folderTriage(detail.caseId, folder.id, body);
      folder.triage = entry;
      current.replaceChildren(entrySummary(entry));
      form.reset();
      excision.hidden = true;
      announce(`Outcome recorded for ${folder.name}: ${triageLabel(entry.outcome).label}`);
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function lesionHistory(folder) {
  const history = folder.lesionHistory;
  if (!history) return h("p", { class: "nhsuk-body-s app-muted", dataset: { testid: "lesion-history" } }, "The patient has not answered the lesion history questions for this folder.");
  return h(
    "div",
    { dataset: { testid: "lesion-history" } },
    h("h3", { class: "nhsuk-heading-xs" }, "Lesion history from the patient"),
    h(
      "dl",
      { class: "nhsuk-summary-list app-lesion-history" },
      history.answers.map((a) =>
        h("div", { class: "nhsuk-summary-list__row" }, h("dt", { class: "nhsuk-summary-list__key" }, a.question), h("dd", { class: "nhsuk-summary-list__value" }, a.answerText)),
      ),
    ),
    h("p", { class: "nhsuk-body-s app-muted" }, `Answered ${formatDateTime(history.answeredAt) || ""}`),
  );
}

/** The folder's clinical panel: lesion history, current triage, the form and the history. */
export function folderClinical(ctx, detail, folder) {
  const current = h("div", {}, folder.triage ? entrySummary(folder.triage) : h("p", { class: "nhsuk-body-s", dataset: { testid: "folder-triage-current" } }, tag("Awaiting triage", "yellow")));
  return h(
    "div",
    { class: "app-folder-clinical", dataset: { testid: "folder-clinical" } },
    folder.intimate ? h("p", { class: "nhsuk-body-s" }, tag("Intimate area", "grey"), " Photos are blurred until you choose Show photo. Cannot be used for teaching or research.") : null,
    lesionHistory(folder),
    h(
      "section",
      { class: "app-folder-triage", "aria-label": `Triage for ${folder.name}` },
      h("h3", { class: "nhsuk-heading-xs" }, "Triage for this folder"),
      current,
      folderTriageForm(ctx, detail, folder, current),
      historyDetails(ctx, detail, folder),
    ),
  );
}

// ----------------------------------------------------------------------------- safeguards
/** Blur a photo of an intimate area until the clinician chooses "Show photo" (audited by the API). */
export function guardIntimate(ctx, detail, image, target, { onShown } = {}) {
  target.classList.add("app-intimate");
  const errorSlot = h("div", {});
  const show = button("Show photo", {
    variant: "secondary",
    class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small app-intimate__show",
    dataset: { action: "show-photo", imageId: image.id },
    onclick: async () => {
      errorSlot.replaceChildren();
      show.disabled = true;
      try {
        await api.revealPhoto(detail.caseId, image.id);
        target.classList.remove("app-intimate");
        box.remove();
        announce("Photo shown");
        onShown?.();
      } catch (err) {
        show.disabled = false;
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    },
  });
  const box = h(
    "div",
    { class: "app-intimate__notice", dataset: { testid: "intimate-notice" } },
    h("p", { class: "nhsuk-body-s" }, "Photo of an intimate area, blurred."),
    show,
    errorSlot,
  );
  return box;
}

export function isIntimate(folder) {
  return Boolean(folder?.intimate);
}

// ----------------------------------------------------------------------------- measure
/**
 * Measure tool: click two points along the ruler and give their distance in mm (calibration), then
 * two points across the lesion. Saves the measurement as the clinic's annotation of the photo.
 */
export function measureTool(ctx, detail, image, loadUrl, { hidden = () => false } = {}) {
  const errorSlot = h("div", {});
  const result = h("p", { class: "nhsuk-body", role: "status", dataset: { testid: "measure-result" } });
  const stepText = h("p", { class: "nhsuk-body-s", dataset: { testid: "measure-step" } });
  const mmInput = h("input", { class: "nhsuk-input nhsuk-input--width-4", id: "ruler-mm", name: "ruler-mm", type: "number", min: "0.1", step: "0.1", value: "10", inputmode: "decimal" });
  const SVG = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "app-measure__overlay");
  svg.setAttribute("aria-hidden", "true");
  const img = h("img", { class: "app-measure__img", alt: "Photo to measure: click two points on the ruler, then two across the lesion", draggable: "false" });
  const stage = h("div", { class: "app-measure__stage", dataset: { testid: "measure-stage" } }, img, svg);
  const saved = h("ul", { class: "nhsuk-list", dataset: { testid: "measurements" } });
  let points = [];
  let last = null;

  const natural = (e) => {
    const r = img.getBoundingClientRect();
    const x = ((e.clientX - r.left) * img.naturalWidth) / r.width;
    const y = ((e.clientY - r.top) * img.naturalHeight) / r.height;
    return { x: Math.max(0, Math.round(x * 10) / 10), y: Math.max(0, Math.round(y * 10) / 10) };
  };
  const draw = () => {
    svg.setAttribute("viewBox", `0 0 ${img.naturalWidth || 1} ${img.naturalHeight || 1}`);
    svg.replaceChildren();
    const stroke = Math.max(2, (img.naturalWidth || 800) / 300);
    for (let i = 0; i + 1 < points.length; i += 2) {
      const line = document.createElementNS(SVG, "line");
      const [a, b] = [points[i], points[i + 1]];
      for (const [k, v] of Object.entries({ x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: i === 0 ? "#ffeb3b" : "#00e5ff", "stroke-width": stroke })) line.setAttribute(k, String(v));
      svg.append(line);
    }
    for (const p of points) {
      const dot = document.createElementNS(SVG, "circle");
      for (const [k, v] of Object.entries({ cx: p.x, cy: p.y, r: stroke * 2, fill: "#ffffff" })) dot.setAttribute(k, String(v));
      svg.append(dot);
    }
  };
  const steps = ["Step 1 of 2: click one end of a known length on the ruler.", "Step 1 of 2: click the other end on the ruler.", "Step 2 of 2: click one edge of the lesion.", "Step 2 of 2: click the opposite edge of the lesion."];
  const update = () => {
    stepText.textContent = points.length < 4 ? steps[points.length] : "Measured. Save it, or start again.";
    saveBtn.disabled = points.length < 4;
    draw();
  };
  // points are kept in the shown preview's pixels; the API stores the original photo's pixels
  const toOriginal = () => (image.width && img.naturalWidth ? image.width / img.naturalWidth : 1);
  const line = (a, b) => {
    const k = toOriginal();
    const r = (v) => Math.round(v * k * 10) / 10;
    return { x1: r(a.x), y1: r(a.y), x2: r(b.x), y2: r(b.y) };
  };
  const preview = () => {
    if (points.length < 4) return;
    const len = (a, b) => Math.hypot(b.x - a.x, b.y - a.y);
    const mm = (len(points[2], points[3]) * Number(mmInput.value)) / len(points[0], points[1]);
    result.textContent = Number.isFinite(mm) ? `About ${mm.toFixed(1)} mm (not saved yet)` : "";
  };
  stage.addEventListener("click", (e) => {
    if (!img.naturalWidth || points.length >= 4) return;
    points.push(natural(e));
    update();
    preview();
  });
  const saveBtn = button("Save measurement", {
    dataset: { action: "save-measurement" },
    onclick: async () => {
      errorSlot.replaceChildren();
      saveBtn.disabled = true;
      try {
        last = await api.addMeasurement(detail.caseId, image.id, {
          calibration: { line: line(points[0], points[1]), millimetres: Number(mmInput.value) },
          line: line(points[2], points[3]),
        });
        result.textContent = `Measured ${last.lengthMm} mm. Saved with the photo.`;
        saved.append(h("li", {}, `${last.lengthMm} mm, ${formatDateTime(last.createdAt)}, ${last.author.name}`));
        announce(`Measurement saved: ${last.lengthMm} millimetres`);
      } catch (err) {
        saveBtn.disabled = false;
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    },
  });
  const restart = button("Start again", {
    variant: "secondary",
    class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small",
    dataset: { action: "measure-restart" },
    onclick: () => {
      points = [];
      result.textContent = "";
      update();
    },
  });
  mmInput.addEventListener("input", preview);
  img.addEventListener("load", update);

  const details = h(
    "details",
    { class: "nhsuk-details app-measure", dataset: { testid: "measure" } },
    h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, "Measure")),
    h(
      "div",
      { class: "nhsuk-details__text" },
      h("p", { class: "nhsuk-body-s" }, "Measure a lesion in millimetres against a ruler in the photo. The measurement is saved with the photo for your clinic and goes into the export."),
      h("div", { class: "nhsuk-form-group" }, h("label", { class: "nhsuk-label", for: "ruler-mm" }, "Length you will mark on the ruler, in millimetres"), mmInput),
      stepText,
      stage,
      result,
      errorSlot,
      h("div", { class: "app-toolbar" }, saveBtn, restart),
      h("h3", { class: "nhsuk-heading-xs" }, "Saved measurements"),
      saved,
    ),
  );
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    if (hidden()) {
      // an intimate-site photo stays hidden here too until the clinician chooses Show photo
      errorSlot.replaceChildren(inlineError("Choose Show photo above before measuring this photo."));
      return;
    }
    errorSlot.replaceChildren();
    loaded = true;
    update();
    try {
      img.src = await loadUrl();
      const existing = await api.measurements(detail.caseId, image.id, ctx.signal);
      saved.replaceChildren(...(existing?.items || []).map((m) => h("li", {}, `${m.lengthMm} mm, ${formatDateTime(m.createdAt)}, ${m.author.name}`)));
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  });
  return details;
}
