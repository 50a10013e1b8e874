// Worklist: the clinic's cases, with badges for new photos and replies, triage state and share
// expiry; photo requests waiting for photos (with Cancel); cases whose patient stopped sharing.

import { api } from "../api.js";
import { announce, button, ICONS, h, icon, tag } from "../dom.js";
import { daysUntil, formatDate, formatDateTime, formatNhsNumber, formatPlainDate, formatShortDate, plural, triageLabel } from "../format.js";
import { pageToken, rememberPageToken } from "../store.js";
import { fdsTag, under18Tag } from "./clinical.js";
import { actionErrorMessage, inlineError } from "./states.js";

export const FILTERS = [
  { value: "all", label: "All cases", empty: "No cases are shared with your clinic at the moment." },
  { value: "new", label: "New photos", empty: "There are no new photos to review." },
  { value: "awaiting-triage", label: "Awaiting triage", empty: "No cases are waiting for a triage decision." },
  { value: "urgent", label: "Urgent", empty: "No cases are on the urgent suspected cancer pathway." },
];

function worklistHref(filter, page) {
  const params = new URLSearchParams();
  if (filter !== "all") params.set("filter", filter);
  if (page > 1) params.set("page", String(page));
  const qs = params.toString();
  return qs ? `/?${qs}` : "/";
}

function filterNav(active) {
  return h(
    "nav",
    { class: "app-filters", "aria-label": "Filter cases" },
    h(
      "ul",
      { class: "app-filters__list" },
      FILTERS.map((f) =>
        h(
          "li",
          { class: "app-filters__item" },
          h(
            "a",
            {
              class: ["app-filters__link", f.value === active && "app-filters__link--active"],
              href: worklistHref(f.value, 1),
              "aria-current": f.value === active ? "page" : null,
              dataset: { filter: f.value },
            },
            f.label,
          ),
        ),
      ),
    ),
  );
}

function expiryCell(expiresAt) {
  if (!expiresAt) return "No end date";
  const days = daysUntil(expiresAt);
  const date = formatShortDate(expiresAt);
  if (days !== null && days < 0) return tag("Expired", "grey");
  if (days !== null && days <= 7) {
    return h("span", {}, tag(days === 0 ? "Ends today" : `Ends in ${plural(days, "day", "days")}`, "orange"), h("br"), h("span", { class: "nhsuk-body-s" }, date));
  }
  return date;
}

function triageCell(triage, fds) {
  if (!triage?.outcome) return tag("Awaiting triage", "yellow");
  const t = triageLabel(triage.outcome);
  return fds ? h("span", {}, tag(t.label, t.colour), " ", fdsTag(fds)) : tag(t.label, t.colour);
}

function photosCell(item) {
  const parts = [];
  if (item.status === "waiting-for-photos") parts.push(tag("Waiting for photos", "yellow"));
  else if (item.newImageCount > 0) parts.push(tag(`${item.newImageCount} new`, "blue"));
  if (item.newReplyCount > 0) parts.push(" ", tag(plural(item.newReplyCount, "new reply", "new replies"), "aqua-green"));
  return parts.length ? h("span", {}, parts) : h("span", { class: "app-muted" }, "None new");
}

function patientCell(item, linked) {
  const p = item.patient || {};
  const nhs = formatNhsNumber(p.nhsNumber);
  const dob = formatPlainDate(p.dateOfBirth);
  const name = p.displayName || "Unnamed patient";
  return h(
    "td",
    { class: "nhsuk-table__cell" },
    linked ? h("a", { class: "nhsuk-link app-case-link", href: `/cases/${encodeURIComponent(item.caseId)}` }, name) : h("span", { class: "app-case-name" }, name),
    h(
      "span",
      { class: "app-case-meta nhsuk-body-s" },
      dob ? `Born ${dob}` : null,
      dob && nhs ? " · " : null,
      nhs ? h("span", {}, "NHS number ", h("span", { class: "app-nowrap" }, nhs)) : null,
    ),
    item.under18 ? h("span", { class: "app-case-meta" }, under18Tag(true)) : null,
  );
}

function endedRow(item) {
  return h(
    "tr",
    { class: "nhsuk-table__row app-row--ended", dataset: { caseId: item.caseId, status: item.status } },
    patientCell(item, false),
    h(
      "td",
      { class: "nhsuk-table__cell", colspan: "4", dataset: { col: "status" } },
      tag(`Sharing ended by the patient on ${formatDate(item.sharingEndedAt)}`, "grey"),
      h("span", { class: "app-case-meta nhsuk-body-s" }, "Their photos and details are no longer available."),
    ),
    h("td", { class: "nhsuk-table__cell nhsuk-body-s" }, formatDateTime(item.lastActivityAt) || "None"),
  );
}

function invitationRow(ctx, item) {
  const inv = item.invitation;
  const errorSlot = h("div", {});
  const cancel = button("Cancel request", {
    variant: "secondary",
    class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small",
    "aria-label": `Cancel request for photos from ${inv.email}`,
    dataset: { action: "cancel-invitation" },
    onclick: async () => {
      errorSlot.replaceChildren();
      cancel.disabled = true;
      try {
        await api.cancelInvitation(inv.id);
        row.remove();
        announce(`Photo request to ${inv.email} cancelled`);
      } catch (err) {
        cancel.disabled = false;
        if (!ctx.handled(err)) errorSlot.replaceChildren(inlineError(actionErrorMessage(err)));
      }
    },
  });
  const row = h(
    "tr",
    { class: "nhsuk-table__row", dataset: { caseId: item.caseId, status: item.status, invitationId: inv.id } },
    h(
      "td",
      { class: "nhsuk-table__cell" },
      h("span", { class: "app-case-name" }, `Photos requested from ${inv.email}`),
      h("span", { class: "app-case-meta nhsuk-body-s" }, inv.state === "accepted" ? "The patient has opened the request" : "Not opened yet"),
    ),
    h("td", { class: "nhsuk-table__cell nhsuk-body-s" }, inv.instruction || h("span", { class: "app-muted" }, "No instruction")),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "new" } }, tag("Waiting for photos", "yellow")),
    h("td", { class: "nhsuk-table__cell" }, errorSlot, cancel),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "expiry" } }, h("span", { class: "nhsuk-body-s" }, `Link ends ${formatShortDate(inv.expiresAt)}`)),
    h("td", { class: "nhsuk-table__cell nhsuk-body-s" }, formatDateTime(item.lastActivityAt) || "None"),
  );
  return row;
}

function caseRow(ctx, item) {
  if (item.status === "sharing-ended") return endedRow(item);
  if (item.invitation) return invitationRow(ctx, item);
  return h(
    "tr",
    { class: "nhsuk-table__row", dataset: { caseId: item.caseId, status: item.status || "open" } },
    patientCell(item, true),
    h("td", { class: "nhsuk-table__cell" }, (item.folders || []).map((f) => f.name).join(", ") || "None"),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "new" } }, photosCell(item)),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "triage", urgency: item.urgency || "" } }, triageCell(item.triage, item.fds)),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "expiry" } }, expiryCell(item.shareExpiresAt)),
    h("td", { class: "nhsuk-table__cell nhsuk-body-s" }, formatDateTime(item.lastActivityAt) || "None"),
  );
}

function casesTable(ctx, items, filterLabel) {
  const headers = ["Patient", "Folders", "Photos", "Triage", "Share ends", "Last activity"];
  return h(
    "div",
    { class: "app-table-scroll" },
    h(
      "table",
      { class: "nhsuk-table app-worklist" },
      h("caption", { class: "nhsuk-table__caption nhsuk-u-visually-hidden" }, `Cases: ${filterLabel}`),
      h(
        "thead",
        { class: "nhsuk-table__head" },
        h("tr", { class: "nhsuk-table__row" }, headers.map((t) => h("th", { class: "nhsuk-table__header", scope: "col" }, t))),
      ),
      h("tbody", { class: "nhsuk-table__body" }, items.map((item) => caseRow(ctx, item))),
    ),
  );
}

function pagination(filter, page, hasNext) {
  if (page <= 1 && !hasNext) return null;
  const item = (cls, href, rel, title, label, iconName, iconPath, iconFirst) =>
    h(
      "li",
      { class: cls },
      h(
        "a",
        { class: `nhsuk-pagination__link nhsuk-pagination__link--${rel}`, href, rel },
        iconFirst ? icon(iconName, iconPath) : null,
        h("span", { class: "nhsuk-pagination__title" }, title, h("span", { class: "nhsuk-u-visually-hidden" }, " page")),
        h("span", { class: "nhsuk-u-visually-hidden" }, ":"),
        h("span", { class: "nhsuk-pagination__page" }, label),
        iconFirst ? null : icon(iconName, iconPath),
      ),
    );
  return h(
    "nav",
    { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pagination" },
    h(
      "ul",
      { class: "nhsuk-list nhsuk-pagination__list" },
      page > 1
        ? item("nhsuk-pagination-item--previous", worklistHref(filter, page - 1), "prev", "Previous", `Page ${page - 1}`, "arrow-left", ICONS.arrowLeft, true)
        : null,
      hasNext
        ? item("nhsuk-pagination-item--next", worklistHref(filter, page + 1), "next", "Next", `Page ${page + 1}`, "arrow-right", ICONS.arrowRight, false)
        : null,
    ),
  );
}

export async function worklistView(ctx) {
  const filterValue = ctx.query.get("filter") || "all";
  const filter = FILTERS.find((f) => f.value === filterValue) || FILTERS[0];
  let page = Math.max(1, Number.parseInt(ctx.query.get("page") || "1", 10) || 1);
  let token = pageToken(filter.value, page);
  if (token === undefined) {
    page = 1; // we no longer know where that page starts (e.g. after a reload)
    token = null;
  }
  ctx.title(filter.value === "all" ? "Worklist" : `Worklist: ${filter.label.toLowerCase()}`);
  const heading = h("h1", {}, "Worklist");
  const status = h("p", { class: "nhsuk-body app-loading", role: "status" }, "Loading cases…");
  const requestLink = h(
    "p",
    { class: "app-worklist-actions" },
    h("a", { class: "nhsuk-button nhsuk-button--secondary", href: "/requests/new", role: "button", draggable: "false", dataset: { action: "request-photos" } }, "Request photos"),
  );
  ctx.show(heading, requestLink, filterNav(filter.value), status);

  const limit = ctx.config?.worklistPageSize || 50;
  const result = await api.cases(filter.value, token, limit, ctx.signal);
  const items = result?.items || [];
  if (result?.continuationToken) rememberPageToken(filter.value, page + 1, result.continuationToken);

  const body = [];
  if (!items.length) {
    body.push(
      h(
        "div",
        { class: "nhsuk-inset-text app-empty", dataset: { testid: "empty-worklist" } },
        h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "),
        h("p", {}, page > 1 ? "There are no more cases." : filter.empty),
      ),
    );
  } else {
    body.push(
      h(
        "p",
        { class: "nhsuk-body app-result-count", role: "status" },
        `Showing ${plural(items.length, "case", "cases")}${page > 1 || result.continuationToken ? ` on page ${page}` : ""}, most urgent first, then longest waiting.`,
      ),
      casesTable(ctx, items, filter.label),
    );
  }
  ctx.show(heading, requestLink, filterNav(filter.value), body, pagination(filter.value, page, Boolean(result?.continuationToken)));
  ctx.focusHeading();
  ctx.ready();
}
