// Your details: given name, family name, date of birth, NHS number (Modulus 11, spaces allowed)
// and an email address for notifications.

import { api } from "../api.js";
import { button, h } from "../dom.js";
import { todayIso, validNhsNumber } from "../format.js";
import { pageUrl } from "../nav.js";
import { actionErrorMessage, field, inlineError } from "./states.js";

export async function profileView(ctx) {
  const me = await api.me(ctx.signal);
  const hasNames = Boolean(me.givenName || me.familyName);
  const [guessGiven, ...rest] = String(me.displayName || "").split(" ");
  ctx.title("Your details");
  const given = field({ id: "given-name", label: "First name", value: hasNames ? me.givenName : guessGiven, attrs: { autocomplete: "given-name", maxlength: 100 } });
  const family = field({ id: "family-name", label: "Last name", value: hasNames ? me.familyName : rest.join(" "), attrs: { autocomplete: "family-name", maxlength: 100 } });
  const dob = field({ id: "dob", label: "Date of birth", type: "date", value: me.dateOfBirth, attrs: { autocomplete: "bday", max: todayIso() } });
  const nhs = field({
    id: "nhs-number",
    label: "NHS number (optional)",
    hint: "This is a 10 digit number, like 485 777 3456. You can find it on any letter the NHS has sent you.",
    value: me.nhsNumber,
    width: 10,
    attrs: { inputmode: "numeric", autocomplete: "off", maxlength: 12 },
  });
  const email = field({
    id: "email",
    label: "Email address (optional)",
    hint: "We only email to tell you something new is in SkinVault. The email never says what it is about.",
    type: "email",
    value: me.email,
    attrs: { autocomplete: "email", maxlength: 254, spellcheck: "false" },
  });
  const errorSlot = h("div", {});
  const saved = h("div", { role: "status" });
  const form = h(
    "form",
    { novalidate: true, onsubmit: (e) => submit(e) },
    errorSlot,
    given.group,
    family.group,
    dob.group,
    nhs.group,
    email.group,
    button("Save details", { type: "submit" }),
    saved,
  );
  async function submit(e) {
    e.preventDefault();
    for (const f of [given, family, nhs, email]) f.setError(null);
    errorSlot.replaceChildren();
    saved.replaceChildren();
    const g = given.input.value.trim();
    const f = family.input.value.trim();
    const n = nhs.input.value.replace(/\s+/g, "");
    const m = email.input.value.trim();
    let bad = null;
    if (!g) bad = bad || (given.setError("Enter your first name"), given);
    if (n && !validNhsNumber(n)) bad = bad || (nhs.setError("Enter a valid NHS number, like 485 777 3456"), nhs);
    if (m && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(m)) bad = bad || (email.setError("Enter an email address in the correct format, like name@example.com"), email);
    if (bad) {
      bad.input.focus();
      return;
    }
    const body = { givenName: g, familyName: f || null, dateOfBirth: dob.input.value || null, nhsNumber: n || null, email: m || null };
    try {
      await api.updateMe(body);
      saved.replaceChildren(h("p", { class: "nhsuk-body" }, "Your details have been saved."));
    } catch (err) {
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  }
  ctx.show(h("a", { class: "nhsuk-back-link", href: pageUrl("home") }, "Your folders"), h("h1", {}, "Your details"), form);
  ctx.focusHeading();
  ctx.ready();
}
