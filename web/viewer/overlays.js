// What is written over the view: the status line (reads in flight, tiles cached), the level chip, the
// zoom label, the scale bar and the readout of the values under the cursor.

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
  if ($("busy").hidden !== !loader.loading) $("busy").hidden = !loader.loading;
  const inflight = loader.loading, queued = loader.queued;
  const cached = [...loader.entries.values()].filter(e => e.state === "ready").length;
  if (app.zl && img) {
    setText($("status"), `${inflight ? `${inflight} chunk read${inflight > 1 ? "s" : ""} in flight${queued ? `, ${queued} queued` : ""} · ` : ""}` +
      `${cached} tiles cached (${formatBytes(loader.bytes)})`);
  }
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
  const parts = [`${img.axes[img.xDim].name} ${x}`, `${img.axes[img.yDim].name} ${y}`];
  img.axes.forEach((a, d) => { if (d !== img.yDim && d !== img.xDim && d !== img.cDim) parts.push(`${a.name} ${app.index[d]}`); });
  let text = parts.join("  ");
  const ay = img.axes[img.yDim], ax = img.axes[img.xDim];
  if (ax.unit && isLength(ax.unit)) text += `  (${formatLength((x + 0.5) * ax.scale, ax.unit)}, ${formatLength((y + 0.5) * ay.scale, ay.unit)})`;
  const values = scene.valuesAt(x, y);
  if (values.length) text += "  │  " + values.map(v => `${img.channels.length > 1 ? v.label + " " : ""}${v.value}${v.level ? ` (level ${v.level})` : ""}`).join("  ");
  $("readout").hidden = false;
  setText($("readout"), text);
  app.readout = { x, y, values };
}

/**
 * Keep `app.pointer` (CSS pixels in the stage) and the readout under it up to date.
 * @param {HTMLElement} stage @param {import("./app.js").App} app @param {import("./scene.js").Scene} scene
 */
export function bindReadout(stage, app, scene) {
  stage.addEventListener("pointermove", e => {
    const r = stage.getBoundingClientRect();
    app.pointer = { x: e.clientX - r.left, y: e.clientY - r.top };
    updateReadout(app, scene);
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
