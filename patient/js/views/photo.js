// One photo (notes, rating, delete) and "Compare" two dates side by side.

import { api } from "../api.js";
import { loadInto } from "../blobs.js";
import { button, h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { pageUrl } from "../nav.js";
import { qualityAdvice } from "./folders.js";
import { actionErrorMessage, field, inlineError, textArea } from "./states.js";

const RATINGS = [
  ["", "No rating"],
  ["0", "0 - much better"],
  ["1", "1"],
  ["2", "2"],
  ["3", "3"],
  ["4", "4"],
  ["5", "5 - no change"],
  ["6", "6"],
  ["7", "7"],
  ["8", "8"],
  ["9", "9"],
  ["10", "10 - much worse"],
];

export async function photoView(ctx) {
  const folderId = ctx.query.get("folder");
  const imageId = ctx.query.get("photo");
  const image = await api.image(imageId, ctx.signal);
  ctx.title(`Photo taken ${formatDateTime(image.capturedAt)}`);
  const img = h("img", { class: "app-photo", alt: `Photo taken ${formatDateTime(image.capturedAt)}` });
  if (image.status === "ready") loadInto(img, imageId, "preview", ctx.signal).catch((err) => ctx.handled(err));
  const notes = textArea({ id: "photo-notes", label: "Notes", hint: "For example, it itched more this week", value: image.notes, rows: 3 });
  const treatment = field({ id: "photo-treatment", label: "Treatment at the time (optional)", hint: "For example, steroid cream twice a day", value: image.treatment, attrs: { maxlength: 500 } });
  const rating = h(
    "select",
    { class: "nhsuk-select", id: "photo-rating", name: "photo-rating", "aria-describedby": "photo-rating-hint" },
    RATINGS.map(([v, label]) => h("option", { value: v, selected: String(image.rating ?? "") === v }, label)),
  );
  const saved = h("p", { class: "nhsuk-body-s", role: "status" });
  const errorSlot = h("div", {});
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        errorSlot.replaceChildren();
        saved.textContent = "";
        try {
          await api.updateImage(imageId, {
            notes: notes.input.value.trim() || null,
            treatment: treatment.input.value.trim() || null,
            rating: rating.value === "" ? null : Number(rating.value),
          });
          saved.textContent = "Saved.";
        } catch (err) {
          if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
        }
      },
    },
    notes.group,
    treatment.group,
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "photo-rating" }, "How does it look compared with before?"),
      h("div", { class: "nhsuk-hint", id: "photo-rating-hint" }, "0 is much better, 10 is much worse"),
      rating,
    ),
    button("Save notes", { type: "submit", variant: "secondary" }),
    saved,
  );
  const confirmSlot = h("div", {});
  const del = button("Delete this photo", {
    variant: "warning",
    onclick: () => {
      confirmSlot.replaceChildren(
        h(
          "div",
          { class: "nhsuk-warning-callout" },
          h("h2", { class: "nhsuk-warning-callout__label" }, h("span", { role: "text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Important: "), "Delete this photo?")),
          h("p", {}, "It will be deleted from SkinVault and from any clinic you share it with. You cannot undo this."),
          button("Yes, delete it", {
            variant: "warning",
            onclick: async (e) => {
              e.currentTarget.disabled = true;
              try {
                await api.deleteImage(imageId);
                ctx.navigate(pageUrl("folder", { folder: folderId }), { replace: true });
              } catch (err) {
                e.target.disabled = false;
                if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
              }
            },
          }),
          button("No, keep it", { variant: "secondary", onclick: () => confirmSlot.replaceChildren() }),
        ),
      );
      confirmSlot.querySelector("h2")?.setAttribute("tabindex", "-1");
      confirmSlot.querySelector("h2")?.focus();
    },
  });
  const advice = qualityAdvice(image);
  ctx.show(
    h("a", { class: "nhsuk-back-link", href: pageUrl("folder", { folder: folderId }) }, "Back to the folder"),
    h("h1", {}, `Photo taken ${formatDateTime(image.capturedAt)}`),
    image.status === "ready" ? img : null,
    image.status === "pending" ? h("p", { class: "nhsuk-body" }, "We are still checking this photo.") : null,
    image.status === "rejected" ? h("p", { class: "nhsuk-body" }, `This photo was not accepted. ${image.rejectionReason || ""}`) : null,
    advice.length ? h("div", { class: "nhsuk-inset-text" }, h("h2", { class: "nhsuk-heading-xs" }, "Tips for next time"), h("ul", {}, advice.map((a) => h("li", {}, a)))) : null,
    errorSlot,
    form,
    del,
    confirmSlot,
  );
  ctx.focusHeading();
  ctx.ready();
}

export async function compareView(ctx) {
  const folderId = ctx.query.get("folder");
  const [folder, images] = await Promise.all([api.folder(folderId, ctx.signal), api.images(folderId, ctx.signal)]);
  const ready = images.filter((i) => i.status === "ready").sort((a, b) => (a.capturedAt || "").localeCompare(b.capturedAt || ""));
  ctx.title(`Compare photos - ${folder.name}`);
  const pick = (id, label, selected) =>
    h(
      "div",
      { class: "nhsuk-form-group app-compare__pick" },
      h("label", { class: "nhsuk-label", for: id }, label),
      h("select", { class: "nhsuk-select", id }, ready.map((i) => h("option", { value: i.id, selected: i.id === selected?.id }, formatDateTime(i.capturedAt)))),
    );
  const a = pick("compare-a", "Earlier photo", ready[0]);
  const b = pick("compare-b", "Later photo", ready[ready.length - 1]);
  const imgA = h("img", { class: "app-compare__img", alt: "Earlier photo" });
  const imgB = h("img", { class: "app-compare__img", alt: "Later photo" });
  const show = async () => {
    const [ia, ib] = [a.querySelector("select").value, b.querySelector("select").value];
    const ta = ready.find((i) => i.id === ia);
    const tb = ready.find((i) => i.id === ib);
    imgA.alt = `Photo taken ${formatDateTime(ta?.capturedAt)}`;
    imgB.alt = `Photo taken ${formatDateTime(tb?.capturedAt)}`;
    await Promise.all([loadInto(imgA, ia, "preview", ctx.signal), loadInto(imgB, ib, "preview", ctx.signal)]).catch((err) => ctx.handled(err));
  };
  a.addEventListener("change", show);
  b.addEventListener("change", show);
  ctx.show(
    h("a", { class: "nhsuk-back-link", href: pageUrl("folder", { folder: folderId }) }, "Back to the folder"),
    h("h1", {}, "Compare two dates"),
    ready.length < 2
      ? h("p", { class: "nhsuk-body" }, "You need at least 2 accepted photos in this folder to compare them.")
      : h("div", {}, h("div", { class: "app-compare__picks" }, a, b), h("div", { class: "app-compare", dataset: { testid: "compare" } }, h("figure", {}, imgA), h("figure", {}, imgB))),
  );
  if (ready.length >= 2) await show();
  ctx.focusHeading();
  ctx.ready();
}
