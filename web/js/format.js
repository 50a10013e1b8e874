// Formatting for people: dates in UK style, NHS numbers 3-3-4.

const LONDON = "Europe/London";
const dateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: LONDON });
const shortDateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: LONDON });
const dateTimeFmt = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: LONDON,
});
const plainDateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** "9434765919" -> "943 476 5919"; anything that is not 10 digits is shown as given. */
export function formatNhsNumber(value) {
  if (value === null || value === undefined || value === "") return null;
  const digits = String(value).replace(/\s+/g, "");
  if (!/^\d{10}$/.test(digits)) return String(value);
  return `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
}

function parse(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A calendar date such as a date of birth ("1984-03-15") -> "15 March 1984" (no time-zone shift). */
export function formatPlainDate(value) {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value));
  if (!m) return String(value);
  return plainDateFmt.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
}

export function formatDate(value) {
  const d = parse(value);
  return d ? dateFmt.format(d) : null;
}

export function formatShortDate(value) {
  const d = parse(value);
  return d ? shortDateFmt.format(d) : null;
}

export function formatDateTime(value) {
  const d = parse(value);
  return d ? dateTimeFmt.format(d) : null;
}

/** Whole days from now until value (negative when past). */
export function daysUntil(value, now = Date.now()) {
  const d = parse(value);
  if (!d) return null;
  return Math.floor((d.getTime() - now) / 86400000);
}

export function daysBetween(a, b) {
  const da = parse(a);
  const db = parse(b);
  if (!da || !db) return null;
  return Math.round(Math.abs(db.getTime() - da.getTime()) / 86400000);
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

export const TRIAGE_OUTCOMES = [
  { value: "urgent-suspected-cancer-referral", label: "Urgent suspected cancer referral", colour: "red" },
  { value: "list-for-excision", label: "List for excision", colour: "orange" },
  { value: "sun-damage-treatment-follow-up", label: "Sun damage treatment and follow-up", colour: "yellow" },
  { value: "routine-follow-up", label: "Routine follow-up", colour: "blue" },
  { value: "request-more-photos", label: "Request more photos", colour: "purple" },
  { value: "discharge", label: "Discharge", colour: "green" },
];

// Keyed by the server's codes (shared_code/domain/vocabulary.py); tests/unit/web/test_label_maps.py
// fails when the two drift apart.
export const QUALITY_LABELS = { blurry: "May be blurred", "too-dark": "Too dark", "too-bright": "Too bright" };

export const PURPOSE_LABELS = { "direct-care": "direct care", teaching: "teaching", research: "research" };

export function purposeLabel(purpose) {
  return PURPOSE_LABELS[purpose] || String(purpose || "").replace(/-/g, " ");
}

export const REMINDER_LABELS = { "1w": "every week", "2w": "every 2 weeks", "4w": "every 4 weeks", "1m": "every month" };

export function triageLabel(outcome) {
  return TRIAGE_OUTCOMES.find((o) => o.value === outcome) || { value: outcome, label: outcome, colour: "grey" };
}
