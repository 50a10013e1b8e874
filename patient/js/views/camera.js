// Take photo: the live rear camera with a see-through overlay of the folder's most recent photo,
// so the same framing and distance can be repeated, and short tips. "Choose from gallery" is
// always offered too, including where there is no camera.

import { api } from "../api.js";
import { objectUrl } from "../blobs.js";
import { button, h } from "../dom.js";
import { pageUrl } from "../nav.js";
import { queuePhoto } from "../outbox.js";
import { loadRecord, saveRecord } from "../people.js";
import { photoErrorMessage } from "./folders.js";
import { outboxPanel } from "./outbox.js";
import { inlineError, notice } from "./states.js";

const TIPS = [
  "Use daylight, near a window. Do not use the flash.",
  "Hold the phone 15 to 30cm (6 to 12 inches) from your skin.",
  "Put a ruler or a coin next to it to show the size.",
  "Line the photo up with the faint outline of your last one.",
];

function cameraErrorMessage(err) {
  if (err?.name === "NotAllowedError") return "SkinVault is not allowed to use the camera. You can allow it in your browser settings, or choose a photo from your gallery.";
  if (err?.name === "NotFoundError" || err?.name === "OverconstrainedError") return "We could not find a camera on this device. Choose a photo from your gallery instead.";
  return "The camera could not start. Choose a photo from your gallery instead.";
}

async function latestReadyImage(folderId, signal) {
  try {
    const images = await api.images(folderId, signal);
    return images.filter((i) => i.status === "ready").sort((a, b) => (b.capturedAt || "").localeCompare(a.capturedAt || ""))[0] || null;
  } catch {
    const cachedImages = (await loadRecord(`images:${folderId}`)) || [];
    return cachedImages.filter((i) => i.status === "ready").sort((a, b) => (b.capturedAt || "").localeCompare(a.capturedAt || ""))[0] || null;
  }
}

export async function cameraView(ctx) {
  const folderId = ctx.query.get("folder");
  ctx.title("Take photo");
  const video = h("video", { class: "app-camera__video", autoplay: true, playsinline: true, muted: true, "aria-label": "Camera view" });
  video.muted = true;
  const overlay = h("img", { class: "app-camera__overlay", alt: "", hidden: true, dataset: { testid: "overlay" } });
  const stage = h("div", { class: "app-camera__stage" }, video, overlay);
  const status = h("p", { class: "nhsuk-body-s", role: "status" });
  const errorSlot = h("div", {});
  const overlayToggle = h("input", { class: "nhsuk-checkboxes__input", id: "overlay-toggle", type: "checkbox", checked: true, disabled: true });
  overlayToggle.addEventListener("change", () => {
    overlay.hidden = !overlayToggle.checked || !overlay.src;
  });
  let stream = null;
  const stop = () => {
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    video.srcObject = null;
  };
  ctx.onCleanup(stop);

  async function keep(file) {
    errorSlot.replaceChildren();
    status.textContent = "Encrypting the photo…";
    try {
      await queuePhoto(file, folderId);
      status.textContent = navigator.onLine ? "Photo kept. Sending it now." : "Photo kept on this phone. It will be sent when you are back online.";
    } catch (err) {
      status.textContent = "";
      errorSlot.replaceChildren(inlineError(photoErrorMessage(err)));
    }
  }

  const shutter = button("Take photo", {
    disabled: true,
    dataset: { testid: "shutter" },
    onclick: async () => {
      if (!stream || !video.videoWidth) return;
      shutter.disabled = true;
      const canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
      canvas.width = 0;
      canvas.height = 0;
      if (blob) await keep(new File([blob], "camera.jpg", { type: "image/jpeg", lastModified: Date.now() }));
      else errorSlot.replaceChildren(inlineError("The photo could not be taken. Try again."));
      shutter.disabled = false;
    },
  });

  const gallery = h("input", {
    class: "app-file-input",
    type: "file",
    id: "camera-gallery",
    accept: "image/*",
    onchange: async (e) => {
      const file = e.target.files?.[0];
      e.target.value = "";
      if (file) await keep(file);
    },
  });

  ctx.show(
    h("a", { class: "nhsuk-back-link", href: pageUrl("folder", { folder: folderId }) }, "Back to the folder"),
    h("h1", {}, "Take photo"),
    errorSlot,
    stage,
    h(
      "div",
      { class: "nhsuk-checkboxes nhsuk-checkboxes--small app-overlay-toggle" },
      h("div", { class: "nhsuk-checkboxes__item" }, overlayToggle, h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: "overlay-toggle" }, "Show my last photo as a guide")),
    ),
    status,
    h(
      "div",
      { class: "app-actions" },
      shutter,
      h("label", { class: "nhsuk-button nhsuk-button--secondary app-file-label", for: "camera-gallery" }, "Choose from gallery"),
      gallery,
    ),
    h("div", { class: "nhsuk-body-s app-tips" }, h("h2", { class: "nhsuk-heading-xs" }, "Tips for a useful photo"), h("ul", {}, TIPS.map((t) => h("li", {}, t)))),
    outboxPanel(ctx, { folderId }),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("folder", { folder: folderId }) }, "Done")),
  );
  ctx.focusHeading();

  // the guide: the most recent ready photo, faint over the live picture. A copy is kept on the
  // phone (sealed under the person's passcode key) so the guide also shows when offline.
  (async () => {
    let bytes = null;
    const image = await latestReadyImage(folderId, ctx.signal);
    if (image && navigator.onLine) {
      try {
        bytes = new Uint8Array(await (await api.imageContent(image.id, "preview", ctx.signal)).arrayBuffer());
        saveRecord(`overlay:${folderId}`, bytes).catch(() => {});
      } catch {
        bytes = null;
      }
    }
    if (!bytes) bytes = await loadRecord(`overlay:${folderId}`);
    if (!bytes || ctx.signal.aborted) return;
    overlay.addEventListener("load", () => (overlay.dataset.state = "loaded"), { once: true });
    overlay.src = objectUrl(new Blob([bytes], { type: "image/jpeg" }));
    overlay.hidden = !overlayToggle.checked;
    overlayToggle.disabled = false;
    stage.dataset.overlay = "shown";
  })().catch(() => {});

  if (!navigator.mediaDevices?.getUserMedia) {
    errorSlot.replaceChildren(notice("This device cannot open the camera from SkinVault. Choose a photo from your gallery instead."));
    stage.hidden = true;
    ctx.ready();
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1440 } }, audio: false });
    if (ctx.signal.aborted) {
      stop();
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
    shutter.disabled = false;
    stage.dataset.camera = "live";
  } catch (err) {
    stage.hidden = true;
    errorSlot.replaceChildren(notice(cameraErrorMessage(err)));
  }
  ctx.ready();
}
