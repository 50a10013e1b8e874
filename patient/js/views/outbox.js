// "Waiting to send": photos kept (encrypted) on the phone until they are sent, with a count and a
// progress bar per photo while it uploads.

import { h } from "../dom.js";
import { formatDateTime, plural } from "../format.js";
import { onOutboxChange, pending } from "../outbox.js";

/**
 * A live panel for the outbox (all folders, or one). Calls onSent(imageId, folderId) when a photo
 * has been sent. Returns the element; it removes its listener when ctx is cleaned up.
 */
export function outboxPanel(ctx, { folderId = null, onSent } = {}) {
  const panel = h("section", { class: "app-outbox", "aria-labelledby": "outbox-heading", dataset: { testid: "outbox" }, hidden: true });
  const bars = new Map();

  async function refresh() {
    const items = (await pending()).filter((i) => !folderId || i.folderId === folderId);
    if (ctx.signal.aborted) return;
    bars.clear();
    panel.hidden = items.length === 0;
    const rows = items.map((item, index) => {
      const barId = `outbox-progress-${index}`;
      const bar = h("progress", { class: "app-progress", id: barId, max: 100, value: Math.round((item.progress || 0) * 100) });
      bars.set(item.id, bar);
      const state = item.state === "uploading" ? "Sending" : navigator.onLine ? "Waiting to send" : "Waiting for a connection";
      return h(
        "li",
        { class: "app-outbox__item", dataset: { outboxId: item.id, state: item.state } },
        h("label", { class: "nhsuk-body-s app-outbox__label", for: barId }, `Photo taken ${formatDateTime(item.capturedAt) || "just now"}: ${state}`),
        bar,
      );
    });
    panel.replaceChildren(
      h("h2", { class: "nhsuk-heading-s", id: "outbox-heading" }, `Waiting to send (${items.length})`),
      h(
        "p",
        { class: "nhsuk-body-s" },
        `${plural(items.length, "photo is", "photos are")} kept encrypted on this phone and will be sent when you are online.`,
      ),
      h("ul", { class: "nhsuk-list app-outbox__list" }, rows),
    );
  }

  const off = onOutboxChange((e) => {
    if (folderId && e.folderId && e.folderId !== folderId) return;
    if (e.type === "progress" && bars.has(e.id)) {
      bars.get(e.id).value = Math.round(e.progress * 100);
      return;
    }
    if (e.type === "sent") onSent?.(e.imageId, e.folderId);
    refresh();
  });
  ctx.onCleanup(off);
  const onNet = () => refresh();
  window.addEventListener("online", onNet);
  window.addEventListener("offline", onNet);
  ctx.onCleanup(() => {
    window.removeEventListener("online", onNet);
    window.removeEventListener("offline", onNet);
  });
  refresh();
  return panel;
}
