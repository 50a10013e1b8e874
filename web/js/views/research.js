// Research studies for researchers: the studies they are on, and one study's pseudonymised
// participants (study ID, year of birth, sex, body site, days since enrolment), their photos and the
// de-identified research export. Never a name, NHS number, date of birth, email or notes: the API
// does not send them. Every look is recorded in the participant's access log.

import { ApiError, NotAvailableError, researchApi } from "../api.js";
import { objectUrl, saveResponse } from "../blobs.js";
import { announce, backLink, button, h, summaryList, tag } from "../dom.js";
import { formatDateTime, formatPlainDate, plural } from "../format.js";
import { actionErrorMessage, inlineError } from "./states.js";

const enc = encodeURIComponent;
const SEX = { female: "Female", male: "Male", other: "Other", "not-stated": "Not stated" };
const EXPORT_TEXT = {
  queued: "Waiting to start",
  running: "Being prepared",
  ready: "Ready to download",
  failed: "Failed",
  expired: "Expired",
};
const EXPORT_COLOUR = { queued: "grey", running: "blue", ready: "green", failed: "red", expired: "grey" };

function siteLabel(code) {
  if (!code) return "No body site";
  const text = code.replace(/-/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function dayLabel(day) {
  return `Day ${day}`;
}

function notOnStudyState(ctx) {
  ctx.title("Study not available");
  ctx.show(
    backLink("/research", "Back to research studies"),
    h(
      "div",
      { class: "app-state", dataset: { testid: "study-unavailable" } },
      h("h1", {}, "This study is not available to you"),
      h("p", { class: "nhsuk-body" }, "You may have been removed from the study team, or the study may have closed."),
      h("p", { class: "nhsuk-body" }, h("a", { class: "nhsuk-link", href: "/research" }, "Go to your research studies")),
    ),
  );
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------------------------ the list
export async function researchListView(ctx) {
  ctx.title("Research studies");
  const heading = h("h1", {}, "Research studies");
  ctx.show(backLink("/", "Back to the worklist"), heading, h("p", { class: "nhsuk-body app-loading", role: "status" }, "Loading studies…"));
  const result = await researchApi.studies(ctx.signal);
  const items = result?.items || [];
  const body = items.length
    ? h(
        "ul",
        { class: "nhsuk-list nhsuk-list--border", dataset: { testid: "studies" } },
        items.map((s) =>
          h(
            "li",
            {},
            h("a", { class: "nhsuk-link nhsuk-body-l", href: `/research/studies/${enc(s.id)}` }, s.title),
            h("p", { class: "nhsuk-body-s nhsuk-u-margin-bottom-0" }, `${s.sponsor} · REC ${s.recReference}${s.irasId ? ` · IRAS ${s.irasId}` : ""}`),
          ),
        ),
      )
    : h(
        "div",
        { class: "nhsuk-inset-text", dataset: { testid: "no-studies" } },
        h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
        h("p", {}, "You are not on the research team of any study. An administrator adds researchers to a study."),
      );
  ctx.show(backLink("/", "Back to the worklist"), heading, body);
  ctx.focusHeading();
  ctx.ready();
}

// ------------------------------------------------------------------------------------ one study
function participantsTable(items) {
  const headers = ["Participant ID", "Status", "Year of birth", "Sex", "Photos", "Withdrew"];
  return h(
    "div",
    { class: "app-table-scroll" },
    h(
      "table",
      { class: "nhsuk-table", dataset: { testid: "participants" } },
      h("caption", { class: "nhsuk-table__caption nhsuk-u-visually-hidden" }, "Participants"),
      h(
        "thead",
        { class: "nhsuk-table__head" },
        h("tr", { class: "nhsuk-table__row" }, headers.map((t) => h("th", { class: "nhsuk-table__header", scope: "col" }, t))),
      ),
      h(
        "tbody",
        { class: "nhsuk-table__body" },
        items.map((p) =>
          h(
            "tr",
            { class: "nhsuk-table__row", dataset: { participant: p.participantId } },
            h("td", { class: "nhsuk-table__cell" }, p.status === "on-study" ? h("a", { class: "nhsuk-link", href: `#${p.participantId}` }, p.participantId) : p.participantId),
            h("td", { class: "nhsuk-table__cell" }, p.status === "on-study" ? tag("On study", "green") : tag("Withdrawn", "grey")),
            h("td", { class: "nhsuk-table__cell" }, p.yearOfBirth ?? "Not given"),
            h("td", { class: "nhsuk-table__cell" }, SEX[p.sex] || "Not given"),
            h("td", { class: "nhsuk-table__cell" }, String(p.photos.length)),
            h("td", { class: "nhsuk-table__cell" }, p.withdrawnDay === null || p.withdrawnDay === undefined ? "" : dayLabel(p.withdrawnDay)),
          ),
        ),
      ),
    ),
  );
}

function photoFigure(ctx, studyId, participant, photo) {
  const week = photo.timepointWeek === null || photo.timepointWeek === undefined ? "outside the schedule" : `week ${photo.timepointWeek} timepoint`;
  const caption = `${dayLabel(photo.day)}, ${week}, ${siteLabel(photo.bodySite)}`;
  const img = h("img", { class: "app-thumb__img", alt: `Photo of participant ${participant.participantId}: ${caption}`, width: 240, height: 180 });
  researchApi
    .photo(studyId, participant.participantId, photo.photoId, "thumbnail", ctx.signal)
    .then((res) => res.blob())
    .then((blob) => {
      img.src = objectUrl(blob);
    })
    .catch((err) => {
      if (err?.name === "AbortError" || ctx.handled(err)) return;
      img.replaceWith(h("p", { class: "nhsuk-body-s" }, "This photo is no longer available."));
    });
  return h("li", { class: "app-research-photo" }, h("figure", { class: "nhsuk-u-margin-0" }, img, h("figcaption", { class: "nhsuk-body-s" }, caption)));
}

function participantSection(ctx, studyId, participant) {
  const photos = participant.photos;
  return h(
    "section",
    { class: "app-research-participant", "aria-labelledby": `h-${participant.participantId}`, id: participant.participantId },
    h("h3", { class: "nhsuk-heading-s", id: `h-${participant.participantId}` }, `Participant ${participant.participantId}`),
    photos.length
      ? h("ul", { class: "app-research-photos" }, photos.map((p) => photoFigure(ctx, studyId, participant, p)))
      : h("p", { class: "nhsuk-body" }, "No photos in the enrolled folders yet."),
  );
}

function exportsCard(ctx, studyId, initial) {
  const list = h("div", { dataset: { testid: "research-exports" } });
  const errorSlot = h("div", {});
  let timer = 0;
  let items = initial;
  ctx.onCleanup(() => clearTimeout(timer));

  const download = async (item, btn) => {
    errorSlot.replaceChildren();
    btn.disabled = true;
    try {
      const res = await researchApi.exportContent(studyId, item.exportId);
      await saveResponse(res, `skinvault-research-${item.exportId}.zip`);
      announce("Research export downloaded");
    } catch (err) {
      if (err instanceof ApiError && err.status === 410) refresh();
      else if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
    } finally {
      btn.disabled = false;
    }
  };

  const render = () => {
    if (!items.length) {
      list.replaceChildren(h("p", { class: "nhsuk-body" }, "No research exports yet."));
      return;
    }
    list.replaceChildren(
      summaryList(
        items.map((item) => [
          `Started ${formatDateTime(item.createdAt)}`,
          h(
            "span",
            {},
            tag(EXPORT_TEXT[item.status] || item.status, EXPORT_COLOUR[item.status]),
            item.status === "ready" ? ` ${plural(item.participantCount || 0, "participant", "participants")}, ${plural(item.photoCount || 0, "photo", "photos")}` : "",
            item.status === "failed" && item.reason ? ` ${item.reason}` : "",
            item.status === "ready"
              ? h(
                  "span",
                  { class: "app-research-download" },
                  button("Download", {
                    variant: "secondary",
                    class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0 nhsuk-u-margin-left-2",
                    dataset: { action: "download-research-export" },
                    "aria-label": `Download the research export started ${formatDateTime(item.createdAt)}`,
                    onclick: (e) => download(item, e.currentTarget),
                  }),
                )
              : null,
          ),
        ]),
      ),
    );
  };

  const refresh = async (delay = 0) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        items = (await researchApi.exports(studyId, ctx.signal))?.items || [];
        render();
        if (items.some((i) => i.status === "queued" || i.status === "running")) refresh(Math.min((delay || 500) * 1.5, 4000));
        else if (delay) announce("The research export is ready");
      } catch (err) {
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    }, delay);
  };

  const startBtn = button("Start a research export", {
    dataset: { action: "start-research-export" },
    onclick: async () => {
      errorSlot.replaceChildren();
      startBtn.disabled = true;
      try {
        await researchApi.startExport(studyId);
        announce("Research export started");
        refresh(500);
      } catch (err) {
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      } finally {
        startBtn.disabled = false;
      }
    },
  });
  render();
  if (items.some((i) => i.status === "queued" || i.status === "running")) refresh(500);

  return h(
    "section",
    { class: "nhsuk-card app-card", "aria-labelledby": "research-export-heading" },
    h(
      "div",
      { class: "nhsuk-card__content" },
      h("h2", { class: "nhsuk-card__heading nhsuk-heading-m", id: "research-export-heading" }, "Research export"),
      h(
        "p",
        { class: "nhsuk-body" },
        "A ZIP of de-identified DICOM images, a CSV of participants and timepoints, and a FHIR bundle, for everyone on study now. It has no names, NHS numbers, dates of birth or notes; dates are days since enrolment. It is deleted when it expires.",
      ),
      errorSlot,
      list,
      startBtn,
    ),
  );
}

export async function researchStudyView(ctx) {
  const { studyId } = ctx.params;
  ctx.title("Research study");
  ctx.show(backLink("/research", "Back to research studies"), h("p", { class: "nhsuk-body app-loading", role: "status" }, "Loading the study…"));
  let study;
  let participants;
  let exports;
  try {
    [study, participants, exports] = await Promise.all([
      researchApi.study(studyId, ctx.signal),
      researchApi.participants(studyId, ctx.signal),
      researchApi.exports(studyId, ctx.signal),
    ]);
  } catch (err) {
    if (err instanceof NotAvailableError) {
      notOnStudyState(ctx);
      return;
    }
    throw err;
  }
  const items = participants?.items || [];
  const onStudy = items.filter((p) => p.status === "on-study");
  ctx.title(study.title);
  ctx.show(
    backLink("/research", "Back to research studies"),
    h("span", { class: "nhsuk-caption-l" }, "Research study"),
    h("h1", {}, study.title),
    h(
      "div",
      { class: "nhsuk-inset-text" },
      h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
      h(
        "p",
        {},
        "Participants are shown by study ID only. Each time you open this page or a photo, it is recorded in the participant's access log.",
      ),
    ),
    summaryList([
      ["Sponsor", study.sponsor],
      ["REC reference", study.recReference],
      ["IRAS ID", study.irasId || "None"],
      ["Runs", `${formatPlainDate(study.startDate)} to ${formatPlainDate(study.endDate)}`],
      ["Photo schedule", study.scheduleWeeks.map((w) => `week ${w}`).join(", ")],
      ["Body sites", (study.bodySites || []).map((s) => s.label).join(", ") || "Any"],
    ]),
    h("div", { class: "nhsuk-grid-row" }, h("div", { class: "nhsuk-grid-column-full" }, exportsCard(ctx, studyId, exports?.items || []))),
    h("h2", { class: "nhsuk-heading-m" }, `Participants (${items.length})`),
    items.length ? participantsTable(items) : h("p", { class: "nhsuk-body", dataset: { testid: "no-participants" } }, "Nobody has enrolled yet."),
    onStudy.length ? h("h2", { class: "nhsuk-heading-m" }, "Photos by participant") : null,
    onStudy.map((p) => participantSection(ctx, studyId, p)),
  );
  ctx.focusHeading();
  ctx.ready();
}
