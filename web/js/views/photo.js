// One photo: preview at first, the original on demand, zoom and pan, download, comments.

import { api, NotAvailableError } from "../api.js";
import { loadImage, revoke, saveResponse } from "../blobs.js";
import { announce, backLink, h, summaryList } from "../dom.js";
import { formatDateTime } from "../format.js";
import { rememberCase } from "../store.js";
import { ZoomState } from "../zoom.js";
import { humanise, patientWords, photoLabel, qualityLabel, readyImages, uploadTimeOnly } from "./case.js";
import { guardIntimate, isIntimate, measureTool } from "./clinical.js";
import { commentsSection } from "./comments.js";
import { actionErrorMessage, inlineError } from "./states.js";
import { smallButton, zoomToolbar, zoomViewport } from "./viewer.js";

export function findImage(detail, imageId) {
  for (const folder of detail.folders || []) {
    const image = (folder.images || []).find((i) => i.id === imageId);
    if (image) return { folder, image };
  }
  return null;
}

function safeDate(iso) {
  return (iso || "").slice(0, 10).replace(/[^0-9-]/g, "") || "undated";
}

export async function photoView(ctx) {
  const { caseId, imageId } = ctx.params;
  const caseHref = `/cases/${encodeURIComponent(caseId)}`;
  ctx.title("Photo");
  ctx.show(backLink(caseHref, "Back to case"), h("h1", {}, "Photo"), h("p", { class: "nhsuk-body app-loading", role: "status" }, "Loading photo…"));

  const detail = await api.case(caseId, ctx.signal); // fresh: the share may have been withdrawn
  rememberCase(detail);
  const found = findImage(detail, imageId);
  if (!found) throw new NotAvailableError(null);
  const { folder, image } = found;
  const label = photoLabel(image);
  ctx.title(`${label} - ${detail.patient?.displayName || "Case"}`);

  const state = new ZoomState();
  const view = zoomViewport(ctx, state, { label: `${label}, ${folder.name}`, testid: "viewport" });
  const errorSlot = h("div", {});
  let currentUrl = null;

  const originalBtn = smallButton("Show original", {
    dataset: { action: "load-original" },
    onclick: async () => {
      originalBtn.disabled = true;
      originalBtn.textContent = "Loading original…";
      errorSlot.replaceChildren();
      try {
        const url = await loadImage(image.id, "original", ctx.signal);
        const old = currentUrl;
        currentUrl = url;
        view.setSource(url, "original");
        revoke(old);
        originalBtn.textContent = "Showing original";
        announce("Original photo loaded");
      } catch (err) {
        originalBtn.disabled = false;
        originalBtn.textContent = "Show original";
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    },
  });
  const downloadBtn = smallButton("Download original", {
    dataset: { action: "download-original" },
    onclick: async () => {
      downloadBtn.disabled = true;
      errorSlot.replaceChildren();
      try {
        const res = await api.imageContent(image.id, "original", ctx.signal);
        await saveResponse(res, `photo-${safeDate(image.capturedAt)}-${image.id}.jpg`);
        announce("Original photo downloaded");
      } catch (err) {
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      } finally {
        downloadBtn.disabled = false;
      }
    },
  });

  const siblings = readyImages(folder);
  const index = siblings.findIndex((i) => i.id === image.id);
  const photoHref = (img) => `${caseHref}/photos/${encodeURIComponent(img.id)}`;
  const flags = image.quality?.flags || [];
  let shown = !isIntimate(folder); // an intimate-site photo is shown only after "Show photo"

  ctx.show(
    backLink(caseHref, "Back to case"),
    h("span", { class: "nhsuk-caption-l" }, `${detail.patient?.displayName || ""} · ${folder.name}`),
    h("h1", {}, label),
    zoomToolbar(state, [originalBtn, downloadBtn], { rotate: true }),
    errorSlot,
    isIntimate(folder)
      ? guardIntimate(ctx, detail, image, view.viewport, {
          onShown: () => {
            shown = true;
          },
        })
      : null,
    view.el,
    measureTool(ctx, detail, image, () => loadImage(image.id, "preview", ctx.signal), { hidden: () => !shown }),
    h(
      "nav",
      { class: "app-photo-nav", "aria-label": "Other photos in this folder" },
      index > 0 ? h("a", { class: "nhsuk-link", href: photoHref(siblings[index - 1]), rel: "prev" }, "Previous photo") : null,
      index >= 0 && index < siblings.length - 1 ? h("a", { class: "nhsuk-link", href: photoHref(siblings[index + 1]), rel: "next" }, "Next photo") : null,
    ),
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h(
        "div",
        { class: "nhsuk-grid-column-one-half" },
        h("h2", { class: "nhsuk-heading-m" }, "About this photo"),
        summaryList([
          uploadTimeOnly(image)
            ? ["Uploaded", `${formatDateTime(image.uploadedAt || image.capturedAt) || "Not recorded"} (when it was taken is not known)`]
            : ["Taken", formatDateTime(image.capturedAt) || "Not recorded"],
          ["Folder", folder.name],
          ["Body site", humanise(folder.bodySite) || folder.bodySiteCode?.display || "Not recorded"],
          image.width && image.height ? ["Size", `${image.width} × ${image.height} pixels`] : null,
          ["Patient's note", image.notes || "None"],
          ...patientWords(image),
          flags.length ? ["Quality", flags.map((f) => `${qualityLabel(f.code)}${f.advice ? `: ${f.advice}` : ""}`).join("; ")] : null,
        ]),
      ),
      h(
        "div",
        { class: "nhsuk-grid-column-one-half" },
        commentsSection(ctx, {
          heading: "Comments on this photo",
          label: "Add a comment about this photo",
          headingLevel: "h2",
          load: (signal) => api.imageComments(image.id, signal),
          add: (text) => api.addImageComment(image.id, text),
          withdraw: (c) => api.withdrawComment(ctx.params.caseId, c.id),
          testid: "photo-comments",
        }),
      ),
    ),
  );
  ctx.focusHeading();
  ctx.ready();

  try {
    currentUrl = await loadImage(image.id, "preview", ctx.signal);
    view.setSource(currentUrl, "preview");
  } catch (err) {
    if (!ctx.handled(err)) view.failed("The photo could not be loaded. Reload the page to try again.");
  }
}
