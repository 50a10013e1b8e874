// The conversation with the patient on a photo or a folder: the clinic's comments, the patient's
// replies, triage outcome messages; a comment posted in error can be withdrawn.

import { announce, button, h, tag } from "../dom.js";
import { formatDateTime, triageLabel } from "../format.js";
import { actionErrorMessage, inlineError } from "./states.js";

let seq = 0;

function meta(c) {
  const who = c.author?.name || "Unknown";
  const fromPatient = c.author?.kind === "patient";
  return h(
    "p",
    { class: "app-comments__meta nhsuk-body-s" },
    h("strong", {}, fromPatient ? `${who} (patient)` : who),
    " · ",
    h("time", { datetime: c.createdAt }, formatDateTime(c.createdAt) || ""),
    fromPatient ? [" ", tag("Reply from the patient", "aqua-green")] : null,
    c.withdrawn ? [" ", tag("Withdrawn", "grey")] : null,
  );
}

function body(c) {
  const parts = [];
  if (c.kind === "outcome" && c.outcome) {
    parts.push(h("p", { class: "app-comments__text" }, h("span", { class: "app-muted" }, "Triage outcome sent to the patient: "), triageLabel(c.outcome.code).label));
  }
  if (c.text) parts.push(h(c.withdrawn ? "del" : "p", { class: "app-comments__text" }, c.text));
  if (c.withdrawn) parts.push(h("p", { class: "nhsuk-body-s app-muted" }, `Withdrawn ${formatDateTime(c.withdrawnAt) || ""}. The patient no longer sees what it said.`));
  return parts;
}

/**
 * commentsSection(ctx, {heading, label, hint, load(signal) -> {items}, add(text) -> comment,
 *                       withdraw(comment) -> comment | undefined, headingLevel, testid})
 */
export function commentsSection(ctx, { heading, label, hint, load, add, withdraw, headingLevel = "h3", testid }) {
  const id = `comment-${++seq}`;
  const list = h("ul", { class: "app-comments nhsuk-list" });
  const status = h("p", { class: "nhsuk-body-s app-muted" }, "Loading comments…");
  const errorSlot = h("div", {});
  const textarea = h("textarea", { class: "nhsuk-textarea", id, name: "text", rows: "3", maxlength: "2000", "aria-describedby": `${id}-hint` });
  const submit = button("Add comment", { type: "submit", variant: "secondary" });
  const form = h(
    "form",
    { class: "app-comment-form", novalidate: true },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: id }, label),
      h("div", { class: "nhsuk-hint", id: `${id}-hint` }, hint || "The patient can see comments on their photos."),
      textarea,
    ),
    submit,
  );

  const item = (c) => {
    const li = h("li", { class: ["app-comments__item", c.author?.kind === "patient" && "app-comments__item--patient"], dataset: { commentId: c.id, kind: c.kind || "comment" } });
    const canWithdraw = withdraw && c.author?.kind === "clinician" && !c.withdrawn;
    const withdrawBtn = canWithdraw
      ? button("Withdraw", {
          variant: "secondary",
          class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small app-withdraw",
          "aria-label": `Withdraw the comment posted ${formatDateTime(c.createdAt) || ""}`,
          dataset: { action: "withdraw-comment" },
          onclick: async () => {
            errorSlot.replaceChildren();
            withdrawBtn.disabled = true;
            try {
              const updated = await withdraw(c);
              li.replaceWith(item(updated || { ...c, withdrawn: true }));
              announce("Comment withdrawn");
            } catch (err) {
              withdrawBtn.disabled = false;
              if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
            }
          },
        })
      : null;
    li.append(meta(c), ...body(c));
    if (withdrawBtn) li.append(withdrawBtn);
    return li;
  };

  const render = (items) => {
    status.textContent = items.length ? "" : "No comments yet.";
    status.hidden = items.length > 0;
    list.replaceChildren(...items.map(item));
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = textarea.value.trim();
    errorSlot.replaceChildren();
    if (!text) {
      errorSlot.replaceChildren(inlineError("Enter a comment"));
      textarea.focus();
      return;
    }
    submit.disabled = true;
    try {
      const created = await add(text);
      list.append(item(created));
      status.hidden = true;
      textarea.value = "";
      announce("Comment added");
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    } finally {
      submit.disabled = false;
    }
  });

  load(ctx.signal)
    .then((res) => render(res?.items || []))
    .catch((err) => {
      if (ctx.handled(err)) return;
      status.textContent = "Comments could not be loaded.";
    });

  return h(
    "section",
    { class: "app-comments-section", "aria-labelledby": `${id}-heading`, dataset: { testid: testid || "comments" } },
    h(headingLevel, { id: `${id}-heading`, class: "nhsuk-heading-s" }, heading),
    status,
    list,
    errorSlot,
    form,
  );
}
