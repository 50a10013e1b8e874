// Two photos of one folder side by side, zoomed and panned together.

import { api, NotAvailableError } from "../api.js";
import { loadImage, revoke } from "../blobs.js";
import { announce, backLink, button, h } from "../dom.js";
import { daysBetween, formatDateTime, plural } from "../format.js";
import { rememberCase } from "../store.js";
import { ZoomState } from "../zoom.js";
import { photoLabel, readyImages } from "./case.js";
import { guardIntimate, isIntimate } from "./clinical.js";
import { actionErrorMessage, inlineError } from "./states.js";
import { smallButton, zoomToolbar, zoomViewport } from "./viewer.js";

export async function compareView(ctx) {
  const { caseId } = ctx.params;
  const caseHref = `/cases/${encodeURIComponent(caseId)}`;
  ctx.title("Compare photos");
  ctx.show(backLink(caseHref, "Back to case"), h("h1", {}, "Compare photos"), h("p", { class: "nhsuk-body app-loading", role: "status" }, "Loading photos…"));

  const detail = await api.case(caseId, ctx.signal);
  rememberCase(detail);
  const folder = (detail.folders || []).find((f) => f.id === ctx.query.get("folder"));
  if (!folder) throw new NotAvailableError(null);
  const images = readyImages(folder);
  const pick = (id, fallback) => images.find((i) => i.id === id) || fallback;
  let a = pick(ctx.query.get("a"), images[0]);
  let b = pick(ctx.query.get("b"), images[images.length - 1]);
  if (!a || !b) throw new NotAvailableError(null);
  if ((a.capturedAt || "") > (b.capturedAt || "")) [a, b] = [b, a];

  const state = new ZoomState();
  const left = zoomViewport(ctx, state, { label: `Earlier photo: ${photoLabel(a)}`, testid: "viewport-a" });
  const right = zoomViewport(ctx, state, { label: `Later photo: ${photoLabel(b)}`, testid: "viewport-b" });
  const errorSlot = h("div", {});
  const urls = { a: null, b: null };

  const choose = (name, id, selected) =>
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: id }, name),
      h(
        "select",
        { class: "nhsuk-select", id, name: id },
        images.map((img, i) => h("option", { value: img.id, selected: img.id === selected.id }, `${i + 1}. ${formatDateTime(img.capturedAt) || img.id}`)),
      ),
    );
  const form = h(
    "form",
    { class: "app-compare-form", novalidate: true },
    h(
      "div",
      { class: "app-compare-form__fields" },
      choose("First photo", "compare-a", a),
      choose("Second photo", "compare-b", b),
      button("Show these photos", { type: "submit", variant: "secondary" }),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ folder: folder.id, a: form.querySelector("#compare-a").value, b: form.querySelector("#compare-b").value });
    ctx.navigate(`${caseHref}/compare?${q}`, { replace: true });
  });

  const originalsBtn = smallButton("Show originals", {
    dataset: { action: "load-originals" },
    onclick: async () => {
      originalsBtn.disabled = true;
      errorSlot.replaceChildren();
      try {
        const [ua, ub] = await Promise.all([loadImage(a.id, "original", ctx.signal), loadImage(b.id, "original", ctx.signal)]);
        revoke(urls.a);
        revoke(urls.b);
        urls.a = ua;
        urls.b = ub;
        left.setSource(ua, "original");
        right.setSource(ub, "original");
        originalsBtn.textContent = "Showing originals";
        announce("Original photos loaded");
      } catch (err) {
        originalsBtn.disabled = false;
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    },
  });

  const gap = daysBetween(a.capturedAt, b.capturedAt);
  const figure = (view, img, which) =>
    h(
      "figure",
      { class: "app-compare__item" },
      isIntimate(folder) ? guardIntimate(ctx, detail, img, view.viewport) : null,
      view.el,
      h("figcaption", { class: "app-compare__caption nhsuk-body-s" }, h("strong", {}, which), ` ${formatDateTime(img.capturedAt) || ""}`, img.notes ? h("span", { class: "app-compare__note" }, `Patient's note: ${img.notes}`) : null),
    );

  ctx.show(
    backLink(caseHref, "Back to case"),
    h("span", { class: "nhsuk-caption-l" }, `${detail.patient?.displayName || ""} · ${folder.name}`),
    h("h1", {}, "Compare photos"),
    h("p", { class: "nhsuk-body", dataset: { testid: "compare-gap" } }, gap === null ? "" : gap === 0 ? "Taken on the same day." : `Taken ${plural(gap, "day", "days")} apart.`),
    form,
    zoomToolbar(state, [originalsBtn]),
    h("p", { class: "nhsuk-body-s app-muted" }, "Zooming or moving one photo moves the other to match."),
    errorSlot,
    h("div", { class: "app-compare" }, figure(left, a, "Earlier:"), figure(right, b, "Later:")),
  );
  ctx.focusHeading();
  ctx.ready();

  try {
    const [ua, ub] = await Promise.all([loadImage(a.id, "preview", ctx.signal), loadImage(b.id, "preview", ctx.signal)]);
    urls.a = ua;
    urls.b = ub;
    left.setSource(ua, "preview");
    right.setSource(ub, "preview");
  } catch (err) {
    if (!ctx.handled(err)) {
      left.failed("The photo could not be loaded.");
      right.failed("The photo could not be loaded.");
    }
  }
}
