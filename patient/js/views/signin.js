// Sign-in: demo patients locally (dev issuer); NHS login or Entra External ID in Azure (OIDC,
// authorisation code + PKCE through oidc-client-ts).

import { authMode, completeOidcSignIn, loadDemoUsers, signInDev, startOidcSignIn } from "../auth.js";
import { button, h } from "../dom.js";
import { pageUrl } from "../nav.js";
import { isUnlocked, lockOthers, person } from "../people.js";
import { setCurrentSub, takeNotice, takeReturn } from "../session.js";
import { inlineError, notice as noticeBox } from "./states.js";

const NOTICES = {
  expired: ["Your session has ended. Sign in again to carry on.", "session-expired"],
  "signed-out": ["You have signed out. Your photos and details have been removed from this phone. They are still safe in SkinVault.", "signed-out"],
  deleted: ["Your SkinVault account and everything in it have been deleted.", "deleted"],
  wiped: ["The passcode was entered wrongly 5 times, so that person's photos and details have been removed from this phone. Nothing was deleted from SkinVault: sign in again to get them back.", "wiped"],
};

/** After a successful sign-in: unlock or choose a passcode for this person on this phone. */
export async function afterSignIn(ctx, user) {
  setCurrentSub(user.sub);
  lockOthers(user.sub);
  const known = await person(user.sub);
  if (known && isUnlocked(user.sub)) ctx.navigate(takeReturn() || pageUrl("home"), { replace: true });
  else if (known) ctx.navigate(pageUrl("unlock", { sub: user.sub }), { replace: true });
  else ctx.navigate(pageUrl("passcode"), { replace: true });
}

export async function signInView(ctx) {
  const n = NOTICES[takeNotice()];
  ctx.title("Sign in");
  const errorSlot = h("div", {});
  if (authMode() === "oidc") {
    ctx.show(
      h("h1", {}, "Sign in to SkinVault"),
      n ? noticeBox(...n) : null,
      errorSlot,
      h("p", { class: "nhsuk-body" }, "Use your NHS login to keep photos of your skin and share them with your clinic."),
      button("Continue to NHS login", {
        onclick: (e) => {
          e.currentTarget.disabled = true;
          startOidcSignIn().catch(() => {
            e.target.disabled = false;
            errorSlot.replaceChildren(inlineError("We could not reach NHS login. Check your connection and try again."));
          });
        },
      }),
    );
    ctx.focusHeading();
    ctx.ready();
    return;
  }
  const users = await loadDemoUsers();
  const choose = async (user, btn) => {
    btn.disabled = true;
    errorSlot.replaceChildren();
    try {
      await afterSignIn(ctx, await signInDev(user));
    } catch (err) {
      btn.disabled = false;
      errorSlot.replaceChildren(
        inlineError(err?.status === 404 ? "The local development sign-in is switched off." : "Sign-in did not work. Check you are online, then try again."),
      );
    }
  };
  ctx.show(
    h("h1", {}, "Sign in to SkinVault"),
    n ? noticeBox(...n) : null,
    h(
      "p",
      { class: "nhsuk-body" },
      "This is the local demonstration of SkinVault. Choose a demo patient to sign in. In the NHS, you would use your NHS login instead.",
    ),
    errorSlot,
    h(
      "ul",
      { class: "nhsuk-list app-demo-users" },
      users.map((user) =>
        h("li", {}, button(`Sign in as ${user.name}`, { dataset: { sub: user.sub }, onclick: (e) => choose(user, e.currentTarget) })),
      ),
    ),
  );
  ctx.focusHeading();
  ctx.ready();
}

export async function callbackView(ctx) {
  ctx.title("Signing in");
  try {
    const user = await completeOidcSignIn();
    await afterSignIn(ctx, user);
  } catch {
    ctx.show(
      h("h1", {}, "Sign-in did not finish"),
      h("p", { class: "nhsuk-body" }, "Try signing in again."),
      h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("signin") }, "Sign in")),
    );
    ctx.focusHeading();
    ctx.ready();
  }
}
