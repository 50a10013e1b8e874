// Sharing with a clinic (code, consent, folders, end date), who you share with (and stopping),
// who has looked at your photos, and your data (download everything, delete your account).

import { ApiError, api } from "../api.js";
import { saveResponse } from "../blobs.js";
import { button, h } from "../dom.js";
import { formatDate, PURPOSE_LABELS, todayIso } from "../format.js";
import { groupAudit } from "../audit-words.js";
import { pageUrl } from "../nav.js";
import { forgetPerson } from "../people.js";
import { currentSub, setNotice, takeNotice } from "../session.js";
import { actionErrorMessage, back, checkbox, field, fieldset, inlineError, notice, radio } from "./states.js";

function addDays(days) {
  const d = new Date(Date.now() + days * 86400000);
  return d.toISOString().slice(0, 10);
}

// ------------------------------------------------------------------ share with a clinic
export async function shareView(ctx) {
  ctx.title("Share with a clinic");
  const code = field({
    id: "clinic-code",
    label: "Clinic code",
    hint: "Your clinic gives you a code, like NEWC-DERM",
    attrs: { autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: 40 },
    width: 10,
  });
  const form = h("form", { novalidate: true, onsubmit: (e) => findClinic(e) }, code.group, button("Continue", { type: "submit" }));
  async function findClinic(e) {
    e.preventDefault();
    code.setError(null);
    const value = code.input.value.trim().toUpperCase();
    if (!value) {
      code.setError("Enter the code your clinic gave you");
      code.input.focus();
      return;
    }
    try {
      const clinic = await api.clinicByCode(value);
      await consentStep(ctx, clinic);
    } catch (err) {
      if (ctx.handled(err)) return;
      code.setError(err instanceof ApiError && (err.status === 404 || err.status === 400) ? "We cannot find a clinic with that code. Check the code and try again" : actionErrorMessage(err));
      code.input.focus();
    }
  }
  ctx.show(
    back(),
    h("h1", {}, "Share with a clinic"),
    h("p", { class: "nhsuk-body" }, "You choose which folders the clinic sees, and for how long. You can stop sharing at any time."),
    form,
  );
  ctx.focusHeading();
  ctx.ready();
}

/** The consent page for one clinic ({id, name, organisation}), then the share. */
export async function consentStep(ctx, clinic) {
  const [consent, folders] = await Promise.all([api.consentText(clinic.id, ctx.signal), api.folders(ctx.signal)]);
  const active = folders.filter((f) => !f.archived);
  ctx.title(`Share with ${clinic.name}`);
  const teaching = checkbox("purpose-teaching", "Teaching", { hint: "The clinic may show your photos, without your name, to teach other clinicians" });
  const research = checkbox("purpose-research", "Research", { hint: "Your photos may be used, without your name, in approved research" });
  const all = radio("scope", "scope-all", "all", "All my folders, including new ones", true);
  const some = radio("scope", "scope-some", "some", "Only the folders I choose");
  const folderBoxes = active.map((f, i) => ({ id: f.id, ...checkbox(`share-folder-${i}`, f.name, { value: f.id }) }));
  const folderList = h("div", { class: "nhsuk-checkboxes app-share-folders", hidden: true }, folderBoxes.map((b) => b.item));
  for (const r of [all, some]) r.input.addEventListener("change", () => (folderList.hidden = !some.input.checked));
  const m3 = radio("until", "until-3m", "90", "3 months", true);
  const y1 = radio("until", "until-1y", "365", "1 year");
  const pick = radio("until", "until-date", "date", "Choose a date");
  const untilDate = field({ id: "until-custom", label: "End date", type: "date", attrs: { min: addDays(1), max: addDays(3650) } });
  untilDate.group.hidden = true;
  for (const r of [m3, y1, pick]) r.input.addEventListener("change", () => (untilDate.group.hidden = !pick.input.checked));
  const errorSlot = h("div", {});
  const form = h(
    "form",
    { novalidate: true, onsubmit: (e) => submit(e) },
    fieldset(
      "What can the clinic use your photos for?",
      h("div", { class: "nhsuk-hint" }, "Your care is always included. Choose anything else you are happy with."),
      h("div", { class: "nhsuk-checkboxes" }, teaching.item, research.item),
    ),
    fieldset("Which folders can the clinic see?", h("div", { class: "nhsuk-radios" }, all.item, some.item), folderList),
    fieldset("Until when?", h("div", { class: "nhsuk-radios" }, m3.item, y1.item, pick.item), untilDate.group),
    errorSlot,
    button("I agree - share my photos", { type: "submit" }),
  );
  async function submit(e) {
    e.preventDefault();
    errorSlot.replaceChildren();
    untilDate.setError(null);
    const chosen = folderBoxes.filter((b) => b.input.checked).map((b) => b.id);
    if (some.input.checked && !chosen.length) {
      errorSlot.replaceChildren(inlineError("Choose at least one folder to share"));
      return;
    }
    let expires;
    if (pick.input.checked) {
      if (!untilDate.input.value || untilDate.input.value <= todayIso()) {
        untilDate.setError("Enter a date in the future");
        untilDate.input.focus();
        return;
      }
      expires = new Date(`${untilDate.input.value}T23:59:00Z`);
    } else {
      expires = new Date(Date.now() + Number((m3.input.checked ? m3 : y1).input.value) * 86400000);
    }
    const body = {
      clinicId: clinic.id,
      purposes: ["direct-care", ...(teaching.input.checked ? ["teaching"] : []), ...(research.input.checked ? ["research"] : [])],
      expiresAt: expires.toISOString().replace(/\.\d{3}Z$/, "Z"),
      consent: { textVersion: consent.version, accepted: true },
      ...(some.input.checked ? { folderIds: chosen } : { allFolders: true }),
    };
    try {
      await api.createShare(body);
      setNotice("shared");
      ctx.navigate(pageUrl("shares"), { replace: true });
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  }
  ctx.show(
    back(pageUrl("share"), "Back"),
    h("h1", {}, `Share with ${clinic.name}`),
    clinic.organisation?.odsCode ? h("p", { class: "nhsuk-body-s app-muted" }, `NHS organisation code ${clinic.organisation.odsCode}`) : null,
    h(
      "div",
      { class: "app-consent", dataset: { testid: "consent-text", version: consent.version } },
      h("h2", { class: "nhsuk-heading-m" }, consent.title),
      consent.paragraphs.map((p) => h("p", { class: "nhsuk-body" }, p)),
    ),
    form,
  );
  ctx.focusHeading();
}

// ------------------------------------------------------------------ who you share with
function describeShare(share, folderNames) {
  const what = share.allFolders ? "All your folders, including new ones" : (share.folderIds || []).map((id) => folderNames.get(id) || "A folder you deleted").join(", ");
  const uses = share.purposes.map((p) => PURPOSE_LABELS[p] || p).join(", ");
  return [
    ["What they see", what],
    ["What for", uses],
    [share.state === "active" ? "Until" : "Ended", formatDate(share.state === "active" ? share.expiresAt : share.revokedAt || share.expiresAt)],
  ];
}

export async function sharesView(ctx) {
  const n = takeNotice();
  ctx.title("Who you share with");
  const [shares, folders] = await Promise.all([api.shares(ctx.signal), api.folders(ctx.signal)]);
  const names = new Map(folders.map((f) => [f.id, f.name]));
  const active = shares.filter((s) => s.state === "active");
  const ended = shares.filter((s) => s.state !== "active");
  const card = (share) => {
    const confirmSlot = h("div", {});
    return h(
      "li",
      { class: "nhsuk-card app-share", dataset: { shareId: share.id } },
      h(
        "div",
        { class: "nhsuk-card__content" },
        h("h2", { class: "nhsuk-card__heading nhsuk-heading-m" }, share.clinicName || "A clinic"),
        h(
          "dl",
          { class: "nhsuk-summary-list" },
          describeShare(share, names).map(([k, v]) =>
            h("div", { class: "nhsuk-summary-list__row" }, h("dt", { class: "nhsuk-summary-list__key" }, k), h("dd", { class: "nhsuk-summary-list__value" }, v)),
          ),
        ),
        share.state === "active"
          ? button(`Stop sharing with ${share.clinicName || "this clinic"}`, {
              variant: "secondary",
              onclick: () => {
                confirmSlot.replaceChildren(
                  h(
                    "div",
                    { class: "nhsuk-warning-callout" },
                    h("h3", { class: "nhsuk-warning-callout__label", tabindex: "-1" }, h("span", { role: "text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Important: "), "Stop sharing?")),
                    h("p", {}, `${share.clinicName || "The clinic"} will not be able to see your photos from now on. Anything they have already put in your hospital record stays there.`),
                    button("Yes, stop sharing", {
                      variant: "warning",
                      onclick: async (e) => {
                        e.currentTarget.disabled = true;
                        try {
                          await api.revokeShare(share.id);
                          setNotice("stopped");
                          ctx.rerender();
                        } catch (err) {
                          e.target.disabled = false;
                          if (!ctx.handled(err)) confirmSlot.append(inlineError(actionErrorMessage(err)));
                        }
                      },
                    }),
                    button("No, keep sharing", { variant: "secondary", onclick: () => confirmSlot.replaceChildren() }),
                  ),
                );
                confirmSlot.querySelector("h3")?.focus();
              },
            })
          : null,
        confirmSlot,
      ),
    );
  };
  ctx.show(
    back(),
    h("h1", {}, "Who you share with"),
    n === "shared" ? notice("Your photos are now shared. The clinic has been told.", "shared") : null,
    n === "stopped" ? notice("You have stopped sharing. The clinic cannot see your photos any more.", "stopped") : null,
    active.length ? h("ul", { class: "nhsuk-list app-shares" }, active.map(card)) : h("p", { class: "nhsuk-body" }, "You are not sharing your photos with any clinic."),
    h("a", { class: "nhsuk-button", href: pageUrl("share"), role: "button", draggable: "false" }, "Share with a clinic"),
    ended.length
      ? h(
          "details",
          { class: "nhsuk-details" },
          h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, `Shares that have ended (${ended.length})`)),
          h("div", { class: "nhsuk-details__text" }, h("ul", { class: "nhsuk-list app-shares" }, ended.map(card))),
        )
      : null,
  );
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------ who has looked
export async function auditView(ctx) {
  ctx.title("Who has looked at your photos");
  const [entries, folders] = await Promise.all([api.audit(ctx.signal), api.folders(ctx.signal)]);
  const folderName = new Map(folders.map((f) => [f.id, f.name]));
  const folderOfImage = new Map();
  const needed = new Set(entries.filter((e) => e.target?.type === "image").map((e) => e.target.id));
  if (needed.size) {
    for (const f of folders) {
      for (const image of await api.images(f.id, ctx.signal)) folderOfImage.set(image.id, f.id);
    }
  }
  const days = groupAudit(entries, folderOfImage, folderName);
  ctx.show(
    back(),
    h("h1", {}, "Who has looked at your photos"),
    h("p", { class: "nhsuk-body" }, "Every time someone at a clinic looks at your photos, it is recorded here. This record is kept even if you delete your account."),
    days.length
      ? h(
          "div",
          { dataset: { testid: "audit" } },
          days.map((d) => h("section", { class: "app-audit-day" }, h("h2", { class: "nhsuk-heading-s" }, d.day), h("ul", { class: "nhsuk-list nhsuk-list--bullet" }, d.lines.map((l) => h("li", {}, l))))),
        )
      : h("p", { class: "nhsuk-body" }, "Nobody has looked at your photos yet."),
  );
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------ your data
export async function accountView(ctx) {
  ctx.title("Download or delete your data");
  const errorSlot = h("div", {});
  const status = h("p", { class: "nhsuk-body-s", role: "status" });
  const confirmText = field({
    id: "delete-confirm",
    label: "To delete your account, type DELETE",
    attrs: { autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: 10 },
    width: 10,
  });
  const deleteForm = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        confirmText.setError(null);
        if (confirmText.input.value.trim().toUpperCase() !== "DELETE") {
          confirmText.setError("Type DELETE to confirm");
          confirmText.input.focus();
          return;
        }
        try {
          await api.deleteMe();
          const sub = currentSub();
          await forgetPerson(sub);
          setNotice("deleted");
          ctx.navigate(pageUrl("signin"), { replace: true });
        } catch (err) {
          if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
        }
      },
    },
    confirmText.group,
    button("Delete my account", { type: "submit", variant: "warning" }),
  );
  ctx.show(
    back(),
    h("h1", {}, "Download or delete your data"),
    errorSlot,
    h("h2", { class: "nhsuk-heading-m" }, "Download your data"),
    h("p", { class: "nhsuk-body" }, "Get a copy of all your photos, notes and details in one file."),
    button("Download my data", {
      variant: "secondary",
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        status.textContent = "Getting your data ready…";
        try {
          const name = await saveResponse(await api.exportMe(), "skinvault-my-data.zip");
          status.textContent = `Downloaded ${name}.`;
        } catch (err) {
          status.textContent = "";
          if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
        }
        e.target.disabled = false;
      },
    }),
    status,
    h("h2", { class: "nhsuk-heading-m" }, "Delete your account"),
    h(
      "div",
      { class: "nhsuk-warning-callout" },
      h("h3", { class: "nhsuk-warning-callout__label" }, h("span", { role: "text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Important: "), "This cannot be undone")),
      h("p", {}, "All your photos, folders, notes and details will be deleted, and clinics you share with will no longer see them. The record of who looked at your photos is kept, without any photos or notes."),
    ),
    deleteForm,
  );
  ctx.focusHeading();
  ctx.ready();
}
