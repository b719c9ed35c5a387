// What is written over the view: the status line (reads in flight, tiles cached), the level chip, the
// zoom label, the scale bar and the readout of the values under the cursor.

import { Coordinates } from "./coords.js";
import { DatasetView } from "./dataset.js";
import { LinePlot } from "./plot.js";
import { niceLength, planeSize } from "./geometry.js";
import { formatLength, isLength } from "./image.js";
import { dtypeName, formatBytes } from "./panels.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Change text only when it differs: an unchanged label must not cost a layout per frame.
 * @param {HTMLElement} el @param {string} text
 */
export function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

/**
 * @param {import("./app.js").App} app
 * @param {import("./scene.js").Scene} scene
 * @param {number | null} lv the level shown (null: no image)
 */
export function updateOverlays(app, scene, lv) {
  const img = app.image, loader = app.loader;
  const busy = $("busy");
  if (busy.hidden !== !loader.loading) busy.hidden = !loader.loading;
  if (loader.loading) busy.style.setProperty("--done", `${Math.round(100 * scene.progress)}%`);
  const inflight = loader.loading, queued = loader.queued;
  const cached = [...loader.entries.values()].filter(e => e.state === "ready").length;
  if (app.zl && img) {
    setText($("status"), `${inflight ? `${inflight} chunk read${inflight > 1 ? "s" : ""} in flight${queued ? `, ${queued} queued` : ""} · ` : ""}` +
      `${cached} tiles cached (${formatBytes(loader.bytes)})`);
  }
  app.coords?.drawTicks(ticksLayer());
  app.coords?.drawSliderLabels();
  app.plot?.sync();
  if (!img || lv === null) { $("scalebar").hidden = $("level-info").hidden = $("readout").hidden = true; return; }
  const L = img.levels[lv];
  $("level-info").hidden = false;
  setText($("level-info"), `level ${lv}/${img.levels.length - 1} · ${L.shape[img.yDim]}×${L.shape[img.xDim]} · ${dtypeName(L.dtype)}${app.expr ? ` → ${app.expr}` : ""}`);
  const zoom = app.viewport.zoom;
  setText($("zoom-label"), `${zoom >= 1 ? Math.round(zoom * 100) : (zoom * 100).toPrecision(2)}%`);
  const ax = img.axes[img.xDim];
  if (ax.unit && isLength(ax.unit)) {
    const perPx = ax.scale / zoom;          // physical units per CSS pixel
    const nice = niceLength(120 * perPx);
    const bar = $("scalebar");
    bar.hidden = false;
    /** @type {HTMLElement} */ (bar.querySelector(".bar")).style.width = `${nice / perPx}px`;
    setText(/** @type {HTMLElement} */ (bar.querySelector("span")), formatLength(nice, ax.unit));
  } else $("scalebar").hidden = true;
  updateReadout(app, scene);
}

/** The layer of axis ticks over the view (made on first use). */
function ticksLayer() {
  let el = document.getElementById("axis-ticks");
  if (!el) {
    el = document.createElement("div");
    el.id = "axis-ticks";
    el.hidden = true;
    $("stage").append(el);
  }
  return el;
}

/**
 * The readout: the pixel under the cursor, its physical position, and the values of the shown channels.
 * @param {import("./app.js").App} app @param {import("./scene.js").Scene} scene
 */
export function updateReadout(app, scene) {
  const img = app.image, pointer = app.pointer;
  if (!img || !pointer) { $("readout").hidden = true; return; }
  const [wx, wy] = app.viewport.toWorld(pointer.x, pointer.y);
  const [H, W] = planeSize(img, 0);
  const x = Math.floor(wx), y = Math.floor(wy);
  if (x < 0 || y < 0 || x >= W || y >= H) { $("readout").hidden = true; return; }
  // coordinate values where the dimensions have coordinates (coords.js), else indices
  const coords = /** @type {Coordinates} */ (app.coords);
  const parts = [coords.text(img.xDim, x), coords.text(img.yDim, y)];
  img.axes.forEach((a, d) => { if (d !== img.yDim && d !== img.xDim && d !== img.cDim) parts.push(coords.text(d, app.index[d])); });
  let text = parts.join("  ");
  const ay = img.axes[img.yDim], ax = img.axes[img.xDim];
  if (ax.unit && isLength(ax.unit)) text += `  (${formatLength((x + 0.5) * ax.scale, ax.unit)}, ${formatLength((y + 0.5) * ay.scale, ay.unit)})`;
  const values = scene.valuesAt(x, y);
  const units = !app.expr && img.cf?.units ? ` ${img.cf.units}` : "";   // CF-decoded values (NaN: missing)
  if (values.length) text += "  │  " + values.map(v => `${img.channels.length > 1 ? v.label + " " : ""}${v.value === "NaN" && img.cf?.decodes ? "missing" : v.value + units}${v.level ? ` (level ${v.level})` : ""}`).join("  ");
  $("readout").hidden = false;
  setText($("readout"), text);
  app.readout = { x, y, values };
}

/**
 * Keep `app.pointer` (CSS pixels in the stage) and the readout under it up to date; the coordinate
 * labels of the readout, sliders and ticks are `app.coords`.
 * @param {HTMLElement} stage @param {import("./app.js").App} app @param {import("./scene.js").Scene} scene
 * @param {import("./app.js").Hooks} hooks
 */
export function bindReadout(stage, app, scene, hooks) {
  app.coords = new Coordinates(app, () => hooks.requestDraw());   // labels and ticks arrive: redraw
  app.plot = new LinePlot(app, $("plot-box"));
  /** @type {any} */ (app).datasets = new DatasetView(app, stage);   // viewer.js selectNode asks it first
  /** @param {PointerEvent} e the level-0 pixel under the event, or null */
  const pixel = e => {
    const r = stage.getBoundingClientRect(), img = app.image;
    if (!img) return null;
    const [wx, wy] = app.viewport.toWorld(e.clientX - r.left, e.clientY - r.top), [H, W] = planeSize(img, 0);
    const x = Math.floor(wx), y = Math.floor(wy);
    return x < 0 || y < 0 || x >= W || y >= H ? null : { x, y };
  };
  let down = /** @type {{x: number, y: number} | null} */ (null);
  stage.addEventListener("pointerdown", e => { down = { x: e.clientX, y: e.clientY }; });
  stage.addEventListener("pointerup", e => {   // a click, not the end of a pan: plot that pixel
    const p = down && Math.hypot(e.clientX - down.x, e.clientY - down.y) < 4 ? pixel(e) : null;
    down = null;
    if (p) app.plot?.pin(p.x, p.y);
  });
  stage.addEventListener("pointermove", e => {
    const r = stage.getBoundingClientRect();
    app.pointer = { x: e.clientX - r.left, y: e.clientY - r.top };
    updateReadout(app, scene);
    const p = e.shiftKey ? pixel(e) : null;   // shift-hover follows the cursor
    if (p) app.plot?.pin(p.x, p.y);
  });
  stage.addEventListener("pointerleave", () => { app.pointer = null; updateReadout(app, scene); });
}

/**
 * Say how many chunks the server refused (HTTP 403): they are drawn as never written, which an expired
 * signed URL would otherwise pass for. `forbidden` is `zl.stats().forbidden`.
 * @param {{count: number, keys: string[]} | null | undefined} forbidden
 */
export function showForbidden(forbidden) {
  const el = /** @type {HTMLElement} */ (document.getElementById("forbidden"));
  const n = forbidden?.count ?? 0;
  el.hidden = !n;
  if (n) {
    setText(el, `${n} chunk${n === 1 ? "" : "s"} refused by the server (HTTP 403), drawn as empty`);
    el.title = `Refused: ${forbidden?.keys.join(", ")}${n > (forbidden?.keys.length ?? 0) ? ", …" : ""}. A bucket without ` +
      "list permission answers 403 for chunks never written; an expired or wrong signed URL does too.";
  }
}
