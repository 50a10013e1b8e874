// Building blocks of the photo viewer: a zoomable viewport and its toolbar.

import { button, h } from "../dom.js";
import { attachViewport } from "../zoom.js";

let seq = 0;

/** A focusable viewport showing one photo; returns {el, img, setSource(url, size)}. */
export function zoomViewport(ctx, state, { label, testid }) {
  const helpId = `viewport-help-${++seq}`;
  const img = h("img", { class: "app-viewport__img", alt: label, draggable: "false" });
  const spinner = h("p", { class: "app-viewport__status nhsuk-body-s", role: "status" }, "Loading photo…");
  const el = h(
    "div",
    {
      class: "app-viewport",
      tabindex: "0",
      role: "group",
      "aria-label": `${label}: zoomable view`,
      "aria-describedby": helpId,
      dataset: { testid: testid || "viewport", size: "none" },
    },
    img,
    spinner,
  );
  const help = h(
    "p",
    { class: "nhsuk-u-visually-hidden", id: helpId },
    "Press plus or minus to zoom, the arrow keys to move around, and 0 to reset.",
  );
  ctx.onCleanup(attachViewport(el, img, state));
  return {
    el: h("div", { class: "app-viewport-wrap" }, el, help),
    viewport: el,
    img,
    setSource(url, size) {
      img.addEventListener(
        "load",
        () => {
          el.dataset.size = size;
          spinner.hidden = true;
        },
        { once: true },
      );
      img.src = url;
    },
    failed(message) {
      spinner.hidden = false;
      spinner.textContent = message;
    },
  };
}

export function zoomToolbar(state, extra = [], { rotate = false } = {}) {
  const level = h("span", { class: "app-zoom-level nhsuk-body-s", dataset: { testid: "zoom-level" } });
  state.subscribe((s) => {
    level.textContent = `Zoom ${Math.round(s.scale * 100)}%${s.rotation ? `, turned ${s.rotation}°` : ""}`;
  });
  return h(
    "div",
    { class: "app-toolbar", role: "toolbar", "aria-label": "Zoom" },
    smallButton("Zoom in", { dataset: { action: "zoom-in" }, onclick: () => state.zoomIn() }),
    smallButton("Zoom out", { dataset: { action: "zoom-out" }, onclick: () => state.zoomOut() }),
    smallButton("Reset zoom", { dataset: { action: "zoom-reset" }, onclick: () => state.reset() }),
    rotate ? smallButton("Rotate", { dataset: { action: "rotate" }, onclick: () => state.rotate() }) : null,
    level,
    extra,
  );
}

export function smallButton(text, attrs = {}) {
  return button(text, { class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", ...attrs });
}
