// Research studies: join with the study code (participant information, research consent, folders),
// your study schedule (timepoints relative to the day you joined), and leaving a study.

import { ApiError, api } from "../api.js";
import { button, h, summaryList, tag } from "../dom.js";
import { formatDate, formatPlainDate } from "../format.js";
import { pageUrl } from "../nav.js";
import { setNotice, takeNotice } from "../session.js";
import { actionErrorMessage, back, checkbox, field, fieldset, inlineError, notice, radio } from "./states.js";

const STATES = {
  done: ["Done", "green"],
  due: ["Due now", "blue"],
  upcoming: ["Coming up", "grey"],
  missed: ["Missed", "white"],
};

const SEXES = [
  ["female", "Female"],
  ["male", "Male"],
  ["other", "Other"],
  ["not-stated", "I would rather not say"],
];

function timepointName(t) {
  return t.week === 0 ? "Start (day 0)" : `Week ${t.week} (day ${t.day})`;
}

// ------------------------------------------------------------------ your studies
export async function studiesView(ctx) {
  const n = takeNotice();
  ctx.title("Research studies");
  const enrolments = await api.enrolments(ctx.signal);
  const active = enrolments.filter((e) => e.status === "active");
  const left = enrolments.filter((e) => e.status !== "active");
  const item = (e) =>
    h(
      "li",
      { dataset: { enrolmentId: e.id } },
      h("a", { class: "nhsuk-link", href: pageUrl("study", { id: e.id }) }, e.study?.title || "A study that has ended"),
      e.status === "active" ? null : h("span", { class: "nhsuk-body-s app-muted" }, ` (you left on ${formatDate(e.withdrawnAt)})`),
    );
  ctx.show(
    back(),
    h("h1", {}, "Research studies"),
    n === "withdrawn" ? notice("You have left the study. The research team cannot see your photos any more.", "withdrawn") : null,
    active.length
      ? [h("h2", { class: "nhsuk-heading-m" }, "Studies you are taking part in"), h("ul", { class: "nhsuk-list app-studies" }, active.map(item))]
      : h("p", { class: "nhsuk-body" }, "You are not taking part in any research study."),
    h("a", { class: "nhsuk-button", href: pageUrl("join-study"), role: "button", draggable: "false" }, "Join a study"),
    left.length ? [h("h2", { class: "nhsuk-heading-m" }, "Studies you have left"), h("ul", { class: "nhsuk-list app-studies" }, left.map(item))] : null,
  );
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------ join a study
export async function joinStudyView(ctx) {
  ctx.title("Join a research study");
  const code = field({
    id: "study-code",
    label: "Study code",
    hint: "The research team gives you a code, like ABCD-EFGH",
    attrs: { autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: 40 },
    width: 10,
  });
  const form = h("form", { novalidate: true, onsubmit: (e) => findStudy(e) }, code.group, button("Continue", { type: "submit" }));
  async function findStudy(e) {
    e.preventDefault();
    code.setError(null);
    const value = code.input.value.trim().toUpperCase();
    if (!value) {
      code.setError("Enter the code the research team gave you");
      code.input.focus();
      return;
    }
    try {
      const study = await api.studyByCode(value);
      await informationStep(ctx, study);
    } catch (err) {
      if (ctx.handled(err)) return;
      const notFound = err instanceof ApiError && (err.status === 404 || err.status === 400);
      code.setError(notFound ? "We cannot find a study with that code. Check the code and try again" : err?.status === 429 ? "Too many wrong codes. Wait a while, then try again" : actionErrorMessage(err));
      code.input.focus();
    }
  }
  ctx.show(
    back(pageUrl("studies"), "Research studies"),
    h("h1", {}, "Join a research study"),
    h("p", { class: "nhsuk-body" }, "Taking part is your choice. It does not change your care. You can leave at any time."),
    form,
  );
  ctx.focusHeading();
  ctx.ready();
}

/** The participant information, research consent and folders for one study, then the enrolment. */
async function informationStep(ctx, study) {
  const info = study.participantInformation;
  const folders = (await api.folders(ctx.signal)).filter((f) => !f.archived);
  ctx.title(`Join ${study.title}`);
  const errorSlot = h("div", {});
  const folderBoxes = folders.map((f, i) => ({ id: f.id, ...checkbox(`study-folder-${i}`, f.name, { value: f.id }) }));
  const sexes = SEXES.map(([value, label]) => radio("sex", `sex-${value}`, value, label));
  const agree = checkbox("study-consent", "I have read the information above and I agree to take part in this study", { value: "yes" });
  const open = study.openForEnrolment !== false;
  const form = h(
    "form",
    { novalidate: true, onsubmit: (e) => submit(e) },
    fieldset(
      "Which folders can the research team see?",
      h("div", { class: "nhsuk-hint" }, "They see the photos in these folders without your name, NHS number, date of birth or notes."),
      folders.length ? h("div", { class: "nhsuk-checkboxes" }, folderBoxes.map((b) => b.item)) : h("p", { class: "nhsuk-body" }, "You do not have any folders yet. Add a folder first."),
    ),
    fieldset("Your sex (optional)", h("div", { class: "nhsuk-hint" }, "The research team sees this if you give it."), h("div", { class: "nhsuk-radios" }, sexes.map((s) => s.item))),
    fieldset("Your consent", h("div", { class: "nhsuk-checkboxes" }, agree.item)),
    errorSlot,
    button("Join the study", { type: "submit" }),
  );
  async function submit(e) {
    e.preventDefault();
    errorSlot.replaceChildren();
    const chosen = folderBoxes.filter((b) => b.input.checked).map((b) => b.id);
    if (!chosen.length) {
      errorSlot.replaceChildren(inlineError("Choose at least one folder"));
      return;
    }
    if (!agree.input.checked) {
      errorSlot.replaceChildren(inlineError("Tick the box to say you agree to take part"));
      return;
    }
    const sex = sexes.find((s) => s.input.checked)?.input.value || null;
    const body = { studyId: study.id, folderIds: chosen, sex, consent: { version: info.version, textHash: info.textHash, accepted: true } };
    const submitButton = e.submitter || form.querySelector("button[type=submit]");
    submitButton.disabled = true;
    try {
      const enrolment = await api.enrol(body);
      setNotice("enrolled");
      ctx.navigate(pageUrl("study", { id: enrolment.id }), { replace: true });
    } catch (err) {
      submitButton.disabled = false;
      if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    }
  }
  ctx.show(
    back(pageUrl("join-study"), "Back"),
    h("h1", {}, `Join ${study.title}`),
    summaryList([
      ["Run by", study.sponsor],
      ["Clinic", study.clinic?.name],
      ["Ethics approval", study.recReference],
      ["Photos at", study.scheduleWeeks.map((w) => (w === 0 ? "the start" : `week ${w}`)).join(", ")],
    ]),
    h(
      "div",
      { class: "app-consent", dataset: { testid: "participant-information", version: info.version, textHash: info.textHash } },
      h("h2", { class: "nhsuk-heading-m" }, info.title),
      info.paragraphs.map((p) => h("p", { class: "nhsuk-body" }, p)),
      h("p", { class: "nhsuk-body-s app-muted" }, `Participant information version ${info.version}`),
    ),
    open ? form : notice("This study is not taking new people at the moment.", "closed"),
  );
  ctx.focusHeading();
}

// ------------------------------------------------------------------ your schedule, and leaving
export async function studyView(ctx) {
  const n = takeNotice();
  const enrolment = await api.enrolment(ctx.query.get("id") || "", ctx.signal);
  const title = enrolment.study?.title || "Research study";
  ctx.title(title);
  const active = enrolment.status === "active";
  const confirmSlot = h("div", {});
  const rows = enrolment.schedule.map((t) => {
    const [label, colour] = STATES[t.state] || [t.state, "grey"];
    return h(
      "tr",
      { class: "nhsuk-table__row", dataset: { week: t.week, state: t.state } },
      h("td", { class: "nhsuk-table__cell" }, timepointName(t)),
      h("td", { class: "nhsuk-table__cell" }, formatPlainDate(t.dueDate)),
      h("td", { class: "nhsuk-table__cell" }, tag(label, colour)),
    );
  });
  const schedule = h(
    "table",
    { class: "nhsuk-table", dataset: { testid: "study-schedule" } },
    h("caption", { class: "nhsuk-table__caption" }, "When to take photos"),
    h(
      "thead",
      { class: "nhsuk-table__head" },
      h("tr", { class: "nhsuk-table__row" }, ["When", "Date", "Status"].map((c) => h("th", { class: "nhsuk-table__header", scope: "col" }, c))),
    ),
    h("tbody", { class: "nhsuk-table__body" }, rows),
  );
  const leave = button("Leave this study", {
    variant: "secondary",
    onclick: () => {
      confirmSlot.replaceChildren(
        h(
          "div",
          { class: "nhsuk-warning-callout" },
          h("h3", { class: "nhsuk-warning-callout__label", tabindex: "-1" }, h("span", { role: "text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Important: "), "Leave the study?")),
          h("p", {}, "The research team will not be able to see your photos from now on. Anything they have already taken out of SkinVault for the study is kept, as the participant information says."),
          button("Yes, leave the study", {
            variant: "warning",
            onclick: async (e) => {
              e.currentTarget.disabled = true;
              try {
                await api.withdraw(enrolment.id);
                setNotice("withdrawn");
                ctx.navigate(pageUrl("studies"), { replace: true });
              } catch (err) {
                e.target.disabled = false;
                if (!ctx.handled(err)) confirmSlot.append(inlineError(actionErrorMessage(err)));
              }
            },
          }),
          button("No, stay in the study", { variant: "secondary", onclick: () => confirmSlot.replaceChildren() }),
        ),
      );
      confirmSlot.querySelector("h3")?.focus();
    },
  });
  ctx.show(
    back(pageUrl("studies"), "Research studies"),
    h("h1", {}, title),
    n === "enrolled" ? notice("You have joined the study. Thank you.", "enrolled") : null,
    summaryList([
      ["You joined on", formatDate(enrolment.enrolledAt)],
      active ? null : ["You left on", formatDate(enrolment.withdrawnAt)],
      ["Your participant number", enrolment.participantCode],
    ]),
    active
      ? [
          h("p", { class: "nhsuk-body" }, "Take photos in your study folders on or near these dates. If we have your email address, we will email you when photos are due."),
          schedule,
          h("h2", { class: "nhsuk-heading-m" }, "Leaving the study"),
          h("p", { class: "nhsuk-body" }, "You can leave at any time. You do not have to give a reason, and it does not change your care."),
          leave,
          confirmSlot,
        ]
      : h("p", { class: "nhsuk-body" }, "You have left this study. The research team cannot see your photos."),
    enrolment.participantInformation
      ? h(
          "details",
          { class: "nhsuk-details" },
          h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, "The participant information you agreed to")),
          h(
            "div",
            { class: "nhsuk-details__text" },
            h("h2", { class: "nhsuk-heading-s" }, enrolment.participantInformation.title),
            enrolment.participantInformation.paragraphs.map((p) => h("p", { class: "nhsuk-body" }, p)),
          ),
        )
      : null,
  );
  ctx.focusHeading();
  ctx.ready();
}
