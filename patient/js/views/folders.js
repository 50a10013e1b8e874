// Folders: the list (home), new / edit / archive, and one folder's timeline of photos.

import { ApiError, api } from "../api.js";
import { loadInto } from "../blobs.js";
import { groupSites, siteLabel } from "../bodysites.js";
import { button, h } from "../dom.js";
import { formatDate, formatDateTime, formatPlainDate, todayIso } from "../format.js";
import { pageUrl } from "../nav.js";
import { queuePhoto } from "../outbox.js";
import { loadRecord, saveRecord } from "../people.js";
import { bodyMap } from "./bodymap.js";
import { dueReminders, messagesPanel, reminderControl } from "./conversation.js";
import { outboxPanel } from "./outbox.js";
import { actionErrorMessage, field, inlineError, notice, textArea } from "./states.js";

/** Load from the API and keep a sealed copy for offline use; offline, use the copy. */
export async function cached(name, load) {
  try {
    const value = await load();
    saveRecord(name, value).catch(() => {});
    return { value, offline: false };
  } catch (err) {
    if (err instanceof ApiError && err.network) {
      const value = await loadRecord(name);
      if (value) return { value, offline: true };
    }
    throw err;
  }
}

function offlineNote(offline) {
  return offline ? notice("You are offline. This is what SkinVault showed the last time you were online.", "offline-copy") : null;
}

export async function foldersView(ctx) {
  ctx.title("Your folders");
  const { value: folders, offline } = await cached("folders", () => api.folders(ctx.signal));
  const due = offline ? [] : await dueReminders(ctx.signal);
  const names = new Map(folders.map((f) => [f.id, f.name]));
  const active = folders.filter((f) => !f.archived).sort((a, b) => (b.updatedAt || "").localeCompare(a.updatedAt || ""));
  const archived = folders.filter((f) => f.archived);
  const card = (f) =>
    h(
      "li",
      { class: "app-folder" },
      h("a", { class: "nhsuk-link app-folder__link", href: pageUrl("folder", { folder: f.id }) }, f.name),
      h(
        "p",
        { class: "nhsuk-body-s app-muted" },
        [siteLabel(f.bodySite), f.condition, f.startDate ? `since ${formatPlainDate(f.startDate)}` : null].filter(Boolean).join(" · ") || "No details yet",
      ),
    );
  ctx.show(
    h("h1", {}, "Your folders"),
    offlineNote(offline),
    due.length
      ? h(
          "div",
          { class: "nhsuk-inset-text", dataset: { testid: "reminders-due" } },
          h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
          h("p", {}, "It is time to take a new photo for:"),
          h("ul", {}, due.map((r) => h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("folder", { folder: r.folderId }) }, names.get(r.folderId) || "a folder")))),
        )
      : null,
    outboxPanel(ctx),
    h("a", { class: "nhsuk-button", href: pageUrl("new-folder"), role: "button", draggable: "false" }, "New folder"),
    active.length
      ? h("ul", { class: "nhsuk-list app-folders", dataset: { testid: "folders" } }, active.map(card))
      : h("p", { class: "nhsuk-body" }, "You have no folders yet. Make a folder for each thing you want to keep an eye on, such as a mole or a patch of eczema."),
    archived.length
      ? h(
          "details",
          { class: "nhsuk-details" },
          h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, `Archived folders (${archived.length})`)),
          h("div", { class: "nhsuk-details__text" }, h("ul", { class: "nhsuk-list app-folders" }, archived.map(card))),
        )
      : null,
    h("h2", { class: "nhsuk-heading-m" }, "More"),
    h(
      "ul",
      { class: "nhsuk-list app-menu" },
      h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("messages") }, "Messages from your clinic")),
      h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("share") }, "Share with a clinic")),
      h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("shares") }, "Who you share with")),
      h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("audit") }, "Who has looked at your photos")),
      h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("profile") }, "Your details")),
      h("li", {}, h("a", { class: "nhsuk-link", href: pageUrl("account") }, "Download or delete your data")),
    ),
  );
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------ new / edit
export async function folderEditView(ctx) {
  const folderId = ctx.query.get("folder");
  const editing = Boolean(folderId);
  const [folder, sites] = await Promise.all([folderId ? api.folder(folderId, ctx.signal) : null, api.bodySites(ctx.signal)]);
  ctx.title(editing ? "Edit folder" : "New folder");
  const name = field({ id: "folder-name", label: "Folder name", hint: "For example, Mole on left arm", value: folder?.name, attrs: { maxlength: 100, autocomplete: "off" } });
  const site = h(
    "select",
    { class: "nhsuk-select", id: "folder-site", name: "folder-site" },
    h("option", { value: "" }, "Choose where on your body"),
    groupSites(sites.items).map(([region, list]) =>
      h("optgroup", { label: region }, list.map((s) => h("option", { value: s.key, selected: folder?.bodySite === s.key }, s.label))),
    ),
  );
  const siteGroup = h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: "folder-site" }, "Where on your body"),
    site,
    h("div", { class: "app-bodymap-wrap" }, h("p", { class: "nhsuk-body-s app-muted" }, "Or tap the place on the picture."), bodyMap(site)),
  );
  const condition = field({ id: "folder-condition", label: "Condition (optional)", hint: "What it is, if you know. For example, eczema", value: folder?.condition, attrs: { maxlength: 200 } });
  const treatment = field({ id: "folder-treatment", label: "Treatment (optional)", hint: "For example, a cream you use", value: folder?.treatment, attrs: { maxlength: 500 } });
  const started = field({ id: "folder-start", label: "When did it start? (optional)", type: "date", value: folder?.startDate, attrs: { max: todayIso() } });
  const notes = textArea({ id: "folder-notes", label: "Notes (optional)", value: folder?.notes });
  const errorSlot = h("div", {});
  const form = h(
    "form",
    { novalidate: true, onsubmit: (e) => submit(e) },
    errorSlot,
    name.group,
    siteGroup,
    condition.group,
    treatment.group,
    started.group,
    notes.group,
    button(editing ? "Save changes" : "Create folder", { type: "submit" }),
  );
  async function submit(e) {
    e.preventDefault();
    name.setError(null);
    errorSlot.replaceChildren();
    const body = {
      name: name.input.value.trim(),
      bodySite: site.value || null,
      condition: condition.input.value.trim() || null,
      treatment: treatment.input.value.trim() || null,
      startDate: started.input.value || null,
      notes: notes.input.value.trim() || null,
    };
    if (!body.name) {
      name.setError("Enter a name for the folder");
      name.input.focus();
      return;
    }
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    try {
      const saved = editing ? await api.updateFolder(folderId, body) : await api.createFolder(body);
      ctx.navigate(pageUrl("folder", { folder: saved.id }), { replace: true });
    } catch (err) {
      btn.disabled = false;
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  }
  const archive = editing
    ? h(
        "div",
        { class: "app-danger-zone" },
        h("h2", { class: "nhsuk-heading-s" }, folder.archived ? "Bring this folder back" : "Archive this folder"),
        h(
          "p",
          { class: "nhsuk-body-s" },
          folder.archived
            ? "The folder will show in your list again."
            : "Archived folders are hidden from your list but keep their photos. You can bring them back at any time.",
        ),
        button(folder.archived ? "Bring folder back" : "Archive folder", {
          variant: "secondary",
          onclick: async (e) => {
            e.currentTarget.disabled = true;
            try {
              await api.updateFolder(folderId, { archived: !folder.archived });
              ctx.navigate(folder.archived ? pageUrl("folder", { folder: folderId }) : pageUrl("home"), { replace: true });
            } catch (err) {
              e.target.disabled = false;
              if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
            }
          },
        }),
      )
    : null;
  ctx.show(
    h("a", { class: "nhsuk-back-link", href: editing ? pageUrl("folder", { folder: folderId }) : pageUrl("home") }, "Back"),
    h("h1", {}, editing ? "Edit folder" : "New folder"),
    form,
    archive,
  );
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------ one folder
export function qualityAdvice(image) {
  return (image.quality?.flags || []).map((f) => f.advice).filter(Boolean);
}

function statusLine(image) {
  if (image.status === "pending") return h("strong", { class: "nhsuk-tag nhsuk-tag--blue" }, "Checking the photo");
  if (image.status === "rejected") return h("strong", { class: "nhsuk-tag nhsuk-tag--red" }, "Not accepted");
  return h("strong", { class: "nhsuk-tag nhsuk-tag--green" }, "Ready");
}

export async function folderView(ctx) {
  const folderId = ctx.query.get("folder");
  const [{ value: folder, offline }, { value: images }] = await Promise.all([
    cached(`folder:${folderId}`, () => api.folder(folderId, ctx.signal)),
    cached(`images:${folderId}`, () => api.images(folderId, ctx.signal)),
  ]);
  ctx.title(folder.name);
  const sorted = [...images].sort((a, b) => (b.capturedAt || "").localeCompare(a.capturedAt || ""));
  const errorSlot = h("div", {});
  const list = h("ol", { class: "nhsuk-list app-timeline", dataset: { testid: "timeline" } });
  const countHeading = h("h2", { class: "nhsuk-heading-m" });
  const emptyNote = h("p", { class: "nhsuk-body" }, "No photos yet. Take the first one to start the timeline.");

  function renderList(items) {
    countHeading.textContent = `Photos (${items.length})`;
    emptyNote.hidden = items.length > 0;
    list.hidden = items.length === 0;
    list.replaceChildren(
      ...items.map((image) => {
        const img = h("img", { class: "app-thumb__img", alt: `Photo taken ${formatDateTime(image.capturedAt)}`, width: 160, height: 120 });
        if (image.status === "ready" && !offline) loadInto(img, image.id, "thumbnail", ctx.signal).catch((err) => ctx.handled(err));
        const advice = qualityAdvice(image);
        return h(
          "li",
          { class: "app-timeline__item", dataset: { imageId: image.id, status: image.status } },
          h(
            "a",
            { class: "app-timeline__link", href: pageUrl("photo", { folder: folderId, photo: image.id }) },
            image.status === "ready" ? img : h("span", { class: "app-thumb__placeholder", "aria-hidden": "true" }),
            h("span", { class: "app-timeline__date" }, formatDateTime(image.capturedAt)),
          ),
          h("div", { class: "app-timeline__details" }, statusLine(image)),
          image.status === "rejected" && image.rejectionReason ? h("p", { class: "nhsuk-body-s" }, image.rejectionReason) : null,
          advice.length ? h("ul", { class: "nhsuk-list nhsuk-body-s app-advice" }, advice.map((a) => h("li", {}, a))) : null,
          image.notes ? h("p", { class: "nhsuk-body-s app-muted" }, image.notes) : null,
        );
      }),
    );
  }
  renderList(sorted);

  // poll while anything is still being checked
  let timer = 0;
  async function refresh() {
    clearTimeout(timer);
    try {
      const fresh = (await api.images(folderId, ctx.signal)).sort((a, b) => (b.capturedAt || "").localeCompare(a.capturedAt || ""));
      if (ctx.signal.aborted) return;
      saveRecord(`images:${folderId}`, fresh).catch(() => {});
      renderList(fresh);
      compareLink.hidden = fresh.filter((i) => i.status === "ready").length < 2;
      if (fresh.some((i) => i.status === "pending")) timer = setTimeout(refresh, 1500);
    } catch (err) {
      if (!ctx.handled(err)) timer = setTimeout(refresh, 5000);
    }
  }
  ctx.onCleanup(() => clearTimeout(timer));
  if (sorted.some((i) => i.status === "pending") && !offline) timer = setTimeout(refresh, 1500);

  const gallery = h("input", {
    class: "app-file-input",
    type: "file",
    id: "gallery",
    accept: "image/*",
    onchange: async (e) => {
      const file = e.target.files?.[0];
      e.target.value = "";
      if (!file) return;
      errorSlot.replaceChildren();
      try {
        await queuePhoto(file, folderId);
      } catch (err) {
        errorSlot.replaceChildren(inlineError(photoErrorMessage(err)));
      }
    },
  });
  const compareLink = h("a", { class: "nhsuk-link", href: pageUrl("compare", { folder: folderId }), hidden: sorted.filter((i) => i.status === "ready").length < 2 }, "Compare two dates");
  ctx.show(
    h("a", { class: "nhsuk-back-link", href: pageUrl("home") }, "Your folders"),
    h("h1", {}, folder.name),
    offlineNote(offline),
    (() => {
      const about = [siteLabel(folder.bodySite), folder.condition, folder.treatment ? `Treatment: ${folder.treatment}` : null, folder.startDate ? `Started ${formatPlainDate(folder.startDate)}` : null]
        .filter(Boolean)
        .join(" · ");
      return about ? h("p", { class: "nhsuk-body-s app-muted" }, about) : null;
    })(),
    folder.notes ? h("p", { class: "nhsuk-body-s" }, folder.notes) : null,
    folder.archived ? notice("This folder is archived.") : null,
    errorSlot,
    h(
      "div",
      { class: "app-actions" },
      h("a", { class: "nhsuk-button", href: pageUrl("camera", { folder: folderId }), role: "button", draggable: "false" }, "Take photo"),
      h("label", { class: "nhsuk-button nhsuk-button--secondary app-file-label", for: "gallery" }, "Choose from gallery"),
      gallery,
    ),
    outboxPanel(ctx, { folderId, onSent: () => refresh() }),
    offline ? null : messagesPanel(ctx, folderId),
    countHeading,
    emptyNote,
    list,
    h("p", { class: "nhsuk-body" }, compareLink),
    offline ? null : reminderControl(ctx, folderId),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("edit-folder", { folder: folderId }) }, "Edit or archive this folder")),
    folder.createdAt ? h("p", { class: "nhsuk-body-s app-muted" }, `Folder made ${formatDate(folder.createdAt)}.`) : null,
  );
  ctx.focusHeading();
  ctx.ready();
}

export function photoErrorMessage(err) {
  if (err?.name === "PhotoUnreadable") return err.message;
  if (err?.name === "NoUploadKeyError") return "Connect to the internet once so SkinVault can get ready to encrypt your photos, then try again.";
  if (err?.name === "QuotaExceededError") return "There is not enough space on this phone to keep the photo. Free up some space and try again.";
  return "The photo could not be kept. Try again.";
}
