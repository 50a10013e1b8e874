// Shared page states: errors with retry, page not found, inline messages.

import { button, h } from "../dom.js";
import { pageUrl } from "../nav.js";

function describe(err) {
  if (err?.network) return { title: "You are offline", body: "Check your internet connection, then try again. Photos you take are kept safely on this phone until you are back online." };
  if (err?.status === 503 || err?.status === 502 || err?.status === 504)
    return { title: "SkinVault is not available at the moment", body: "Try again in a few minutes." };
  if (err?.status === 404) return { title: "We cannot find that", body: "It may have been deleted." };
  if (err?.status === 429) return { title: "Too many requests", body: "Wait a moment, then try again." };
  return { title: "Sorry, there is a problem with the service", body: "Try again later." };
}

export function errorState(ctx, err, retry) {
  const { title, body } = describe(err);
  ctx.title(title);
  ctx.show(
    h(
      "div",
      { class: "app-state", dataset: { testid: "error" } },
      h("h1", {}, title),
      h("p", { class: "nhsuk-body" }, body),
      button("Try again", { onclick: retry }),
      h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: "./" }, "Go to your folders")),
    ),
  );
  ctx.focusHeading();
}

export function notFoundState(ctx) {
  ctx.title("Page not found");
  ctx.show(
    h("h1", {}, "Page not found"),
    h("p", { class: "nhsuk-body" }, "If you typed the web address, check it is correct."),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: "./" }, "Go to your folders")),
  );
  ctx.focusHeading();
}

/** A small inline error for an action that failed but left the page usable. */
export function inlineError(message) {
  return h(
    "p",
    { class: "nhsuk-error-message app-inline-error", role: "alert" },
    h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "),
    message,
  );
}

export function actionErrorMessage(err) {
  if (err?.network) return "You are offline. Try again when you have a connection.";
  if (err?.status === 422 || err?.status === 400) return err.problem?.detail || "Check what you entered and try again.";
  if (err?.status === 409 || err?.status === 412) return "This was changed somewhere else. Go back and try again.";
  return "Something went wrong. Try again.";
}

/** NHS.UK inset text with a visually hidden "Information:" prefix. */
export function notice(text, testid) {
  return h(
    "div",
    { class: "nhsuk-inset-text", dataset: testid ? { testid } : undefined },
    h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
    h("p", {}, text),
  );
}

/** A labelled text input in the NHS.UK style; returns {group, input, setError}. */
export function field({ id, label, hint, type = "text", value = "", attrs = {}, width }) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h("input", {
    class: ["nhsuk-input", width && `nhsuk-input--width-${width}`],
    id,
    name: id,
    type,
    value: value ?? "",
    "aria-describedby": hintId,
    ...attrs,
  });
  const error = h("p", { class: "nhsuk-error-message", id: errorId, hidden: true });
  const group = h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: id }, label),
    hint ? h("div", { class: "nhsuk-hint", id: hintId }, hint) : null,
    error,
    input,
  );
  const setError = (message) => {
    group.classList.toggle("nhsuk-form-group--error", Boolean(message));
    input.classList.toggle("nhsuk-input--error", Boolean(message));
    error.hidden = !message;
    error.replaceChildren(...(message ? [h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "), message] : []));
    input.setAttribute("aria-describedby", [hintId, message ? errorId : null].filter(Boolean).join(" "));
    if (!input.getAttribute("aria-describedby")) input.removeAttribute("aria-describedby");
    input.setAttribute("aria-invalid", message ? "true" : "false");
  };
  return { group, input, setError };
}

/** A labelled textarea; returns {group, input}. */
export function textArea({ id, label, hint, value = "", rows = 3 }) {
  const hintId = hint ? `${id}-hint` : null;
  const input = h("textarea", { class: "nhsuk-textarea", id, name: id, rows, "aria-describedby": hintId });
  input.value = value ?? "";
  const group = h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: id }, label),
    hint ? h("div", { class: "nhsuk-hint", id: hintId }, hint) : null,
    input,
  );
  return { group, input };
}

// ------------------------------------------------------------------ form pieces (NHS.UK markup)
/** The back link at the top of a page. */
export function back(href = pageUrl("home"), text = "Your folders") {
  return h("a", { class: "nhsuk-back-link", href }, text);
}

export function checkbox(id, label, { checked = false, hint = null, value = "" } = {}) {
  const input = h("input", { class: "nhsuk-checkboxes__input", id, name: id, type: "checkbox", value, checked, "aria-describedby": hint ? `${id}-hint` : null });
  return {
    input,
    item: h(
      "div",
      { class: "nhsuk-checkboxes__item" },
      input,
      h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: id }, label),
      hint ? h("div", { class: "nhsuk-hint nhsuk-checkboxes__hint", id: `${id}-hint` }, hint) : null,
    ),
  };
}

export function radio(name, id, value, label, checked = false) {
  const input = h("input", { class: "nhsuk-radios__input", id, name, type: "radio", value, checked });
  return { input, item: h("div", { class: "nhsuk-radios__item" }, input, h("label", { class: "nhsuk-label nhsuk-radios__label", for: id }, label)) };
}

export function fieldset(legend, ...children) {
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h("fieldset", { class: "nhsuk-fieldset" }, h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, legend), ...children),
  );
}
