// The viewport: which part of the plane is on screen (centre and zoom in level-0 pixels), and the mouse,
// wheel, touch-pad and keyboard gestures that move it.

export class Viewport {
  /**
   * @param {HTMLElement} el the element that receives input (the canvas' container)
   * @param {() => void} onChange called after every move
   */
  constructor(el, onChange) {
    this.el = el;
    this.onChange = onChange;
    this.cx = 0; this.cy = 0;        // centre, level-0 pixels
    this.zoom = 1;                   // screen (CSS) pixels per level-0 pixel
    this.width = 1; this.height = 1; // CSS pixels
    this.imageW = 1; this.imageH = 1;
    this.minZoom = 1e-3; this.maxZoom = 256;
    this._bind();
  }

  resize(width, height) { this.width = width; this.height = height; }

  setImage(w, h) {
    this.imageW = w; this.imageH = h;
    this.minZoom = Math.min(1, 0.25 * Math.min(this.width / w, this.height / h));
  }

  /** Whole plane in view. */
  fit() {
    this.zoom = Math.max(1e-4, 0.96 * Math.min(this.width / this.imageW, this.height / this.imageH));
    this.cx = this.imageW / 2; this.cy = this.imageH / 2;
    this.onChange();
  }

  toScreen(wx, wy) { return [(wx - this.cx) * this.zoom + this.width / 2, (wy - this.cy) * this.zoom + this.height / 2]; }
  toWorld(sx, sy) { return [(sx - this.width / 2) / this.zoom + this.cx, (sy - this.height / 2) / this.zoom + this.cy]; }

  /** The visible rectangle in level-0 pixels. */
  worldRect() {
    const [x0, y0] = this.toWorld(0, 0), [x1, y1] = this.toWorld(this.width, this.height);
    return { x0, y0, x1, y1 };
  }

  /** Zoom by `factor` keeping the world point under (sx, sy) fixed. */
  zoomAt(factor, sx = this.width / 2, sy = this.height / 2) {
    const z = Math.min(this.maxZoom, Math.max(this.minZoom, this.zoom * factor));
    const [wx, wy] = this.toWorld(sx, sy);
    this.zoom = z;
    this.cx = wx - (sx - this.width / 2) / z;
    this.cy = wy - (sy - this.height / 2) / z;
    this.onChange();
  }

  panBy(dxScreen, dyScreen) {
    this.cx -= dxScreen / this.zoom;
    this.cy -= dyScreen / this.zoom;
    this.onChange();
  }

  _bind() {
    const el = this.el;
    el.addEventListener("wheel", e => {
      if (onPanel(e)) return;
      e.preventDefault();
      const r = el.getBoundingClientRect();
      if (e.ctrlKey || Math.abs(e.deltaY) >= Math.abs(e.deltaX)) {
        const unit = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1;
        this.zoomAt(Math.pow(2, -e.deltaY * unit / (e.ctrlKey ? 100 : 300)), e.clientX - r.left, e.clientY - r.top);
      } else this.panBy(-e.deltaX, -e.deltaY);
    }, { passive: false });
    let drag = null;
    // panels floating over the image (errors, notes) keep their own clicks and scrolling
    const onPanel = e => e.target instanceof Element && !!e.target.closest(".card");
    el.addEventListener("pointerdown", e => {
      if (e.button !== 0 || onPanel(e)) return;
      drag = { x: e.clientX, y: e.clientY, id: e.pointerId };
      el.setPointerCapture(e.pointerId);
      el.classList.add("dragging");
      el.focus({ preventScroll: true });
    });
    el.addEventListener("pointermove", e => {
      if (!drag || e.pointerId !== drag.id) return;
      this.panBy(e.clientX - drag.x, e.clientY - drag.y);
      drag.x = e.clientX; drag.y = e.clientY;
    });
    const end = e => { if (drag && e.pointerId === drag.id) { drag = null; el.classList.remove("dragging"); } };
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
    el.addEventListener("dblclick", e => {
      if (onPanel(e)) return;
      const r = el.getBoundingClientRect();
      this.zoomAt(e.shiftKey ? 0.5 : 2, e.clientX - r.left, e.clientY - r.top);
    });
    el.addEventListener("keydown", e => {
      const step = 60;
      const keys = {
        ArrowLeft: () => this.panBy(step, 0), ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step), ArrowDown: () => this.panBy(0, -step),
        "+": () => this.zoomAt(1.5), "=": () => this.zoomAt(1.5), "-": () => this.zoomAt(1 / 1.5),
        "0": () => this.fit(), Home: () => this.fit(),
      };
      const f = keys[e.key];
      if (f && !e.altKey && !e.metaKey && !e.ctrlKey) { e.preventDefault(); f(); }
    });
  }

  /**
   * The zoom buttons: in, out, fit the image, one image pixel per screen pixel.
   * @param {{zoomIn: HTMLElement, zoomOut: HTMLElement, fit: HTMLElement, one: HTMLElement}} buttons
   */
  bindButtons({ zoomIn, zoomOut, fit, one }) {
    zoomIn.addEventListener("click", () => this.zoomAt(1.5));
    zoomOut.addEventListener("click", () => this.zoomAt(1 / 1.5));
    fit.addEventListener("click", () => this.fit());
    one.addEventListener("click", () => this.zoomAt(1 / this.zoom));
  }
}
