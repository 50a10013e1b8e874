// Worklist: the clinic's cases, with badges for new photos, triage state and share expiry.

import { api } from "../api.js";
import { ICONS, h, icon, tag } from "../dom.js";
import { daysUntil, formatDateTime, formatNhsNumber, formatPlainDate, formatShortDate, plural, triageLabel } from "../format.js";
import { pageToken, rememberPageToken } from "../store.js";

export const FILTERS = [
  { value: "all", label: "All cases", empty: "No cases are shared with your clinic at the moment." },
  { value: "new", label: "New photos", empty: "There are no new photos to review." },
  { value: "awaiting-triage", label: "Awaiting triage", empty: "No cases are waiting for a triage decision." },
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

function triageCell(triage) {
  if (!triage?.outcome) return tag("Awaiting triage", "yellow");
  const t = triageLabel(triage.outcome);
  return tag(t.label, t.colour);
}

function photosCell(n) {
  if (n > 0) return tag(`${n} new`, "blue");
  return h("span", { class: "app-muted" }, "None new");
}

function caseRow(item) {
  const p = item.patient || {};
  const nhs = formatNhsNumber(p.nhsNumber);
  const dob = formatPlainDate(p.dateOfBirth);
  return h(
    "tr",
    { class: "nhsuk-table__row", dataset: { caseId: item.caseId } },
    h(
      "td",
      { class: "nhsuk-table__cell" },
      h("a", { class: "nhsuk-link app-case-link", href: `/cases/${encodeURIComponent(item.caseId)}` }, p.displayName || "Unnamed patient"),
      h(
        "span",
        { class: "app-case-meta nhsuk-body-s" },
        dob ? `Born ${dob}` : null,
        dob && nhs ? " · " : null,
        nhs ? h("span", {}, "NHS number ", h("span", { class: "app-nowrap" }, nhs)) : null,
      ),
    ),
    h("td", { class: "nhsuk-table__cell" }, (item.folders || []).map((f) => f.name).join(", ") || "None"),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "new" } }, photosCell(item.newImageCount || 0)),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "triage" } }, triageCell(item.triage)),
    h("td", { class: "nhsuk-table__cell", dataset: { col: "expiry" } }, expiryCell(item.shareExpiresAt)),
    h("td", { class: "nhsuk-table__cell nhsuk-body-s" }, formatDateTime(item.lastActivityAt) || "None"),
  );
}

function casesTable(items, filterLabel) {
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
      h("tbody", { class: "nhsuk-table__body" }, items.map(caseRow)),
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
  ctx.show(heading, filterNav(filter.value), status);

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
        `Showing ${plural(items.length, "case", "cases")}${page > 1 || result.continuationToken ? ` on page ${page}` : ""}.`,
      ),
      casesTable(items, filter.label),
    );
  }
  ctx.show(heading, filterNav(filter.value), body, pagination(filter.value, page, Boolean(result?.continuationToken)));
  ctx.focusHeading();
  ctx.ready();
}
