// Zoom and pan for the photo viewer. One ZoomState can drive several viewports, which is how
// the side-by-side comparison keeps both photos at the same zoom and position.
// Position is kept as a fraction of the viewport size so viewports of any size stay in step.

export const MIN_SCALE = 1;
export const MAX_SCALE = 8;
const STEP = 1.5;

export class ZoomState {
  constructor() {
    this.scale = 1;
    this.x = 0; // fraction of viewport width the image centre is moved right
    this.y = 0;
    this.rotation = 0; // degrees clockwise: 0, 90, 180, 270
    this.listeners = new Set();
  }

  /** Turn the photo a quarter clockwise (phones sometimes lose the orientation). */
  rotate() {
    this.rotation = (this.rotation + 90) % 360;
    this.#emit();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    fn(this);
    return () => this.listeners.delete(fn);
  }

  #emit() {
    for (const fn of this.listeners) fn(this);
  }

  #clamp() {
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale));
    const limit = (this.scale - 1) / 2; // never pan the image fully out of view
    this.x = Math.min(limit, Math.max(-limit, this.x));
    this.y = Math.min(limit, Math.max(-limit, this.y));
  }

  /** Zoom by factor around a point given as a fraction of the viewport (0,0 = centre). */
  zoomBy(factor, fx = 0, fy = 0) {
    const old = this.scale;
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, old * factor));
    const k = this.scale / old;
    this.x = fx - (fx - this.x) * k;
    this.y = fy - (fy - this.y) * k;
    this.#clamp();
    this.#emit();
  }

  zoomIn() {
    this.zoomBy(STEP);
  }

  zoomOut() {
    this.zoomBy(1 / STEP);
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
    this.#clamp();
    this.#emit();
  }

  reset() {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.rotation = 0;
    this.#emit();
  }
}

/** Wire a viewport element (focusable) and the img inside it to a ZoomState. Returns a detach function. */
export function attachViewport(viewport, img, state) {
  const unsubscribe = state.subscribe((s) => {
    const w = viewport.clientWidth || 1;
    const h = viewport.clientHeight || 1;
    const turn = s.rotation ? ` rotate(${s.rotation}deg)` : "";
    img.style.transform = `translate(${(s.x * w).toFixed(1)}px, ${(s.y * h).toFixed(1)}px) scale(${s.scale.toFixed(3)})${turn}`;
    viewport.dataset.rotation = String(s.rotation || 0);
    viewport.dataset.scale = s.scale.toFixed(3);
    viewport.dataset.x = s.x.toFixed(4);
    viewport.dataset.y = s.y.toFixed(4);
    viewport.classList.toggle("app-viewport--zoomed", s.scale > 1);
  });

  const centreFraction = (clientX, clientY) => {
    const r = viewport.getBoundingClientRect();
    return [(clientX - r.left) / r.width - 0.5, (clientY - r.top) / r.height - 0.5];
  };

  const onWheel = (e) => {
    e.preventDefault();
    const [fx, fy] = centreFraction(e.clientX, e.clientY);
    state.zoomBy(e.deltaY < 0 ? 1.2 : 1 / 1.2, fx, fy);
  };

  let drag = null;
  const onDown = (e) => {
    if (e.button !== 0) return;
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
    viewport.setPointerCapture?.(e.pointerId);
    viewport.classList.add("app-viewport--dragging");
  };
  const onMove = (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const r = viewport.getBoundingClientRect();
    state.panBy((e.clientX - drag.x) / r.width, (e.clientY - drag.y) / r.height);
    drag.x = e.clientX;
    drag.y = e.clientY;
  };
  const onUp = (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    drag = null;
    viewport.classList.remove("app-viewport--dragging");
  };
  const onKey = (e) => {
    const step = 0.05;
    const keys = {
      "+": () => state.zoomIn(),
      "=": () => state.zoomIn(),
      "-": () => state.zoomOut(),
      _: () => state.zoomOut(),
      0: () => state.reset(),
      ArrowLeft: () => state.panBy(step, 0),
      ArrowRight: () => state.panBy(-step, 0),
      ArrowUp: () => state.panBy(0, step),
      ArrowDown: () => state.panBy(0, -step),
    };
    const fn = keys[e.key];
    if (fn && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      fn();
    }
  };
  const onDouble = (e) => {
    const [fx, fy] = centreFraction(e.clientX, e.clientY);
    state.zoomBy(2, fx, fy);
  };
  const onResize = () => state.panBy(0, 0);

  viewport.addEventListener("wheel", onWheel, { passive: false });
  viewport.addEventListener("pointerdown", onDown);
  viewport.addEventListener("pointermove", onMove);
  viewport.addEventListener("pointerup", onUp);
  viewport.addEventListener("pointercancel", onUp);
  viewport.addEventListener("keydown", onKey);
  viewport.addEventListener("dblclick", onDouble);
  window.addEventListener("resize", onResize);
  return () => {
    unsubscribe();
    window.removeEventListener("resize", onResize);
  };
}
