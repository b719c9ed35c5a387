// The contrast panel of the selected channel: its window as numbers, a histogram of the data on screen
// (log counts, coloured by the channel's ramp) whose ends can be dragged, and "Auto" (0.1-99.9
// percentiles of the data on screen).

import { setWindowOf, windowOf } from "./app.js";
import { histogram, lut, percentiles } from "./colors.js";
import { fmtNum } from "./controls.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

export class Contrast {
  /**
   * @param {import("./app.js").App} app
   * @param {import("./scene.js").Scene} scene where the data on screen comes from
   * @param {{windowChanged: () => void}} hooks a window was set (the channels panel, redraw, the URL)
   */
  constructor(app, scene, hooks) {
    this.app = app;
    this.scene = scene;
    this.hooks = hooks;
    this.timer = 0;
    this.range = [0, 1];      // the values across the histogram canvas
    this.canvas = /** @type {HTMLCanvasElement} */ ($("histogram"));
    this._bind();
  }

  /** The window in use of a channel ([0, 1] while none is set). @param {import("./image.js").Channel} ch */
  current(ch) { return windowOf(this.app, ch) ?? [0, 1]; }

  /** Show the selected channel's window in the number boxes (unless one is being typed in). */
  sync() {
    const img = this.app.image;
    if (!img) return;
    const ch = img.channels[this.app.selected];
    $("contrast-box").hidden = ch.color === "labels" && !this.app.expr;    // ids have no contrast
    const w = windowOf(this.app, ch);
    if (document.activeElement !== $("win-lo")) input("win-lo").value = w ? fmtNum(w[0]) : "";
    if (document.activeElement !== $("win-hi")) input("win-hi").value = w ? fmtNum(w[1]) : "";
    this.schedule();
  }

  /** @param {number} chIndex @param {[number, number]} win */
  set(chIndex, win) {
    const img = this.app.image;
    if (!img) return;
    setWindowOf(this.app, img.channels[chIndex], win);
    this.sync();
    this.hooks.windowChanged();
  }

  /** The 0.1 and 99.9 percentiles of the channel's data on screen. @param {number} chIndex */
  auto(chIndex) {
    const arrays = this.scene.visibleData(chIndex);
    if (!arrays.length) return;
    const [lo, hi] = percentiles(arrays, [0.1, 99.9]);
    this.set(chIndex, [lo, hi > lo ? hi : lo + 1]);
  }

  /** Redraw the histogram once the view rests: statistics of every pixel on screen are not worth a dropped frame. */
  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = 0; this.draw(); }, 200);
  }

  draw() {
    const img = this.app.image, hc = this.canvas;
    const g = /** @type {CanvasRenderingContext2D} */ (hc.getContext("2d"));
    g.clearRect(0, 0, hc.width, hc.height);
    if (!img) return;
    const ch = img.channels[this.app.selected];
    const arrays = this.scene.visibleData(this.app.selected);
    const win = this.current(ch);
    const h = histogram(arrays, 128);
    const lo = Math.min(h.min, win[0]), hi = Math.max(h.max, win[1]);
    const X = (/** @type {number} */ v) => ((v - lo) / (hi - lo || 1)) * hc.width;
    const max = Math.log1p(Math.max(1, ...h.counts));
    const table = lut(ch.color);
    const bw = (X(h.max) - X(h.min)) / h.counts.length;
    h.counts.forEach((n, i) => {
      if (!n) return;
      const v = h.min + (i + 0.5) * (h.max - h.min) / h.counts.length;
      const k = Math.max(0, Math.min(255, Math.round((v - win[0]) / (win[1] - win[0] || 1) * 255)));
      g.fillStyle = `rgb(${Math.max(90, table[3 * k])},${Math.max(90, table[3 * k + 1])},${Math.max(90, table[3 * k + 2])})`;
      const bh = (Math.log1p(n) / max) * (hc.height - 14);
      g.fillRect(X(h.min) + i * bw, hc.height - 12 - bh, Math.max(1, bw - 0.5), bh);
    });
    g.strokeStyle = "#59c2ff"; g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(X(win[0]), hc.height - 12); g.lineTo(X(win[1]), 2);
    g.stroke();
    for (const v of win) { g.fillStyle = "#59c2ff"; g.fillRect(X(v) - 1, 0, 2, hc.height - 12); }
    g.fillStyle = "#8a92a3"; g.font = "10px system-ui";
    g.fillText(fmtNum(lo), 2, hc.height - 2);
    const t = fmtNum(hi); g.fillText(t, hc.width - g.measureText(t).width - 2, hc.height - 2);
    this.range = [lo, hi];
    const cf = img.cf;   // a variable's long_name and units (zarrlite.cf_values) name its values
    const what = !this.app.expr && cf && (cf.longName || cf.units) ? `${cf.longName ?? ch.label}${cf.units ? ` (${cf.units})` : ""}` : ch.label;
    $("contrast-label").textContent = `${what}${arrays.length ? "" : " (no data on screen yet)"}`;
  }

  _bind() {
    const app = this.app, hc = this.canvas;
    const readWin = () => {
      const lo = Number(input("win-lo").value), hi = Number(input("win-hi").value);
      if (Number.isFinite(lo) && Number.isFinite(hi) && input("win-lo").value !== "" && input("win-hi").value !== "") this.set(app.selected, [lo, hi]);
    };
    $("win-lo").addEventListener("change", readWin);
    $("win-hi").addEventListener("change", readWin);
    $("auto").addEventListener("click", () => this.auto(app.selected));
    // drag the nearer end of the window along the histogram
    let dragging = -1;
    const valueAt = (/** @type {PointerEvent} */ e) => {
      const r = hc.getBoundingClientRect(), [lo, hi] = this.range;
      return lo + ((e.clientX - r.left) / r.width) * (hi - lo);
    };
    hc.addEventListener("pointerdown", e => {
      if (!app.image) return;
      const v = valueAt(e), w = this.current(app.image.channels[app.selected]);
      dragging = Math.abs(v - w[0]) <= Math.abs(v - w[1]) ? 0 : 1;
      hc.setPointerCapture(e.pointerId);
    });
    hc.addEventListener("pointermove", e => {
      if (dragging < 0 || !app.image) return;
      /** @type {[number, number]} */
      const w = [...this.current(app.image.channels[app.selected])];
      const raw = valueAt(e);
      w[dragging] = Number.isInteger(w[1 - dragging]) && app.image.dtype.match(/[iu]/) ? Math.round(raw) : raw;
      if (w[0] < w[1]) this.set(app.selected, w);
    });
    hc.addEventListener("pointerup", () => { dragging = -1; });
  }
}
