// Sign-in: demo clinicians locally (dev issuer), Entra ID in Azure (MSAL).

import { authMode, completeMsalRedirect, getToken, loadDemoUsers, signInDev, startMsalSignIn } from "../auth.js";
import { button, h } from "../dom.js";
import { takeNotice, takeReturn } from "../session.js";
import { inlineError } from "./states.js";

function noticeBox(notice) {
  if (notice === "expired") {
    return h(
      "div",
      { class: "nhsuk-inset-text", dataset: { testid: "session-expired" } },
      h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
      h("p", {}, "Your session has ended. Sign in again to go back to where you were."),
    );
  }
  if (notice === "signed-out") {
    return h(
      "div",
      { class: "nhsuk-inset-text", dataset: { testid: "signed-out" } },
      h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
      h("p", {}, "You have signed out. Nothing from your session is kept in this browser."),
    );
  }
  return null;
}

export async function signInView(ctx) {
  const notice = takeNotice();
  ctx.title("Sign in");

  if (authMode() === "msal") {
    let signedIn = false;
    let failure = null;
    try {
      signedIn = await completeMsalRedirect();
    } catch {
      failure = "Sign-in did not finish. Try again.";
    }
    if (signedIn && (await getToken())) {
      ctx.navigate(takeReturn(), { replace: true });
      return;
    }
    ctx.show(
      h("h1", {}, "Sign in"),
      noticeBox(notice),
      failure ? inlineError(failure) : null,
      h("p", { class: "nhsuk-body" }, "Sign in with your NHS organisation account to see photos patients have shared with your clinic."),
      button("Sign in", {
        onclick: (e) => {
          e.currentTarget.disabled = true;
          startMsalSignIn().catch(() => ctx.rerender());
        },
      }),
    );
    ctx.focusHeading();
    ctx.ready();
    return;
  }

  if (!notice && (await getToken())) {
    ctx.navigate(takeReturn(), { replace: true });
    return;
  }
  const users = await loadDemoUsers();
  const errorSlot = h("div", {});
  const choose = async (user, btn) => {
    btn.disabled = true;
    errorSlot.replaceChildren();
    try {
      await signInDev(user);
      ctx.navigate(takeReturn(), { replace: true });
    } catch (err) {
      btn.disabled = false;
      errorSlot.replaceChildren(
        inlineError(
          err?.status === 404
            ? "The local development sign-in is switched off."
            : "Sign-in failed. Check the local host is running, then try again.",
        ),
      );
    }
  };
  ctx.show(
    h("h1", {}, "Sign in"),
    noticeBox(notice),
    h(
      "p",
      { class: "nhsuk-body" },
      "This is the local demonstration of SkinVault. Choose a demo clinician to sign in. In the NHS, you sign in with your organisation account instead.",
    ),
    errorSlot,
    h(
      "ul",
      { class: "nhsuk-list app-demo-users" },
      users.map((user) =>
        h(
          "li",
          {},
          button(`Sign in as ${user.name}`, {
            dataset: { sub: user.sub },
            onclick: (e) => choose(user, e.currentTarget),
          }),
        ),
      ),
    ),
  );
  ctx.focusHeading();
  ctx.ready();
}
