// Small DOM helpers. Everything from the API is inserted as text, never as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h("a", {class: "x", href: "/", onclick: fn, dataset: {id: 1}}, "text", child, [more])
 * Attributes: class, text, dataset, on<event> handlers, booleans (true -> present, false/null -> absent).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function icon(name, pathD) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", `nhsuk-icon nhsuk-icon--${name}`);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", pathD);
  svg.append(path);
  return svg;
}

export const ICONS = {
  arrowLeft:
    "M10.7 6.3c.4.4.4 1 0 1.4L7.4 11H19a1 1 0 0 1 0 2H7.4l3.3 3.3c.4.4.4 1 0 1.4a1 1 0 0 1-1.4 0l-5-5A1 1 0 0 1 4 12c0-.3.1-.5.3-.7l5-5a1 1 0 0 1 1.4 0Z",
  arrowRight:
    "m14.7 6.3 5 5c.2.2.3.4.3.7 0 .3-.1.5-.3.7l-5 5a1 1 0 0 1-1.4-1.4l3.3-3.3H5a1 1 0 0 1 0-2h11.6l-3.3-3.3a1 1 0 1 1 1.4-1.4Z",
  chevronLeft: "M13.4 6.3a1 1 0 0 1 1.4 1.4L10.5 12l4.3 4.3a1 1 0 0 1-1.4 1.4l-5-5a1 1 0 0 1 0-1.4l5-5Z",
  user: "M12 1a11 11 0 1 1 0 22 11 11 0 0 1 0-22Zm0 2a9 9 0 0 0-5 16.5V18a4 4 0 0 1 4-4h2a4 4 0 0 1 4 4v1.5A9 9 0 0 0 12 3Zm0 3a3.5 3.5 0 1 1-3.5 3.5A3.4 3.4 0 0 1 12 6Z",
};

/** NHS.UK back link. */
export function backLink(href, text) {
  return h("a", { class: "nhsuk-back-link", href }, text);
}

/** NHS.UK tag. colour: white, grey, green, aqua-green, blue, purple, pink, red, orange, yellow. */
export function tag(text, colour) {
  return h("strong", { class: ["nhsuk-tag", colour && `nhsuk-tag--${colour}`] }, text);
}

/** NHS.UK summary list from [[key, value|Node], ...]. */
export function summaryList(rows, extraClass) {
  return h(
    "dl",
    { class: ["nhsuk-summary-list", extraClass] },
    rows
      .filter((r) => r)
      .map(([key, value, attrs]) =>
        h(
          "div",
          { class: "nhsuk-summary-list__row" },
          h("dt", { class: "nhsuk-summary-list__key" }, key),
          h("dd", { class: "nhsuk-summary-list__value", ...(attrs || {}) }, value ?? "Not recorded"),
        ),
      ),
  );
}

export function button(text, attrs = {}) {
  const { variant, ...rest } = attrs;
  return h(
    "button",
    { class: ["nhsuk-button", variant && `nhsuk-button--${variant}`], type: "button", ...rest },
    text,
  );
}

let announceTimer = 0;
/** Say something to screen readers (polite). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    region.textContent = message;
  }, 50);
}
