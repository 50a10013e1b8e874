// Request photos: the clinic asks a patient, by email, to share photos. The patient gets a one-time
// link to the patient app (valid 14 days); the worklist shows the request until photos arrive.

import { api } from "../api.js";
import { announce, backLink, button, h } from "../dom.js";
import { formatDate, REMINDER_LABELS } from "../format.js";
import { actionErrorMessage, inlineError } from "./states.js";

function field(id, label, hint, control) {
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: id }, label),
    hint ? h("div", { class: "nhsuk-hint", id: `${id}-hint` }, hint) : null,
    control,
  );
}

function sent(ctx, invitation) {
  ctx.title("Photo request sent");
  ctx.show(
    backLink("/", "Back to worklist"),
    h(
      "div",
      { class: "nhsuk-panel", dataset: { testid: "request-sent" } },
      h("h1", { class: "nhsuk-panel__title" }, "Photo request sent"),
      h("div", { class: "nhsuk-panel__body" }, `We have emailed ${invitation.email} a link to share photos with your clinic.`),
    ),
    h("p", { class: "nhsuk-body" }, `The link works once and until ${formatDate(invitation.expiresAt)}. The request shows on your worklist as waiting for photos until they arrive.`),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: "/" }, "Go back to the worklist")),
  );
  ctx.focusHeading();
  announce("Photo request sent");
}

export async function requestPhotosView(ctx) {
  ctx.title("Request photos");
  const email = h("input", {
    class: "nhsuk-input",
    id: "request-email",
    name: "email",
    type: "email",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: "254",
    "aria-describedby": "request-email-hint",
  });
  const instruction = h("textarea", {
    class: "nhsuk-textarea",
    id: "request-instruction",
    name: "instruction",
    rows: "3",
    maxlength: "500",
    "aria-describedby": "request-instruction-hint",
  });
  const reminder = h(
    "select",
    { class: "nhsuk-select", id: "request-reminder", name: "reminder", "aria-describedby": "request-reminder-hint" },
    h("option", { value: "" }, "No reminder"),
    Object.entries(REMINDER_LABELS).map(([value, label]) => h("option", { value }, `Remind ${label}`)),
  );
  const errorSlot = h("div", {});
  const submit = button("Send request", { type: "submit" });
  const form = h(
    "form",
    { class: "app-request-form", novalidate: true, dataset: { testid: "request-photos" } },
    field("request-email", "Patient's email address", "We email them a link to the SkinVault app. The email does not name your clinic or their condition.", email),
    field("request-instruction", "What should they photograph? (optional)", "For example: Please photograph both elbows in daylight. The patient reads this in the app, not in the email.", instruction),
    field("request-reminder", "Reminder (optional)", "Once they share, remind them to take new photos.", reminder),
    errorSlot,
    submit,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorSlot.replaceChildren();
    const address = email.value.trim();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      errorSlot.replaceChildren(inlineError("Enter the patient's email address, like name@example.com"));
      email.focus();
      return;
    }
    submit.disabled = true;
    try {
      const body = { email: address };
      if (instruction.value.trim()) body.instruction = instruction.value.trim();
      if (reminder.value) body.reminder = reminder.value;
      sent(ctx, await api.requestPhotos(body));
    } catch (err) {
      submit.disabled = false;
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  });
  ctx.show(
    backLink("/", "Back to worklist"),
    h("h1", {}, "Request photos"),
    h("p", { class: "nhsuk-body" }, "Ask a patient to share photos with your clinic through SkinVault."),
    form,
  );
  ctx.focusHeading();
  ctx.ready();
}
