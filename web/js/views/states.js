// Shared page states: share withdrawn, errors with retry, page not found.

import { button, h } from "../dom.js";
import { forgetCase } from "../store.js";

export function revokedState(ctx) {
  if (ctx.params?.caseId) forgetCase(ctx.params.caseId);
  ctx.title("The patient has withdrawn access");
  ctx.show(
    h(
      "div",
      { class: "app-state app-state--revoked", dataset: { testid: "revoked" } },
      h("h1", {}, "The patient has withdrawn access"),
      h(
        "p",
        { class: "nhsuk-body" },
        "This case is no longer shared with your clinic. The patient may have withdrawn access, or the share has expired.",
      ),
      h("p", { class: "nhsuk-body" }, "Its photos and details are no longer available to you."),
      h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: "/" }, "Go back to the worklist")),
    ),
  );
  ctx.focusHeading();
}

function describe(err) {
  if (err?.network) {
    return {
      title: "We cannot reach SkinVault",
      body: "Check your network connection, then try again.",
    };
  }
  if (err?.status === 503 || err?.status === 502 || err?.status === 504) {
    return {
      title: "SkinVault is not available at the moment",
      body: "A service SkinVault depends on is not responding. Try again in a few minutes.",
    };
  }
  if (err?.status === 429) {
    return { title: "Too many requests", body: "Wait a moment, then try again." };
  }
  return {
    title: "Sorry, there is a problem with the service",
    body: "Try again. If the problem continues, contact your IT service desk.",
  };
}

export function errorState(ctx, err, retry) {
  const { title, body } = describe(err);
  const ref = err?.problem?.correlationId;
  ctx.title(title);
  ctx.show(
    h(
      "div",
      { class: "app-state app-state--error", dataset: { testid: "error" } },
      h("h1", {}, title),
      h("p", { class: "nhsuk-body" }, body),
      ref ? h("p", { class: "nhsuk-body-s" }, `Reference: ${ref}`) : null,
      button("Try again", { onclick: retry, dataset: { action: "retry" } }),
    ),
  );
  ctx.focusHeading();
}

export function notFoundState(ctx) {
  ctx.title("Page not found");
  ctx.show(
    h("h1", {}, "Page not found"),
    h("p", { class: "nhsuk-body" }, "If you typed the web address, check it is correct."),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: "/" }, "Go to the worklist")),
  );
  ctx.focusHeading();
}

/** A small inline error (for an action that failed but left the page usable). */
export function inlineError(message) {
  return h("p", { class: "nhsuk-error-message app-inline-error", role: "alert" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "), message);
}

export function actionErrorMessage(err) {
  if (err?.network) return "We could not reach SkinVault. Check your connection and try again.";
  if (err?.status === 422 || err?.status === 400) return err.problem?.detail || "Check what you entered and try again.";
  if (err?.status === 409 && err.problem?.detail) return err.problem.detail;
  if (err?.status === 409 || err?.status === 412) return "Someone else changed this case. Reload the page and try again.";
  return "Something went wrong. Try again.";
}
