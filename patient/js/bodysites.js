// Body sites come from GET /api/body-sites (key + SNOMED CT display); the app groups them by region
// so the list is short to scan on a phone.

const REGIONS = [
  ["Head and neck", ["scalp", "hair", "face", "forehead", "nose", "lips", "ear", "neck"]],
  ["Chest, tummy and back", ["chest", "breast", "abdomen", "back", "lower-back", "armpit", "groin", "genitals", "buttock"]],
  ["Arms and hands", ["shoulder", "arm", "elbow", "forearm", "wrist", "hand", "palm", "finger", "fingernail"]],
  ["Legs and feet", ["hip", "thigh", "knee", "leg", "ankle", "foot", "sole", "toe", "toenail"]],
];

/** Plain label from a key: "left-forearm" -> "Left forearm". */
export function siteLabel(key) {
  if (!key) return null;
  const text = String(key).replace(/-/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function regionOf(key) {
  const last = String(key).split("-").pop(); // "left-back-of-hand" -> "hand", "lower-back" -> "back"
  for (const [region, words] of REGIONS) if (words.includes(key) || words.includes(last)) return region;
  return "Somewhere else";
}

/** [[region, [{key, label}]]] in a fixed region order. */
export function groupSites(items) {
  const groups = new Map([...REGIONS.map(([r]) => [r, []]), ["Somewhere else", []]]);
  for (const item of items || []) groups.get(regionOf(item.key)).push({ key: item.key, label: siteLabel(item.key) });
  return [...groups.entries()].filter(([, list]) => list.length);
}
