// A tappable body map beside the body-site list (front view; the person's right is on the left of
// the picture, as when facing someone). It is a shortcut for pointers: the list above it does the
// same with a keyboard or screen reader, so the picture is hidden from assistive technology.

const SVG_NS = "http://www.w3.org/2000/svg";

// [site key, shape, attributes] in a 200 x 420 picture
const REGIONS = [
  ["face", "ellipse", { cx: 100, cy: 36, rx: 22, ry: 28 }],
  ["neck", "rect", { x: 90, y: 63, width: 20, height: 14 }],
  ["right-shoulder", "ellipse", { cx: 62, cy: 88, rx: 14, ry: 10 }],
  ["left-shoulder", "ellipse", { cx: 138, cy: 88, rx: 14, ry: 10 }],
  ["chest", "rect", { x: 74, y: 78, width: 52, height: 52 }],
  ["abdomen", "rect", { x: 75, y: 130, width: 50, height: 50 }],
  ["groin", "rect", { x: 78, y: 180, width: 44, height: 22 }],
  ["right-upper-arm", "rect", { x: 46, y: 98, width: 18, height: 54 }],
  ["left-upper-arm", "rect", { x: 136, y: 98, width: 18, height: 54 }],
  ["right-forearm", "rect", { x: 40, y: 152, width: 18, height: 56 }],
  ["left-forearm", "rect", { x: 142, y: 152, width: 18, height: 56 }],
  ["right-hand", "ellipse", { cx: 47, cy: 222, rx: 10, ry: 14 }],
  ["left-hand", "ellipse", { cx: 153, cy: 222, rx: 10, ry: 14 }],
  ["right-thigh", "rect", { x: 78, y: 202, width: 21, height: 70 }],
  ["left-thigh", "rect", { x: 101, y: 202, width: 21, height: 70 }],
  ["right-knee", "rect", { x: 79, y: 272, width: 19, height: 18 }],
  ["left-knee", "rect", { x: 102, y: 272, width: 19, height: 18 }],
  ["right-lower-leg", "rect", { x: 80, y: 290, width: 17, height: 70 }],
  ["left-lower-leg", "rect", { x: 103, y: 290, width: 17, height: 70 }],
  ["right-foot", "ellipse", { cx: 86, cy: 372, rx: 12, ry: 8 }],
  ["left-foot", "ellipse", { cx: 114, cy: 372, rx: 12, ry: 8 }],
];

function el(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text) node.textContent = text;
  return node;
}

/** The map for a <select> of body sites (only the sites the select offers are drawn). */
export function bodyMap(select) {
  const offered = new Set([...select.options].map((o) => o.value).filter(Boolean));
  const svg = el("svg", { class: "app-bodymap", viewBox: "0 0 200 420", width: 200, height: 420, "aria-hidden": "true", focusable: "false" });
  const shapes = new Map();
  for (const [key, shape, attrs] of REGIONS) {
    if (!offered.has(key)) continue;
    const node = el(shape, { ...attrs, class: "app-bodymap__region", "data-site": key });
    node.append(el("title", {}, key.replace(/-/g, " ")));
    shapes.set(key, node);
    svg.append(node);
  }
  svg.append(el("text", { x: 50, y: 404, class: "app-bodymap__side", "text-anchor": "middle" }, "Right"));
  svg.append(el("text", { x: 150, y: 404, class: "app-bodymap__side", "text-anchor": "middle" }, "Left"));
  const mark = () => {
    for (const [key, node] of shapes) node.classList.toggle("app-bodymap__region--chosen", key === select.value);
  };
  svg.addEventListener("click", (e) => {
    const key = e.target?.getAttribute?.("data-site");
    if (!key) return;
    select.value = key;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });
  select.addEventListener("change", mark);
  mark();
  return svg;
}
