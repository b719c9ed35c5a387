// Coordinate labels of the image's dimensions (zarrlite.coords, through zl.viewer): the image model
// inlines the labels of short coordinates; longer ones are asked for a block at a time, and the axes of
// the plane get ticks at round coordinate values, asked for the visible range. Answers are cached per
// source and coordinate; each arrival redraws. The page only places the text Python wrote.

const BLOCK = 512;              // labels asked for at once (zarrlite.coords.MAX_LABELS bounds a request)

/**
 * @typedef {{name: string, path: string, size: number, kind: string, units: string | null,
 *   calendar: string | null, longName: string | null, labels: string[] | null}} Coordinate
 * @typedef {{at: number, label: string}} Tick index position (pixel centre = i + 0.5) and its text
 */

/**
 * The visible range [start, stop) of a dimension, widened to a power-of-two grid so that small pans
 * ask for nothing new; and how many ticks that range should carry.
 * @param {number} lo @param {number} hi visible level-0 pixels @param {number} n the dimension's size
 * @param {number} perScreen ticks wanted across the visible range
 * @returns {{start: number, stop: number, count: number}}
 */
export function tickRange(lo, hi, n, perScreen = 6) {
  lo = Math.max(0, lo); hi = Math.min(n, hi);     // the part of the axis in view
  const span = Math.max(1, hi - lo);
  const q = 2 ** Math.ceil(Math.log2(span));
  const start = Math.max(0, Math.floor(lo / q) * q), stop = Math.min(n, Math.ceil(hi / q) * q + q);
  return { start, stop, count: Math.max(2, Math.round(perScreen * (stop - start) / span)) };
}

export class Coordinates {
  /**
   * @param {import("./app.js").App} app
   * @param {() => void} onArrive labels or ticks arrived (redraw)
   */
  constructor(app, onArrive) {
    this.app = app;
    this.onArrive = onArrive;
    /** @type {Map<string, string[] | null>} label blocks by `generation|path|block` (null: asked) */
    this.blocks = new Map();
    /** @type {Map<string, Tick[] | null>} */
    this.tickCache = new Map();
  }

  /** The coordinate of dimension `d` of the image shown, or null. @param {number} d @returns {Coordinate | null} */
  of(d) { return /** @type {any} */ (this.app.image?.coordinates)?.dims?.[d] ?? null; }

  /**
   * The label of position `i` along dimension `d`: null when it has no coordinate or the label is on
   * its way (it is asked for, and arrives with a redraw).
   * @param {number} d @param {number} i
   */
  label(d, i) {
    const c = this.of(d);
    if (!c || i < 0 || i >= c.size) return null;
    if (c.labels) return c.labels[i] ?? null;
    const b = Math.floor(i / BLOCK), key = `${this.app.generation}|${c.path}|${b}`;
    const got = this.blocks.get(key);
    if (got) return got[i - b * BLOCK] ?? null;
    if (got === undefined && this.app.zl) {
      this.blocks.set(key, null);
      this.app.zl.viewer("coord_labels", [c.path, b * BLOCK, Math.min(c.size, (b + 1) * BLOCK)])
        .then((/** @type {string[]} */ labels) => { this.blocks.set(key, labels); this.onArrive(); },
          (/** @type {any} */ err) => console.warn("coordinate labels:", err));
    }
    return null;
  }

  /**
   * "name label" of position `i` along `d` (the index while the label is on its way, or without a coordinate).
   * @param {number} d @param {number} i
   */
  text(d, i) {
    const name = this.app.image?.axes[d].name ?? "";
    return `${name} ${this.label(d, i) ?? i}`;
  }

  /**
   * Ticks over the visible part of dimension `d` (null while asked for).
   * @param {number} d @param {number} lo @param {number} hi visible level-0 pixels
   * @returns {Tick[] | null}
   */
  ticks(d, lo, hi) {
    const c = this.of(d);
    if (!c || !this.app.zl) return null;
    const r = tickRange(lo, hi, c.size);
    const key = `${this.app.generation}|${c.path}|${r.start}|${r.stop}|${r.count}`;
    const got = this.tickCache.get(key);
    if (got !== undefined) return got;
    this.tickCache.set(key, null);
    this.app.zl.viewer("coord_ticks", [c.path, r.start, r.stop, r.count])
      .then((/** @type {Tick[]} */ t) => { this.tickCache.set(key, t); this.onArrive(); },
        (/** @type {any} */ err) => console.warn("coordinate ticks:", err));
    return null;
  }

  /** The coordinate value beside each slider of the plane panel (controls.js makes the `.coord` spans). */
  drawSliderLabels() {
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("#dims .coord[data-dim]"))) {
      const d = Number(el.dataset.dim), c = this.of(d);
      const text = c ? this.label(d, this.app.index[d]) ?? "…" : "";
      if (el.textContent !== text) el.textContent = text;
      el.hidden = !c;
    }
  }

  /**
   * Put the plane's ticks along the bottom (columns) and left (rows) edges of the stage, as text.
   * @param {HTMLElement} layer an absolutely placed element over the view
   */
  drawTicks(layer) {
    const img = this.app.image, vp = this.app.viewport;
    /** @type {string[]} */
    const html = [];
    const parts = [];
    if (img && !this.app.expr) {
      const w = vp.worldRect();
      for (const [d, horizontal] of [[img.xDim, true], [img.yDim, false]]) {
        const ticks = this.ticks(/** @type {number} */ (d), horizontal ? w.x0 : w.y0, horizontal ? w.x1 : w.y1) ?? [];
        for (const t of ticks) {
          const [sx, sy] = horizontal ? vp.toScreen(t.at, 0) : vp.toScreen(0, t.at);
          const at = horizontal ? sx : sy;
          if (at < 0 || at > (horizontal ? vp.width : vp.height)) continue;
          parts.push({ horizontal, at, label: t.label });
        }
      }
    }
    for (const p of parts) {
      const style = p.horizontal ? `left:${p.at.toFixed(1)}px` : `top:${p.at.toFixed(1)}px`;
      html.push(`<span class="tick ${p.horizontal ? "x" : "y"}" style="${style}"></span>`);
    }
    // the labels are text Python wrote from data: set as text, never as markup
    const key = parts.map(p => `${p.horizontal}|${p.at.toFixed(1)}|${p.label}`).join(";");
    if (layer.dataset.key === key) return;
    layer.dataset.key = key;
    layer.innerHTML = html.join("");
    [...layer.children].forEach((el, k) => { el.textContent = parts[k].label; });
    layer.hidden = !parts.length;
  }
}
