// Label overlays: the label images of the shown image (OME-NGFF `labels`) and segmentations of integer
// ids shown beside it (the Labels panel lists the integer arrays and pyramids of the source). Python
// (zarrlite.labels) says how each lines up with the image and colours every tile of ids, exactly for
// uint64 too; here the level and tiles are picked as for the image (geometry.js), loaded (TileLoader,
// cancelled when they leave the view) and drawn, never smoothed: ids are not interpolated.

import { dpr } from "./app.js";
import { chooseLevel, factors, levelIndex, nearestFirst, pixelTile, planeKey, tileSelection, visibleTiles } from "./geometry.js";
import { snappedRect } from "./paint.js";
import { esc } from "./panels.js";
import { TileLoader } from "./tiles.js";

/**
 * @typedef {import("./image.js").ImageModel} ImageModel
 * @typedef {{path: string, name: string, kind?: string, dims: number[], dtype?: string,
 *   levels: {path: string, shape: number[], chunks: number[], factor: number[]}[], listedColors?: number,
 *   properties?: string[], error?: string, visible?: boolean}} Overlay what zarrlite.labels.overlay_of says
 * @typedef {{levels: Overlay["levels"], yDim: number, xDim: number, cDim: number}} LabelModel
 */

/** What Python needs of the image to line labels up (JSON-safe: no fill values). @param {ImageModel} img */
export function imageFrame(img) {
  return { axes: img.axes.map(a => ({ name: a.name, scale: a.scale })), levels: [{ shape: img.levels[0].shape }],
    yDim: img.yDim, xDim: img.xDim, labels: img.labels };
}

/**
 * The overlay as geometry.js takes a model: its levels, and the displayed dimensions of the image found
 * among its own; null when it lacks one of them (the image's axes were changed).
 * @param {Overlay} ov @param {ImageModel} img
 * @returns {LabelModel | null}
 */
export function labelModel(ov, img) {
  const yDim = ov.dims.indexOf(img.yDim), xDim = ov.dims.indexOf(img.xDim);
  return yDim < 0 || xDim < 0 || ov.error ? null : { levels: ov.levels, yDim, xDim, cDim: -1 };
}

/**
 * The image's level-0 index along each label dimension (0 along one the image lacks).
 * @param {Overlay} ov @param {number[]} index
 */
export const labelIndex = (ov, index) => ov.dims.map(d => (d >= 0 ? index[d] ?? 0 : 0));

/**
 * The text of what is under the cursor: "coins 17 · area (px) 1203 · class large".
 * @param {{name: string, id: any, properties: Record<string, any> | null}[]} hits
 */
export function hoverText(hits) {
  return hits.map(h => [`${h.name} ${String(h.id)}`, ...Object.entries(h.properties ?? {}).map(([k, v]) => `${k} ${v}`)].join(" · ")).join("   ");
}

export class LabelLayer {
  /**
   * @param {import("./app.js").App & Record<string, any>} app
   * @param {import("./paint.js").Screen} screen
   * @param {HTMLElement} stage @param {HTMLElement} box the Labels panel
   * @param {() => void} requestDraw
   */
  constructor(app, screen, stage, box, requestDraw) {
    this.app = app; this.screen = screen; this.box = box; this.requestDraw = requestDraw;
    /** @type {ImageModel | null} */
    this.image = null;
    /** @type {Overlay[]} */
    this.overlays = [];
    /** @type {string[]} */
    this.candidates = [];
    this.opacity = 0.6;
    this.outline = false;
    this.pending = 0;            // overlay descriptions being asked for
    /** The level each overlay was last drawn from, by path (tests read it). @type {Record<string, number>} */
    this.drawnLevels = {};
    this.generation = 0;
    /** @type {{name: string, id: any, properties: any}[]} */
    this.hover = [];
    this.loader = new TileLoader({ concurrency: 4, budget: 128 << 20, onLoad: () => requestDraw(),
      onError: e => { console.warn("label tile:", e.error); requestDraw(); } });
    /** @type {Map<string, HTMLCanvasElement>} */
    this.canvases = new Map();
    /** @type {AbortController | null} */
    this.hoverCall = null;
    this.hoverTimer = 0;
    /** @type {AbortController | null} */
    this.calls = null;
    stage.addEventListener("pointermove", () => this.scheduleHover());
    box.addEventListener("input", e => this.onInput(/** @type {HTMLInputElement} */ (e.target)));
    box.addEventListener("submit", e => { e.preventDefault(); this.addSelected(); });
  }

  /** Nothing loading or waiting (tests poll it). */
  idle() { return !this.pending && !this.loader.loading && !this.loader.queued; }

  /** A new image (or none): ask Python for its label images and the source's other segmentations. @param {ImageModel | null} img */
  reset(img) {
    const gen = ++this.generation;
    this.image = img;
    this.overlays = []; this.candidates = []; this.hover = [];
    this.loader.clear(); this.canvases.clear();
    this.box.hidden = !img;
    if (!img) { this.calls?.abort(); return; }
    this.render();
    const zl = this.app.zl;
    this.calls?.abort();            // the questions about the image before
    const signal = (this.calls = new AbortController()).signal;
    this.pending++;
    Promise.all([zl.viewer("label_overlays", [imageFrame(img)], { signal }),
      zl.viewer("label_candidates", [[img.path, ...img.levels.map(l => l.path)]], { signal }).catch(() => [])])
      .then(([overlays, candidates]) => {
        if (gen !== this.generation) return;
        this.overlays = overlays.map((/** @type {Overlay} */ o) => ({ ...o, visible: !o.error }));
        this.candidates = candidates;
        this.render();
        this.requestDraw();
      }, err => { if (gen === this.generation && err?.name !== "AbortError") this.note(String(err?.message ?? err)); })
      .finally(() => { this.pending--; });
  }

  /** Add the segmentation picked in the panel over the image. */
  async addSelected() {
    const input = /** @type {HTMLInputElement | null} */ (this.box.querySelector("#label-path"));
    const img = this.image, gen = this.generation, path = (input?.value || input?.placeholder || "").trim();
    if (!input || !img || !this.candidates.includes(path) && !input.value.trim()) return;
    this.note("");
    this.pending++;
    try {
      const ov = await this.app.zl.viewer("label_overlay", [imageFrame(img), path], { signal: this.calls?.signal });
      if (gen !== this.generation) return;
      this.overlays.push({ ...ov, visible: true });
      this.render();
      this.requestDraw();
    } catch (err) {
      this.note(String(/** @type {any} */ (err)?.message ?? err));
    } finally { this.pending--; }
  }

  /** @param {string} text */
  note(text) { const p = this.box.querySelector("#label-note"); if (p) p.textContent = text; }

  /** The panel: one toggle per label image, opacity, outlines, and what else can be shown as labels. */
  render() {
    const shown = new Set(this.overlays.map(o => o.path));
    const others = this.candidates.filter(p => !shown.has(p));
    const rows = this.overlays.map((o, i) => o.error
      ? `<div class="label-row err" title="${esc(o.error)}">${esc(o.name)}: ${esc(o.error)}</div>`
      : `<label class="label-row"><input type="checkbox" data-overlay="${i}" ${o.visible ? "checked" : ""}> ${esc(o.name)}` +
        ` <span class="dim">${esc(o.kind === "segmentation" ? `segmentation ${o.dtype ?? ""}` : "label image")}</span></label>`).join("");
    /** @type {HTMLElement} */ (this.box.querySelector("#labels")).innerHTML =
      `<div class="row"><label>opacity <input id="label-opacity" type="range" min="0" max="100" value="${Math.round(this.opacity * 100)}"></label>` +
      `<label class="inline"><input id="label-outline" type="checkbox" ${this.outline ? "checked" : ""}> outlines only</label></div>` +
      (rows || `<p class="dim">${this.pending ? "looking for label images…" : "This image has no label images."}</p>`) +
      // the integer arrays the tree reached, offered; any path can be typed (plain HTTP cannot list)
      `<form id="label-form" class="row" autocomplete="off"><input id="label-path" list="label-candidates" spellcheck="false" ` +
      `placeholder="${others.length ? esc(others[0]) : "path of integer ids, e.g. seg/s0"}" aria-label="segmentation to show">` +
      `<datalist id="label-candidates">${others.map(p => `<option value="${esc(p)}"></option>`).join("")}</datalist>` +
      `<button id="label-add" title="show these integer ids as labels over the image">Show as labels</button></form>` +
      `<p id="label-hover" class="dim"></p><p id="label-note" class="err"></p>`;
  }

  /** @param {HTMLInputElement} el */
  onInput(el) {
    if (el.id === "label-opacity") this.opacity = Number(el.value) / 100;
    else if (el.id === "label-outline") { this.outline = el.checked; this.canvases.clear(); }
    else if (el.dataset.overlay !== undefined) this.overlays[Number(el.dataset.overlay)].visible = el.checked;
    this.requestDraw();
    this.scheduleHover();
  }

  /** The label level that suits the zoom, as the image picks its own. @param {LabelModel} m */
  level(m) { return chooseLevel(/** @type {any} */ (m), this.app.viewport.zoom, dpr()); }

  /**
   * The tile request of one label tile (RGBA coloured by Python).
   * @param {Overlay} ov @param {LabelModel} m @param {number} lv @param {import("./geometry.js").Tile} t
   */
  request(ov, m, lv, t) {
    const idx = labelIndex(ov, this.app.index), outline = this.outline, L = m.levels[lv];
    const sel = tileSelection(/** @type {any} */ (m), idx, lv, t, 0);
    return {
      key: `${ov.path}|${lv}|${planeKey(/** @type {any} */ (m), idx, lv)}|${outline}|${t.ty}|${t.tx}`,
      load: (/** @type {AbortSignal} */ signal) => this.app.zl.viewer("label_tile", [ov.path, L.path, sel, m.yDim, m.xDim, outline], { signal }),
    };
  }

  /** Ask for the label tiles on screen and draw those at hand over the image (coarse to fine). */
  draw() {
    const app = this.app, img = app.image;
    if (img !== this.image) this.reset(img);
    if (!img) return;
    const world = app.viewport.worldRect(), ctx = this.screen.ctx;
    const shown = this.overlays.filter(o => o.visible).map(o => ({ o, m: labelModel(o, img) })).filter(x => x.m);
    const requests = [];
    for (const { o, m } of shown) {
      const M = /** @type {LabelModel} */ (m), L = this.level(M), coarsest = M.levels.length - 1;
      for (const lv of coarsest === L ? [L] : [coarsest, L]) {
        const [fy, fx] = factors(/** @type {any} */ (M), lv);
        for (const t of nearestFirst(visibleTiles(/** @type {any} */ (M), lv, world), app.viewport.cy / fy, app.viewport.cx / fx)) requests.push(this.request(o, M, lv, t));
      }
    }
    this.loader.want(requests);
    ctx.save();
    ctx.globalAlpha = this.opacity;
    ctx.imageSmoothingEnabled = false;
    for (const { o, m } of shown) {
      const M = /** @type {LabelModel} */ (m), L = this.drawnLevels[o.path] = this.level(M);
      // coarser tiles only while the level's own are missing: transparent ids would show them through
      const done = visibleTiles(/** @type {any} */ (M), L, world).every(t => ["ready", "error"].includes(this.loader.get(this.request(o, M, L, t).key)?.state ?? ""));
      for (let lv = done ? L : M.levels.length - 1; lv >= L; lv--) {
        const [fy, fx] = factors(/** @type {any} */ (M), lv);
        for (const t of visibleTiles(/** @type {any} */ (M), lv, world)) {
          const c = this.canvas(this.request(o, M, lv, t).key);
          if (!c) continue;
          const [x, y, w, h] = snappedRect((a, b) => app.viewport.toScreen(a, b), dpr(), t.x0 * fx, t.y0 * fy, (t.x1 - t.x0) * fx, (t.y1 - t.y0) * fy);
          ctx.drawImage(c, x, y, w, h);
        }
      }
    }
    ctx.restore();
  }

  /** The canvas of a loaded label tile (made once from its RGBA). @param {string} key */
  canvas(key) {
    const have = this.canvases.get(key);
    if (have) return have;
    const e = this.loader.get(key);
    if (e?.state !== "ready" || !e.data || !e.shape) return null;
    const c = rgbaCanvas(/** @type {Uint8Array} */ (e.data), e.shape);
    this.canvases.set(key, c);
    if (this.canvases.size > 400) this.canvases.delete(/** @type {string} */ (this.canvases.keys().next().value));
    return c;
  }

  /** The ids under the cursor, asked of Python at the level on screen (the last question is cancelled). */
  scheduleHover() {
    clearTimeout(this.hoverTimer);
    this.hoverTimer = setTimeout(() => this.updateHover(), 60);
  }

  async updateHover() {
    const app = this.app, img = this.image, p = app.pointer;
    this.hoverCall?.abort();
    if (!img || !p) return;
    const call = this.hoverCall = new AbortController();
    const [wx, wy] = app.viewport.toWorld(p.x, p.y);
    const asks = [];
    for (const o of this.overlays.filter(x => x.visible)) {
      const m = labelModel(o, img);
      if (!m) continue;
      const lv = this.level(m), hit = pixelTile(/** @type {any} */ (m), lv, wy, wx);
      if (!hit) continue;
      const index = levelIndex(/** @type {any} */ (m), labelIndex(o, app.index), lv)
        .map((v, d) => (d === m.yDim ? hit.tile.y0 + hit.row : d === m.xDim ? hit.tile.x0 + hit.col : v));
      asks.push(app.zl.viewer("label_at", [o.path, m.levels[lv].path, index], { signal: call.signal })
        .then((/** @type {any} */ r) => ({ name: o.name, id: r.id, properties: r.properties })));
    }
    try {
      const hits = await Promise.all(asks);
      if (call.signal.aborted) return;
      this.hover = hits;
      const el = this.box.querySelector("#label-hover");
      if (el) el.textContent = hoverText(hits);
    } catch (err) {
      if (/** @type {any} */ (err)?.name !== "AbortError") console.warn("label under the cursor:", err);
    }
  }
}

/** A canvas holding RGBA rows (h, w, 4) as Python sends them. @param {Uint8Array} data @param {number[]} shape */
export function rgbaCanvas(data, shape) {
  const [h, w] = shape, c = document.createElement("canvas");
  c.width = w; c.height = h;
  const pixels = /** @type {any} */ (new Uint8ClampedArray(data.buffer, data.byteOffset, data.length));
  c.getContext("2d")?.putImageData(new ImageData(pixels, w, h), 0, 0);
  return c;
}
