// The line plot under the cursor: click a pixel (or hold shift and move) and the values along another
// dimension at that place (the time series, the z-profile, the spectrum) are read in the worker
// (zarrlite.coords_api.profile: CF-decoded, coordinate labels for the x axis) and drawn in the look of
// the contrast panel's histogram. A newer request aborts the older one (its AbortSignal). "Copy CSV"
// copies the CSV text Python wrote.

const FONT = "10px system-ui", INK = "#8a92a3", LINE = "#59c2ff";   // as contrast.js draws the histogram

/**
 * @typedef {{dim: number, positions: number[], values: number[], labels: string[], numbers: number[],
 *   xName: string | null, xUnits: string | null, name: string, units: string | null, csv: string}} Profile
 */

/**
 * The level a line along `dim` is read from: the coarsest whose size along `dim` is level 0's (a
 * pyramid shrinks the plane, not time), so one pixel of it covers the most chunks' worth of the plane.
 * @param {import("./image.js").ImageModel} img @param {number} dim
 */
export function profileLevel(img, dim) {
  let best = 0;
  img.levels.forEach((L, k) => { if (L.shape[dim] === img.levels[0].shape[dim]) best = k; });
  return best;
}

/**
 * [lo, hi] of the finite values (NaN: missing), widened when flat; null when none is finite.
 * @param {number[]} values
 * @returns {[number, number] | null}
 */
export function valueRange(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!(lo <= hi)) return null;
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

export class LinePlot {
  /**
   * @param {import("./app.js").App} app
   * @param {HTMLElement} box the panel (index.html #plot-box)
   */
  constructor(app, box) {
    this.app = app;
    this.box = box;
    box.innerHTML = `<h3>Plot <span class="dim plot-title"></span></h3>` +
      `<div class="row"><label>along <select class="plot-dim" aria-label="plot along"></select></label>` +
      `<button type="button" class="plot-csv" title="copy the plotted values as CSV">Copy CSV</button></div>` +
      `<canvas class="plot" width="256" height="120" title="click a pixel (or hold shift over the image) to plot its values"></canvas>` +
      `<p class="dim plot-status">Click a pixel (or hold shift) to plot its values.</p>`;
    this.canvas = /** @type {HTMLCanvasElement} */ (box.querySelector("canvas"));
    this.dimSel = /** @type {HTMLSelectElement} */ (box.querySelector(".plot-dim"));
    /** @type {Profile | null} the line drawn (tests read it) */
    this.data = null;
    /** @type {{x: number, y: number} | null} the level-0 pixel asked for */
    this.at = null;
    /** @type {{x: number, y: number} | null} the pixel whose line `data` is */
    this.shownAt = null;
    /** @type {AbortController | null} */
    this.controller = null;
    this.dimSel.addEventListener("change", () => this.request());
    /** @type {HTMLButtonElement} */ (box.querySelector(".plot-csv")).addEventListener("click", () => this.copy());
  }

  /** Another image: offer its dimensions (those not displayed, longer than 1) and forget the line. */
  reset() {
    const img = this.app.image;
    this.controller?.abort();
    this.data = this.at = this.shownAt = null;
    const dims = img ? img.axes.map((a, d) => d).filter(d => d !== img.yDim && d !== img.xDim && img.levels[0].shape[d] > 1) : [];
    this.box.hidden = !dims.length;
    this.dimSel.innerHTML = "";
    for (const d of dims) this.dimSel.append(new Option(/** @type {any} */ (img).axes[d].name, String(d)));
    this.key = img ? `${img.path}|${img.yDim}|${img.xDim}` : "";
    this.draw();
  }

  /** Follow the image shown: another image (or axes) resets the plot. */
  sync() {
    const img = this.app.image;
    if ((img ? `${img.path}|${img.yDim}|${img.xDim}` : "") !== this.key) this.reset();
  }

  /** Plot the values at level-0 pixel (x, y). @param {number} x @param {number} y */
  pin(x, y) {
    const img = this.app.image;
    if (!img) return;
    if (this.key !== `${img.path}|${img.yDim}|${img.xDim}`) this.reset();
    if (this.box.hidden || (this.at && this.at.x === x && this.at.y === y)) return;
    this.at = { x, y };
    this.request();
  }

  /** Read the line at the pinned pixel along the chosen dimension, dropping the read before it. */
  request() {
    const img = this.app.image, at = this.at;
    if (!img || !at || !this.dimSel.value) return;
    const dim = Number(this.dimSel.value), lv = profileLevel(img, dim), L = img.levels[lv];
    const index = this.app.index.map((v, d) => Math.min(L.shape[d] - 1, Math.floor((d === img.xDim ? at.x : d === img.yDim ? at.y : v) / L.factor[d])));
    this.controller?.abort();
    const controller = this.controller = new AbortController();
    this.status(`reading ${img.axes[dim].name} at ${img.axes[img.xDim].name} ${at.x}, ${img.axes[img.yDim].name} ${at.y}…`);
    this.app.zl.viewer("profile", [L.path, index, dim], { signal: controller.signal }).then((/** @type {Profile} */ p) => {
      if (controller.signal.aborted) return;
      this.data = p;
      this.shownAt = at;
      this.status(`${img.axes[img.xDim].name} ${at.x}, ${img.axes[img.yDim].name} ${at.y}${lv ? ` (level ${lv})` : ""}`);
      this.draw();
    }, (/** @type {any} */ err) => { if (err?.name !== "AbortError") this.status(String(err?.message ?? err)); });
  }

  /** @param {string} text */
  status(text) { /** @type {HTMLElement} */ (this.box.querySelector(".plot-status")).textContent = text; }

  draw() {
    const c = this.canvas, g = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d")), p = this.data;
    g.clearRect(0, 0, c.width, c.height);
    /** @type {HTMLElement} */ (this.box.querySelector(".plot-title")).textContent = p ? `${p.name}${p.units ? ` (${p.units})` : ""}` : "";
    if (!p || !p.values.length) return;
    const range = valueRange(p.values);
    const xs = p.numbers, x0 = xs[0], x1 = xs[xs.length - 1];
    const left = 4, right = c.width - 4, top = 12, bottom = c.height - 14;
    const X = (/** @type {number} */ v) => left + (x1 !== x0 ? (v - x0) / (x1 - x0) : 0.5) * (right - left);
    g.font = FONT; g.fillStyle = INK;
    if (!range) { g.fillText("all values missing", left, top + 20); return; }
    const Y = (/** @type {number} */ v) => bottom - ((v - range[0]) / (range[1] - range[0])) * (bottom - top);
    const marker = this.app.index[p.dim];   // where the slider of that dimension is
    const k = p.positions.findIndex(q => q >= marker);
    if (k >= 0) { g.fillStyle = "#3a4150"; g.fillRect(X(xs[k]) - 0.5, top, 1, bottom - top); }
    g.strokeStyle = LINE; g.lineWidth = 1.5;
    g.beginPath();
    let open = false;          // a missing value breaks the line
    p.values.forEach((v, i) => {
      if (!Number.isFinite(v)) { open = false; return; }
      if (open) g.lineTo(X(xs[i]), Y(v)); else g.moveTo(X(xs[i]), Y(v));
      open = true;
    });
    g.stroke();
    g.fillStyle = INK;
    const fmt = (/** @type {number} */ v) => (Number.isInteger(v) ? String(v) : Number(v).toPrecision(4));
    g.fillText(fmt(range[1]), left, top - 2);
    g.fillText(fmt(range[0]), left, bottom + 11 - 12);
    g.fillText(p.labels[0], left, c.height - 2);
    const last = p.labels[p.labels.length - 1];
    g.fillText(last, right - g.measureText(last).width, c.height - 2);
  }

  /** Copy the line as CSV (zarrlite.coords_api.profile_csv) to the clipboard. */
  async copy() {
    if (!this.data) return;
    try {
      await navigator.clipboard.writeText(this.data.csv);
      this.status("copied as CSV");
    } catch (err) {
      this.status(`could not copy: ${/** @type {any} */ (err)?.message ?? err}`);
    }
  }
}
