// The conversation with clinics (issue 11): messages and replies in a folder, every message, a
// clinic's request for photos (a link with a one-time code), and photo reminders per folder.
// Where the API does not offer these (404), the sections are simply left out.

import { ApiError, api } from "../api.js";
import { button, h } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { pageUrl } from "../nav.js";
import { consentStep } from "./sharing.js";
import { actionErrorMessage, inlineError, notice, textArea } from "./states.js";

const absent = (err) => err instanceof ApiError && (err.status === 404 || err.status === 405);

export const REMINDERS = [
  ["", "No reminder"],
  ["1w", "Every week"],
  ["2w", "Every 2 weeks"],
  ["4w", "Every 4 weeks"],
  ["1m", "Every month"],
];

function who(message) {
  if (message.author?.kind === "patient") return "You";
  return [message.author?.name, message.author?.clinicName].filter(Boolean).join(", ") || "Your clinic";
}

function messageItem(message, extra = null) {
  const body = message.withdrawn
    ? h("p", { class: "nhsuk-body-s app-muted" }, "This message was withdrawn by the clinic.")
    : [
        message.outcome?.text ? h("p", { class: "nhsuk-body" }, message.outcome.text) : null,
        message.text ? h("p", { class: "nhsuk-body" }, message.text) : null,
      ];
  return h(
    "li",
    { class: ["app-message", message.author?.kind === "patient" && "app-message--mine"], dataset: { kind: message.kind } },
    h("p", { class: "nhsuk-body-s app-message__meta" }, `${who(message)} - ${formatDateTime(message.createdAt)}`),
    body,
    extra,
  );
}

/** The folder's messages with a reply box; null-rendering (hidden) where there are none or no API. */
export function messagesPanel(ctx, folderId) {
  const section = h("section", { class: "app-conversation", "aria-labelledby": "messages-heading", hidden: true, dataset: { testid: "conversation" } });
  const load = async () => {
    let messages;
    try {
      messages = await api.folderMessages(folderId, ctx.signal);
    } catch (err) {
      if (!absent(err)) ctx.handled(err);
      return;
    }
    if (ctx.signal.aborted || !messages.length) return;
    const sorted = [...messages].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const lastClinic = [...sorted].reverse().find((m) => m.clinicId)?.clinicId || null;
    const reply = textArea({ id: "reply-text", label: "Reply to your clinic", rows: 3 });
    const errorSlot = h("div", {});
    const form = h(
      "form",
      {
        novalidate: true,
        onsubmit: async (e) => {
          e.preventDefault();
          errorSlot.replaceChildren();
          const text = reply.input.value.trim();
          if (!text) {
            errorSlot.replaceChildren(inlineError("Write your reply first"));
            return;
          }
          try {
            await api.reply(folderId, text, lastClinic);
            reply.input.value = "";
            await load();
          } catch (err) {
            if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
          }
        },
      },
      errorSlot,
      reply.group,
      button("Send reply", { type: "submit", variant: "secondary" }),
    );
    section.replaceChildren(
      h("h2", { class: "nhsuk-heading-m", id: "messages-heading" }, "Messages"),
      h("ol", { class: "nhsuk-list app-messages" }, sorted.map(messageItem)),
      form,
    );
    section.hidden = false;
  };
  load();
  return section;
}

/** "Remind me to take a photo" for one folder. */
export function reminderControl(ctx, folderId) {
  const wrap = h("div", { class: "nhsuk-form-group app-reminder", hidden: true });
  const status = h("p", { class: "nhsuk-body-s", role: "status" });
  const select = h(
    "select",
    { class: "nhsuk-select", id: "reminder", name: "reminder" },
    REMINDERS.map(([v, label]) => h("option", { value: v }, label)),
  );
  (async () => {
    let current = null;
    try {
      current = (await api.reminders(ctx.signal)).find((r) => r.folderId === folderId) || null;
    } catch (err) {
      if (!absent(err)) ctx.handled(err);
      return;
    }
    if (ctx.signal.aborted) return;
    select.value = current?.every || "";
    const due = current?.due ? notice("It is time to take a new photo for this folder.", "reminder-due") : null;
    const by = current?.setBy?.kind === "clinic" ? h("div", { class: "nhsuk-hint" }, `Set by ${current.setBy.clinicName || "your clinic"}`) : null;
    wrap.replaceChildren(due || "", h("label", { class: "nhsuk-label", for: "reminder" }, "Remind me to take a photo"), by || "", select, status);
    wrap.hidden = false;
    select.addEventListener("change", async () => {
      status.textContent = "";
      try {
        if (select.value) {
          const saved = await api.setReminder(folderId, select.value);
          status.textContent = saved?.nextDueAt ? `Saved. Next reminder ${formatDate(saved.nextDueAt)}.` : "Saved.";
        } else {
          await api.clearReminder(folderId);
          status.textContent = "Reminder turned off.";
        }
      } catch (err) {
        if (!ctx.handled(err)) status.textContent = actionErrorMessage(err);
      }
    });
  })();
  return wrap;
}

/** Folders whose reminder is due, for the home screen (empty where there is no reminders API). */
export async function dueReminders(signal) {
  try {
    return (await api.reminders(signal)).filter((r) => r.due);
  } catch {
    return [];
  }
}

export async function messagesView(ctx) {
  ctx.title("Messages from your clinic");
  let messages = [];
  try {
    messages = await api.messages(ctx.signal);
  } catch (err) {
    if (!absent(err)) throw err;
  }
  ctx.show(
    h("a", { class: "nhsuk-back-link", href: pageUrl("home") }, "Your folders"),
    h("h1", {}, "Messages from your clinic"),
    messages.length
      ? h(
          "ol",
          { class: "nhsuk-list app-messages" },
          messages.map((m) =>
            messageItem(
              m,
              m.folderId ? h("p", { class: "nhsuk-body-s" }, h("a", { class: "nhsuk-link", href: pageUrl("folder", { folder: m.folderId }) }, "Open the folder to reply")) : null,
            ),
          ),
        )
      : h("p", { class: "nhsuk-body" }, "You have no messages yet."),
  );
  ctx.focusHeading();
  ctx.ready();
}

/** A clinic's request for photos, opened from the link in its email (?invite=CODE). */
export async function inviteView(ctx) {
  const code = ctx.query.get("code") || "";
  ctx.title("A request for photos");
  let invitation;
  try {
    invitation = await api.invitation(code, ctx.signal);
  } catch (err) {
    if (ctx.handled(err)) return;
    if (err instanceof ApiError && [400, 404, 409, 410].includes(err.status)) {
      ctx.show(
        h("h1", {}, "This link cannot be used"),
        h("p", { class: "nhsuk-body" }, err.problem?.detail || "The request may have expired or been cancelled. Contact your clinic for a new link."),
        h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("home") }, "Go to your folders")),
      );
      ctx.focusHeading();
      ctx.ready();
      return;
    }
    throw err;
  }
  const errorSlot = h("div", {});
  ctx.show(
    h("h1", {}, `${invitation.clinic.name} has asked for photos`),
    invitation.instruction ? h("div", { class: "nhsuk-inset-text", dataset: { testid: "instruction" } }, h("p", {}, invitation.instruction)) : null,
    h("p", { class: "nhsuk-body" }, `Take the photos in a folder, then share that folder with ${invitation.clinic.name}. You choose what they see, and you can stop sharing at any time.`),
    h("p", { class: "nhsuk-body-s app-muted" }, `This request ends on ${formatDate(invitation.expiresAt)}.`),
    errorSlot,
    button(`Share with ${invitation.clinic.name}`, {
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          if (invitation.state === "pending") await api.acceptInvitation(code);
          await consentStep(ctx, { id: invitation.clinic.id, name: invitation.clinic.name, organisation: null });
        } catch (err) {
          e.target.disabled = false;
          if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(err?.problem?.detail || actionErrorMessage(err)));
        }
      },
    }),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("home") }, "Not now")),
  );
  ctx.focusHeading();
  ctx.ready();
}
