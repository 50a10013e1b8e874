// Formatting for people: dates in UK style, NHS numbers 3-3-4, plural words.

const LONDON = "Europe/London";
const dateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: LONDON });
const timeFmt = new Intl.DateTimeFormat("en-GB", { hour: "numeric", minute: "2-digit", hour12: true, timeZone: LONDON });
const plainDateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

function parse(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDate(value) {
  const d = parse(value);
  return d ? dateFmt.format(d) : null;
}

/** "2 December 2026 at 10:31am" */
export function formatDateTime(value) {
  const d = parse(value);
  return d ? `${dateFmt.format(d)} at ${timeFmt.format(d).replace(" ", "")}` : null;
}

/** A calendar date ("1984-03-15") -> "15 March 1984" with no time-zone shift. */
export function formatPlainDate(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
  if (!m) return value ? String(value) : null;
  return plainDateFmt.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
}

export function formatNhsNumber(value) {
  const digits = String(value || "").replace(/\s+/g, "");
  if (!/^\d{10}$/.test(digits)) return value ? String(value) : null;
  return `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
}

/** NHS number Modulus 11 check (spaces allowed). */
export function validNhsNumber(value) {
  const digits = String(value || "").replace(/\s+/g, "");
  if (!/^\d{10}$/.test(digits)) return false;
  let total = 0;
  for (let i = 0; i < 9; i += 1) total += Number(digits[i]) * (10 - i);
  let check = 11 - (total % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === Number(digits[9]);
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Today's date as YYYY-MM-DD in the UK. */
export function todayIso() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: LONDON }).format(new Date());
  return parts;
}

// What each share purpose means, in the patient's words. Keyed by the server's codes
// (shared_code/domain/vocabulary.py); tests/unit/web/test_label_maps.py fails when they drift.
export const PURPOSE_LABELS = {
  "direct-care": "your care",
  teaching: "teaching other clinicians",
  research: "research",
};
