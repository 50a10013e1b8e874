// Comments on a photo or a folder: the list and a form to add one.

import { announce, button, h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { actionErrorMessage, inlineError } from "./states.js";

let seq = 0;

function commentItem(c) {
  const who = c.author?.name || "Unknown";
  const kind = c.author?.kind === "patient" ? " (patient)" : "";
  return h(
    "li",
    { class: "app-comments__item" },
    h("p", { class: "app-comments__meta nhsuk-body-s" }, h("strong", {}, `${who}${kind}`), " · ", h("time", { datetime: c.createdAt }, formatDateTime(c.createdAt) || "")),
    h("p", { class: "app-comments__text" }, c.text),
  );
}

/**
 * commentsSection(ctx, {heading, label, load(signal) -> {items}, add(text) -> comment, headingLevel})
 */
export function commentsSection(ctx, { heading, label, load, add, headingLevel = "h3", testid }) {
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
      h("div", { class: "nhsuk-hint", id: `${id}-hint` }, "The patient can see comments on their photos."),
      textarea,
    ),
    submit,
  );

  const render = (items) => {
    status.textContent = items.length ? "" : "No comments yet.";
    status.hidden = items.length > 0;
    list.replaceChildren(...items.map(commentItem));
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
      list.append(commentItem(created));
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
