// The side panels that change what is displayed: the plane (which two dimensions are the rows and
// columns, a slider for every other one) and the channels (shown or not, colour or colormap); and the
// keys that step the plane.

import { windowOf } from "./app.js";
import { COLORMAPS, NAMED_COLORS, swatch } from "./colors.js";
import { formatLength, unitSymbol } from "./image.js";
import { planeKey, steppedDim } from "./geometry.js";
import { esc } from "./panels.js";
import { valuesChannel } from "./state.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** A number as the panels show it. @param {number} v */
export const fmtNum = v => (Number.isInteger(v) ? String(v) : Number(v).toPrecision(4));

/**
 * The plane panel: the rows/columns pickers and a slider (with a number box) per other dimension.
 * @param {import("./app.js").App} app
 * @param {import("./app.js").Hooks & {axesChanged: () => void}} hooks axesChanged: the displayed
 *   dimensions changed (every tile is another one)
 */
export function buildDims(app, hooks) {
  const img = app.image, box = $("dims"), pick = $("axes-pick");
  if (!img) return;
  const names = img.axes.map((a, d) => `${a.name} (${img.levels[0].shape[d]})`);
  const options = (/** @type {number} */ sel) => names.map((n, d) => `<option value="${d}"${d === sel ? " selected" : ""}>${esc(n)}</option>`).join("");
  pick.innerHTML = `<label>rows <select id="ydim">${options(img.yDim)}</select></label><label>columns <select id="xdim">${options(img.xDim)}</select></label>`;
  const ySel = /** @type {HTMLSelectElement} */ ($("ydim")), xSel = /** @type {HTMLSelectElement} */ ($("xdim"));
  const change = () => {
    const y = Number(ySel.value), x = Number(xSel.value);
    if (y === x) return;
    img.yDim = y; img.xDim = x;
    if (img.cDim === y || img.cDim === x) { img.cDim = -1; img.channels = valuesChannel(); app.selected = 0; }
    hooks.axesChanged();
  };
  ySel.onchange = change; xSel.onchange = change;
  box.innerHTML = "";
  img.axes.forEach((a, d) => {
    if (d === img.yDim || d === img.xDim || d === img.cDim) return;
    const n = img.levels[0].shape[d];
    const row = document.createElement("div");
    row.className = "dimrow";
    const unit = a.unit ? unitSymbol(a.unit) : "";
    row.innerHTML = `<span class="n" title="${esc(a.name)}${a.type ? ` (${esc(a.type)})` : ""}">${esc(a.name)}</span>` +
      `<input type="range" min="0" max="${n - 1}" value="${app.index[d]}" data-dim="${d}" aria-label="${esc(a.name)}" ${n === 1 ? "disabled" : ""}>` +
      `<input type="number" min="0" max="${n - 1}" value="${app.index[d]}" data-dim="${d}" aria-label="${esc(a.name)} index">` +
      `<span class="coord" data-dim="${d}"></span>`;   // the coordinate value there (coords.js fills it)
    if (unit) row.title = `${a.name} = ${formatLength(app.index[d] * a.scale, a.unit)}`;
    box.append(row);
    row.querySelectorAll("input").forEach(inp => inp.addEventListener("input", () => hooks.setIndex(d, Number(inp.value))));
  });
  if (!box.children.length) box.innerHTML = `<p class="dim">A 2-D array: no other dimensions.</p>`;
}

/**
 * Clamp and set the index along a dimension, keeping its slider and number box in step.
 * @param {import("./app.js").App} app @param {number} d @param {number} v
 */
export function setIndex(app, d, v) {
  if (!app.image) return;
  const n = app.image.levels[0].shape[d];
  v = Math.max(0, Math.min(n - 1, Math.round(v) || 0));
  app.index[d] = v;
  document.querySelectorAll(`#dims input[data-dim="${d}"]`).forEach(el => {
    const i = /** @type {HTMLInputElement} */ (el);
    if (Number(i.value) !== v) i.value = String(v);
  });
}

/** Keys that step the plane along the stepped dimension (geometry.js steppedDim). */
export const STEP_KEYS = /** @type {Record<string, number>} */ ({ "]": 1, PageDown: 1, "[": -1, PageUp: -1 });

/** ms a key's repeat holds the loads of the planes passed when the key's release is never seen */
export const REPEAT_HOLD_MS = 250;

/**
 * The plane keys on `stage`. A key held down repeats: each repeat holds the loads of the planes passed
 * (TileLoader.hold) and letting go of it reads the plane rested on at once (TileLoader.release), with no
 * settle time. Single presses keep the loader's own settle time.
 * @param {HTMLElement} stage
 * @param {import("./app.js").App} app
 * @param {import("./app.js").Hooks} hooks
 */
export function bindPlaneKeys(stage, app, hooks) {
  let held = false;
  stage.addEventListener("keydown", e => {
    const step = STEP_KEYS[e.key];
    const d = step && app.image ? steppedDim(app.image) : -1;
    if (d < 0) return;
    e.preventDefault();
    if (e.repeat) { held = true; app.loader.hold(REPEAT_HOLD_MS); }
    hooks.setIndex(d, app.index[d] + step);
  });
  const letGo = () => {
    if (!held) return;
    held = false;
    app.loader.release(app.image ? planeKey(app.image, app.index, 0) : undefined);
    hooks.requestDraw();
  };
  stage.addEventListener("keyup", e => { if (STEP_KEYS[e.key]) letGo(); });
  stage.addEventListener("blur", letGo);
}

/**
 * The colours offered for a channel: its own (from the data's metadata), the colormaps, plain colours.
 * @param {import("./image.js").Channel} ch
 * @returns {[string, string][]} value, label
 */
function colorChoices(ch) {
  /** @type {[string, string][]} */
  const opts = [];
  if (ch.sourceColor) opts.push([ch.sourceColor, `OME ${ch.sourceColor.toUpperCase()}`]);
  for (const m of COLORMAPS) opts.push([m, m]);
  for (const [n, hex] of Object.entries(NAMED_COLORS)) opts.push([hex, n]);
  if (!opts.some(([v]) => v === ch.color)) opts.unshift([ch.color, ch.color]);
  return opts.filter(([v], i) => opts.findIndex(([w]) => w === v) === i);
}

/**
 * The channels panel: a row per channel (shown, label, colour, ramp, window); a click selects the
 * channel whose contrast is edited.
 * @param {import("./app.js").App} app
 * @param {import("./app.js").Hooks & {selected: () => void}} hooks selected: another channel is edited
 */
export function buildChannels(app, hooks) {
  const img = app.image, box = $("channels");
  if (!img) return;
  box.innerHTML = "";
  img.channels.forEach((ch, i) => {
    const row = document.createElement("div");
    row.className = "ch" + (i === app.selected ? " selected" : "");
    row.dataset.channel = String(i);
    const win = windowOf(app, ch);
    row.innerHTML = `<input type="checkbox" ${ch.visible ? "checked" : ""} aria-label="show ${esc(ch.label)}">` +
      `<span class="lbl" title="${esc(ch.label)}">${esc(ch.label)}</span>` +
      `<select aria-label="colour of ${esc(ch.label)}">${colorChoices(ch).map(([v, n]) => `<option value="${esc(v)}"${v === ch.color ? " selected" : ""}>${esc(n)}</option>`).join("")}</select>` +
      `<div class="ramp" style="background:${swatch(ch.color)}"></div>` +
      `<div class="win">${win ? `${fmtNum(win[0])} – ${fmtNum(win[1])}` : "auto"}</div>`;
    row.addEventListener("click", e => {
      const tag = /** @type {HTMLElement} */ (e.target).tagName;
      if (tag === "INPUT" || tag === "SELECT") return;
      app.selected = i; buildChannels(app, hooks); hooks.selected();
    });
    /** @type {HTMLInputElement} */ (row.querySelector("input")).addEventListener("change", e => {
      ch.visible = /** @type {HTMLInputElement} */ (e.target).checked;
      if (ch.visible) app.selected = i;
      buildChannels(app, hooks); hooks.selected(); hooks.changed();
    });
    /** @type {HTMLSelectElement} */ (row.querySelector("select")).addEventListener("change", e => {
      ch.color = /** @type {HTMLSelectElement} */ (e.target).value;
      app.selected = i;
      buildChannels(app, hooks); hooks.changed();
    });
    box.append(row);
  });
}
