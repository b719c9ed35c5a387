// Plates (OME-NGFF high-content screening): a plate opens as a grid of its wells, rows and columns named
// as its metadata says, each with a thumbnail of its first field from that field's lowest resolution
// (Python: zarrlite.plate reads only that). Thumbnails load for the wells in view only, 16 at once,
// and those that scroll away before they arrive are aborted (TileLoader). A click on a well shows its
// fields; a click on a field opens the image.

import { dpr } from "./app.js";
import { rgbaCanvas } from "./labels.js";
import { esc } from "./panels.js";
import { TileLoader } from "./tiles.js";

/**
 * @typedef {{path: string, row: number, column: number}} Well
 * @typedef {{path: string, name: string | null, rows: string[], columns: string[], wells: Well[],
 *   fieldCount: number | null}} Plate what zarrlite.plate says of a plate
 * @typedef {{path: string, row: number, column: number, name: string}} Cell
 * @typedef {{size: number, gap: number, left: number, top: number}} Layout cell size and margins (CSS px)
 */

export const HEAD = { left: 30, top: 22 };   // room for the row and column names
export const GAP = 4;

/** The wells of a plate as cells of its grid, named row then column ("B3"). @param {Plate} plate @returns {Cell[]} */
export function plateCells(plate) {
  return plate.wells.map(w => ({ path: w.path, row: w.row, column: w.column, name: `${plate.rows[w.row]}${plate.columns[w.column]}` }));
}

/**
 * The cell size (CSS px): the whole plate in `width` x `height` when cells stay at least `min`, else `min`
 * (the grid scrolls); never above `max`.
 * @param {number} rows @param {number} columns @param {number} width @param {number} height
 */
export function fitCellSize(rows, columns, width, height, min = 48, max = 160) {
  const fit = Math.floor(Math.min((width - HEAD.left) / columns, (height - HEAD.top) / rows) - GAP);
  return Math.max(min, Math.min(max, fit));
}

/** [x, y] of a cell's top-left corner in the grid (CSS px). @param {Cell} c @param {number} size */
export const cellOrigin = (c, size) => [HEAD.left + c.column * (size + GAP), HEAD.top + c.row * (size + GAP)];

/**
 * The cells that meet the visible part of the grid (grown by `margin`), row by row.
 * @param {Cell[]} cells @param {number} size
 * @param {{left: number, top: number, width: number, height: number}} view the scrolled window (CSS px)
 */
export function cellsInView(cells, size, view, margin = 0) {
  const x0 = view.left - margin, y0 = view.top - margin, x1 = view.left + view.width + margin, y1 = view.top + view.height + margin;
  return cells.filter(c => {
    const [x, y] = cellOrigin(c, size);
    return x < x1 && x + size > x0 && y < y1 && y + size > y0;
  }).sort((a, b) => a.row - b.row || a.column - b.column);
}

export class PlateView {
  /**
   * @param {import("./app.js").App & Record<string, any>} app
   * @param {HTMLElement} el the plate's pane over the stage
   * @param {{open: (path: string) => Promise<void>}} hooks open a node of the tree (a field's image)
   */
  constructor(app, el, hooks) {
    this.app = app; this.el = el; this.hooks = hooks;
    /** @type {Plate | null} */
    this.plate = null;
    /** @type {Cell[]} */
    this.cells = [];
    this.size = 0;
    this.generation = 0;
    this.opened = -1;       // app.generation (the source opened) the plate was read from
    /** @type {AbortController | null} */
    this.calls = null;
    /** Thumbnails drawn, by well (kept across size changes). @type {Map<string, HTMLCanvasElement>} */
    this.thumbs = new Map();
    /** For tests and the page: wells, thumbnails shown, failed, ms from opening to every thumbnail. */
    this.stats = { wells: 0, shown: 0, failed: 0, started: 0, full: /** @type {number | null} */ (null) };
    this.loader = new TileLoader({ concurrency: 16, budget: 64 << 20, onLoad: e => this.paint(e), onError: e => this.failed(e) });
    for (const type of ["wheel", "pointerdown", "keydown", "dblclick"]) el.addEventListener(type, e => e.stopPropagation());
    el.addEventListener("click", e => this.onClick(/** @type {HTMLElement} */ (e.target)));
  }

  /** Show the plate at `path` when the summary says it is one (true), else leave the plate view (false). @param {string} path @param {any} summary */
  select(path, summary) {
    if (!summary?.plate) { this.hide(); return false; }
    this.show(path).catch(err => { if (err?.name !== "AbortError") this.el.innerHTML = `<p class="err">${esc(err?.message ?? err)}</p>`; });
    return true;
  }

  hide() {
    this.generation++;
    this.calls?.abort();
    this.loader.clear();
    this.el.hidden = true;
  }

  /** A signal for the metadata questions of a new view; those of the view before are aborted. */
  signal() {
    this.calls?.abort();
    return (this.calls = new AbortController()).signal;
  }

  /** @param {string} path */
  async show(path) {
    const gen = ++this.generation;
    this.loader.clear();
    this.el.hidden = false;
    if (this.plate?.path !== path || this.opened !== this.app.generation) {   // another plate, or source
      this.opened = this.app.generation;
      this.el.innerHTML = `<p class="dim">Reading the plate…</p>`;
      this.thumbs.clear();
      const plate = await this.app.zl.viewer("plate", [path], { signal: this.signal() });
      if (gen !== this.generation) return;
      this.plate = plate;
      this.cells = plateCells(plate);
      this.stats = { wells: this.cells.length, shown: 0, failed: 0, started: performance.now(), full: null };
      this.size = 0;
    }
    this.build();
  }

  /** The grid: row and column names, a cell per well with its thumbnail canvas. */
  build() {
    const plate = /** @type {Plate} */ (this.plate);
    const el = this.el;
    this.size ||= fitCellSize(plate.rows.length, plate.columns.length, el.clientWidth - 16, el.clientHeight - 48);
    const s = this.size, W = HEAD.left + plate.columns.length * (s + GAP), H = HEAD.top + plate.rows.length * (s + GAP);
    const names = plate.columns.map((n, c) => `<span class="plate-col" style="left:${HEAD.left + c * (s + GAP)}px;width:${s}px">${esc(n)}</span>`).join("") +
      plate.rows.map((n, r) => `<span class="plate-row" style="top:${HEAD.top + r * (s + GAP)}px;height:${s}px">${esc(n)}</span>`).join("");
    const wells = this.cells.map(c => {
      const [x, y] = cellOrigin(c, s);
      return `<button class="well" data-well="${esc(c.path)}" title="${esc(c.name)} (${esc(c.path)})" style="left:${x}px;top:${y}px;width:${s}px;height:${s}px"><span>${esc(c.name)}</span></button>`;
    }).join("");
    el.innerHTML = `<div class="plate-head"><b>${esc(plate.name ?? plate.path ?? "plate")}</b> <span class="dim">${plate.rows.length} × ${plate.columns.length}, ` +
      `${this.cells.length} wells${plate.fieldCount ? `, ${plate.fieldCount} field${plate.fieldCount > 1 ? "s" : ""} each` : ""}</span>` +
      `<label>size <input id="plate-size" type="range" min="32" max="200" value="${s}"></label><span id="plate-status" class="dim"></span></div>` +
      `<div class="plate-scroll"><div class="plate-grid" style="width:${W}px;height:${H}px">${names}${wells}</div></div>`;
    for (const [path, canvas] of this.thumbs) this.button(path)?.prepend(canvas);
    const scroll = /** @type {HTMLElement} */ (el.querySelector(".plate-scroll"));
    scroll.addEventListener("scroll", () => this.update(), { passive: true });
    /** @type {HTMLInputElement} */ (el.querySelector("#plate-size")).addEventListener("change", e => {
      this.size = Number(/** @type {HTMLInputElement} */ (e.target).value); this.build();
    });
    this.update();
  }

  /** @param {string} path */
  button(path) { return this.el.querySelector(`button.well[data-well="${CSS.escape(path)}"]`); }

  /** Ask for the thumbnails of the wells in view not drawn yet; the others' loads are aborted. */
  update() {
    const scroll = /** @type {HTMLElement | null} */ (this.el.querySelector(".plate-scroll"));
    if (!scroll || this.el.hidden) return;
    const view = { left: scroll.scrollLeft, top: scroll.scrollTop, width: scroll.clientWidth, height: scroll.clientHeight };
    const px = Math.min(256, Math.round(this.size * dpr()));
    const want = cellsInView(this.cells, this.size, view, this.size / 2).filter(c => !this.thumbs.has(c.path));
    this.loader.want(want.map(c => ({ key: `${c.path}|${px}`, meta: { path: c.path },
      load: (/** @type {AbortSignal} */ signal) => this.app.zl.viewer("well_thumbnail", [c.path, px, 0], { signal }) })));
    this.status();
  }

  status() {
    const s = this.stats, el = this.el.querySelector("#plate-status");
    if (el) el.textContent = ` · ${s.shown}/${s.wells} thumbnails${s.failed ? `, ${s.failed} failed` : ""}` +
      (s.full !== null ? ` in ${(s.full / 1000).toFixed(2)} s` : "") + (this.loader.aborts ? ` · ${this.loader.aborts} cancelled` : "");
  }

  /** A thumbnail arrived (RGBA from Python): into its well's canvas. @param {import("./tiles.js").TileEntry} e */
  paint(e) {
    const path = e.meta?.path, field = e.meta?.field;
    if (field !== undefined) { this.paintField(e); return; }
    if (!path || !e.shape || !e.data) return;
    this.thumbs.set(path, rgbaCanvas(/** @type {Uint8Array} */ (e.data), e.shape));
    this.button(path)?.prepend(/** @type {HTMLCanvasElement} */ (this.thumbs.get(path)));
    this.stats.shown = this.thumbs.size;
    if (this.stats.full === null && this.thumbs.size === this.cells.length) this.stats.full = performance.now() - this.stats.started;
    this.status();
  }

  /** @param {import("./tiles.js").TileEntry} e */
  failed(e) {
    this.stats.failed++;
    const b = /** @type {HTMLElement | null} */ (e.meta?.path ? this.button(e.meta.path) : null);
    if (b) { b.classList.add("failed"); b.title += `: ${e.error?.message ?? e.error}`; }
    this.status();
  }

  /** @param {HTMLElement} target */
  onClick(target) {
    const well = target.closest("button.well"), field = target.closest("button.field");
    if (field) this.hooks.open(/** @type {string} */ (field.getAttribute("data-field")));
    else if (well) this.showWell(/** @type {string} */ (well.getAttribute("data-well"))).catch(err => { if (err?.name !== "AbortError") console.warn("well:", err); });
    else if (target.id === "plate-back" && this.plate) this.show(this.plate.path);
  }

  /** A well's fields, each with a thumbnail; a click opens one. @param {string} path */
  async showWell(path) {
    const gen = ++this.generation;
    this.loader.clear();
    const well = await this.app.zl.viewer("well", [path], { signal: this.signal() });
    if (gen !== this.generation) return;
    const cell = this.cells.find(c => c.path === path);
    this.el.innerHTML = `<div class="plate-head"><button id="plate-back">← plate</button> <b>well ${esc(cell?.name ?? path)}</b>` +
      ` <span class="dim">${well.fields.length} field${well.fields.length === 1 ? "" : "s"}: click one to open it</span></div>` +
      `<div class="plate-fields">${well.fields.map((/** @type {any} */ f, i) => `<button class="field" data-field="${esc(f.path)}" title="${esc(f.path)}">` +
        `<span>field ${i}${f.acquisition !== null && f.acquisition !== undefined ? ` · acquisition ${esc(f.acquisition)}` : ""}</span></button>`).join("")}</div>`;
    const px = Math.min(256, Math.round(160 * dpr()));
    this.loader.want(well.fields.map((/** @type {any} */ f, i) => ({ key: `${f.path}|field|${px}`, meta: { path: f.path, field: i },
      load: (/** @type {AbortSignal} */ signal) => this.app.zl.viewer("well_thumbnail", [path, px, i], { signal }) })));
  }

  /** @param {import("./tiles.js").TileEntry} e */
  paintField(e) {
    const b = this.el.querySelector(`button.field[data-field="${CSS.escape(e.meta.path)}"]`);
    if (b && e.data && e.shape) b.prepend(rgbaCanvas(/** @type {Uint8Array} */ (e.data), e.shape));
  }
}
