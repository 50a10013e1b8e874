// Switch person, unlock with a passcode, and choose a passcode the first time someone signs in
// on this phone.

import { getToken } from "../auth.js";
import { button, h } from "../dom.js";
import { pageUrl } from "../nav.js";
import { WipedError, WrongPasscodeError, addPerson, isUnlocked, lockOthers, people, person, unlock, validPasscode } from "../people.js";
import { currentSub, readToken, setCurrentSub, setNotice, takeReturn } from "../session.js";
import { field, notice } from "./states.js";

export async function peopleView(ctx) {
  ctx.title("Switch person");
  const list = await people();
  const current = currentSub();
  ctx.show(
    h("h1", {}, "Who is using SkinVault?"),
    h(
      "p",
      { class: "nhsuk-body" },
      "Each person on this phone has their own photos, locked with their own passcode.",
    ),
    list.length
      ? h(
          "ul",
          { class: "nhsuk-list app-people" },
          list.map((p) =>
            h(
              "li",
              {},
              button(p.sub === current && isUnlocked(p.sub) ? `Carry on as ${p.name}` : `Use as ${p.name}`, {
                variant: "secondary",
                dataset: { sub: p.sub },
                onclick: () => {
                  if (p.sub !== current) lockOthers(null); // switching person always asks for their passcode
                  setCurrentSub(p.sub);
                  ctx.navigate(isUnlocked(p.sub) ? pageUrl("home") : pageUrl("unlock", { sub: p.sub }));
                },
              }),
            ),
          ),
        )
      : h("p", { class: "nhsuk-body" }, "Nobody has signed in on this phone yet."),
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("signin") }, "Add another person")),
  );
  ctx.focusHeading();
  ctx.ready();
}

function passcodeField(id, label, hint) {
  return field({
    id,
    label,
    hint,
    type: "password",
    width: 5,
    attrs: { inputmode: "numeric", autocomplete: id === "passcode" ? "current-password" : "new-password", maxlength: 6, pattern: "[0-9]*" },
  });
}

export async function unlockView(ctx) {
  const sub = ctx.query.get("sub") || currentSub();
  const p = await person(sub);
  if (!p) {
    ctx.navigate(pageUrl("signin"), { replace: true });
    return;
  }
  ctx.title("Enter your passcode");
  const code = passcodeField("passcode", "Passcode", "The 4 to 6 numbers you chose for SkinVault on this phone");
  const form = h(
    "form",
    { novalidate: true, onsubmit: (e) => submit(e) },
    code.group,
    button("Unlock", { type: "submit" }),
  );
  async function submit(e) {
    e.preventDefault();
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    try {
      await unlock(sub, code.input.value.trim());
      lockOthers(sub);
      setCurrentSub(sub);
      ctx.navigate(getToken(sub) || !navigator.onLine ? takeReturn() || pageUrl("home") : pageUrl("signin", { sub }), { replace: true });
    } catch (err) {
      btn.disabled = false;
      if (err instanceof WipedError) {
        setNotice("wiped");
        ctx.navigate(pageUrl("signin"), { replace: true });
        return;
      }
      if (err instanceof WrongPasscodeError) {
        code.setError(
          err.triesLeft === 1
            ? "That passcode is not right. You have 1 more try before this person's photos are removed from this phone."
            : `That passcode is not right. You have ${err.triesLeft} more tries.`,
        );
        code.input.value = "";
        code.input.focus();
        return;
      }
      throw err;
    }
  }
  ctx.show(
    h("h1", {}, `Unlock SkinVault for ${p.name}`),
    form,
    h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: pageUrl("people") }, "Not you? Switch person")),
  );
  ctx.focusHeading();
  ctx.ready();
}

export async function passcodeNewView(ctx) {
  const sub = currentSub();
  const token = readToken(sub);
  ctx.title("Choose a passcode");
  const first = passcodeField("new-passcode", "Choose a passcode", "4 to 6 numbers. You will need it each time you open SkinVault.");
  const second = passcodeField("confirm-passcode", "Enter the passcode again");
  const form = h(
    "form",
    { novalidate: true, onsubmit: (e) => submit(e) },
    first.group,
    second.group,
    button("Save passcode", { type: "submit" }),
  );
  async function submit(e) {
    e.preventDefault();
    first.setError(null);
    second.setError(null);
    const a = first.input.value.trim();
    const b = second.input.value.trim();
    if (!validPasscode(a)) {
      first.setError("Enter 4 to 6 numbers");
      first.input.focus();
      return;
    }
    if (a !== b) {
      second.setError("The passcodes do not match. Enter the same numbers again");
      second.input.focus();
      return;
    }
    await addPerson(sub, token?.name || "You", a);
    ctx.navigate(takeReturn() || pageUrl("home"), { replace: true });
  }
  ctx.show(
    h("h1", {}, "Choose a passcode"),
    notice("Your photos and details are kept on this phone locked with this passcode. If it is entered wrongly 5 times, they are removed from this phone (they stay safe in SkinVault)."),
    form,
  );
  ctx.focusHeading();
  ctx.ready();
}
