// Three orthogonal views of a volume (XY, XZ with z as rows, YZ with z as rows) side by side, with a
// shared crosshair: the level-0 index of the page (app.index) is the point where the three planes meet,
// so a click in one view moves the planes the other two show. Each view is a Scene of its own (its own
// viewport, canvas and TileLoader) over the image model with its rows and columns swapped in, so it
// reads only the tiles it shows, coarse level first. Rows are stretched by the physical size of a pixel
// (zarrlite.volume: the aspect), so anisotropic voxels look as they are. Python says which dimension is
// z and what each view costs (zarrlite.volume); a projection along an axis (maximum or mean, over the
// region a view shows) is computed in the worker (zarrlite.projection), with progress and cancel.

import { dpr, visibleChannels, windowOf } from "./app.js";
import { composite } from "./colors.js";
import { planeSize } from "./geometry.js";
import { Screen } from "./paint.js";
import { esc } from "./panels.js";
import { Scene } from "./scene.js";
import { TileLoader } from "./tiles.js";
import { Viewport } from "./viewport.js";

/**
 * @typedef {import("./image.js").ImageModel} ImageModel
 * @typedef {"xy" | "xz" | "yz"} ViewName
 * @typedef {{chunks: number, decodedBytes: number, planeBytes: number, ratio: number}} Cost
 * @typedef {{z: number, views: Record<ViewName, {dims: [number, number], levels: Cost[]}>,
 *   aspect: Record<ViewName, number>, notes: string[]}} Plan what zarrlite.volume.volume_plan says
 */

/** @type {ViewName[]} */
export const VIEWS = ["xy", "xz", "yz"];

/**
 * The image model a view shows: its rows and columns displayed, the rows' level factors stretched by
 * `aspect`, so world y is level-0 rows times the aspect (channels are the page's own objects).
 * @param {ImageModel} img @param {[number, number]} dims [rows, columns] @param {number} aspect
 * @returns {ImageModel}
 */
export function viewModel(img, [rows, cols], aspect) {
  return { ...img, yDim: rows, xDim: cols,
    levels: img.levels.map(L => ({ ...L, factor: L.factor.map((f, d) => (d === rows ? f * aspect : f)) })) };
}

/**
 * The crosshair in a view's world (level-0 columns, stretched rows): the centre of the shared point.
 * @param {number[]} index level-0 index @param {[number, number]} dims @param {number} aspect
 */
export const crosshairOf = (index, [rows, cols], aspect) => ({ x: index[cols] + 0.5, y: (index[rows] + 0.5) * aspect });

/**
 * The level-0 index a click at world point (wx, wy) of a view sets: {dimension: index} for its rows
 * and columns, clamped to the shape.
 * @param {number} wx @param {number} wy @param {[number, number]} dims @param {number} aspect
 * @param {number[]} shape level-0 shape
 * @returns {Record<number, number>}
 */
export function pickAt(wx, wy, [rows, cols], aspect, shape) {
  const clamp = (/** @type {number} */ v, /** @type {number} */ n) => Math.max(0, Math.min(n - 1, Math.floor(v)));
  return { [rows]: clamp(wy / aspect, shape[rows]), [cols]: clamp(wx, shape[cols]) };
}

/**
 * The level-0 region a view shows, {rows: [lo, hi], columns: [lo, hi]}, within the shape (the whole of
 * a dimension when the view shows none of it).
 * @param {{x0: number, y0: number, x1: number, y1: number}} world @param {[number, number]} dims
 * @param {number} aspect @param {number[]} shape
 * @returns {Record<number, [number, number]>}
 */
export function regionOf(world, [rows, cols], aspect, shape) {
  /** @returns {[number, number]} */
  const span = (/** @type {number} */ a, /** @type {number} */ b, /** @type {number} */ n) => {
    const lo = Math.max(0, Math.floor(a)), hi = Math.min(n, Math.ceil(b));
    return hi > lo ? [lo, hi] : [0, n];
  };
  return { [rows]: span(world.y0 / aspect, world.y1 / aspect, shape[rows]), [cols]: span(world.x0, world.x1, shape[cols]) };
}

/** The view whose plane is fixed along `axis` (the one a projection along it is seen in). @param {Plan} plan @param {number} axis */
export const viewAcross = (plan, axis) => /** @type {ViewName} */ (VIEWS.find(v => !plan.views[v].dims.includes(axis)));

const bytes = (/** @type {number} */ n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

/** One pane: a Scene over the view's image model, with its own viewport, screen and loader. */
class Pane {
  /** @param {any} app @param {HTMLElement} el @param {ViewName} name @param {() => void} changed */
  constructor(app, el, name, changed) {
    this.name = name;
    this.el = el;
    this.viewport = new Viewport(el, changed);
    const [canvas, overlay] = /** @type {HTMLCanvasElement[]} */ ([...el.querySelectorAll("canvas")]);
    this.screen = new Screen(canvas, overlay, this.viewport);
    this.loader = new TileLoader({ onLoad: changed, onError: changed });
    // the page's state (index, invert, zl) seen through, with this view's image, viewport and loader
    this.view = Object.assign(Object.create(app), { image: null, viewport: this.viewport, loader: this.loader, expr: "" });
    this.scene = new Scene(this.view, this.screen, changed);
    /** @type {[number, number]} */
    this.dims = [0, 1];
    this.aspect = 1;
    this.fitted = false;
  }
}

export class OrthoViews {
  /**
   * @param {import("./app.js").App & Record<string, any>} app
   * @param {HTMLElement} el the views' pane over the stage
   * @param {HTMLElement} box the panel's section (the switch, what the views cost, the projection)
   * @param {{requestDraw: () => void, setIndex: (d: number, v: number) => void}} hooks
   */
  constructor(app, el, box, hooks) {
    this.app = app; this.el = el; this.box = box; this.hooks = hooks;
    /** @type {ImageModel | null} */
    this.image = null;
    /** @type {Plan | null} */
    this.plan = null;
    this.on = false;
    this.budget = 256 << 20;     // bytes of work a projection may hold (the level is chosen to fit)
    /** The last projection (tests read it): per channel its data, and where it was taken. @type {any} */
    this.projection = null;
    /** @type {AbortController | null} */
    this.running = null;
    this.progress = { done: 0, total: /** @type {number | null} */ (null), state: "", token: "" };
    this.channelAt = 0;          // the channel a running projection is at (of the visible ones)
    el.innerHTML = VIEWS.map(v => `<div class="ortho-pane" data-view="${v}" tabindex="0"><canvas></canvas><canvas></canvas><span class="ortho-name chip"></span></div>`).join("") +
      `<div class="ortho-pane" data-view="projection"><canvas></canvas><span class="ortho-name chip">projection</span></div>`;
    /** @type {Record<ViewName, Pane>} */
    this.panes = /** @type {any} */ (Object.fromEntries(VIEWS.map(v => [v, new Pane(app, /** @type {HTMLElement} */ (el.querySelector(`[data-view="${v}"]`)), v, () => hooks.requestDraw())])));
    for (const pane of Object.values(this.panes)) this.bindPick(pane);
    for (const type of ["wheel", "pointerdown", "keydown", "dblclick"]) el.addEventListener(type, e => e.stopPropagation());
    new ResizeObserver(() => { this.resize(); hooks.requestDraw(); }).observe(el);
    box.innerHTML = `<h3><label class="inline"><input type="checkbox" id="ortho-on"> Three views</label> <span class="dim">XY · XZ · YZ</span></h3>
      <div id="ortho-note" class="dim"></div>
      <form id="ortho-project" class="row"><select id="ortho-kind"><option value="max">maximum</option><option value="mean">mean</option></select>
        <select id="ortho-axis"></select><button type="submit">Project</button><button type="button" id="ortho-cancel" disabled>Cancel</button></form>
      <div class="row"><progress id="ortho-progress" max="1" value="0"></progress><span id="ortho-status" class="dim"></span></div>`;
    this.$ = (/** @type {string} */ id) => /** @type {any} */ (box.querySelector(`#${id}`));
    this.$("ortho-on").addEventListener("change", (/** @type {any} */ e) => { this.on = e.target.checked; hooks.requestDraw(); });
    this.$("ortho-project").addEventListener("submit", (/** @type {Event} */ e) => { e.preventDefault(); this.project(); });
    this.$("ortho-cancel").addEventListener("click", () => this.running?.abort());
  }

  /** True when nothing is loading in any view and no projection runs (tests poll it). */
  idle() { return !this.running && Object.values(this.panes).every(p => !p.loader.loading && !p.loader.queued); }

  /** Whether the views are shown (then they are drawn here and the page's plane is not). */
  get active() { return this.on && !!this.plan && this.app.image === this.image; }

  /** A click (not a drag) in a view sets the point where the planes meet. @param {Pane} pane */
  bindPick(pane) {
    let down = /** @type {{x: number, y: number} | null} */ (null);
    pane.el.addEventListener("pointerdown", e => { down = { x: e.clientX, y: e.clientY }; });
    pane.el.addEventListener("click", e => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4 || !this.image) return;
      const r = pane.el.getBoundingClientRect();
      const [wx, wy] = pane.viewport.toWorld(e.clientX - r.left, e.clientY - r.top);
      for (const [d, v] of Object.entries(pickAt(wx, wy, pane.dims, pane.aspect, this.image.levels[0].shape))) this.hooks.setIndex(Number(d), v);
    });
  }

  /** A new image (or none): ask Python whether it is a volume and what its views cost. @param {ImageModel | null} img */
  reset(img) {
    this.image = img; this.plan = null; this.projection = null;
    this.running?.abort();
    for (const p of Object.values(this.panes)) { p.loader.clear(); p.scene.colours.clear(); p.view.image = null; p.fitted = false; }
    this.box.hidden = true;
    if (!img) return;
    this.app.zl.viewer("volume", [img.path]).then((/** @type {Plan | null} */ plan) => {
      if (this.image !== img || !plan) return;
      this.plan = plan;
      for (const p of Object.values(this.panes)) {
        p.dims = plan.views[p.name].dims; p.aspect = plan.aspect[p.name];
        p.view.image = viewModel(img, p.dims, p.aspect);
      }
      this.$("ortho-axis").innerHTML = [plan.z, img.yDim, img.xDim].map(d => `<option value="${d}">along ${esc(img.axes[d].name)}</option>`).join("");
      this.$("ortho-note").innerHTML = plan.notes.map(n => `<p class="warn">${esc(n)}</p>`).join("") || "";
      this.box.hidden = false;
      this.hooks.requestDraw();
    }, (/** @type {any} */ err) => console.warn("volume:", err));
  }

  resize() {
    for (const p of Object.values(this.panes)) p.screen.resize(p.el.clientWidth, p.el.clientHeight, dpr());
  }

  /** Panes shown for the first time since the image changed: sized, and the whole plane in view. */
  fitNew() {
    const fresh = Object.values(this.panes).filter(p => !p.fitted && p.view.image);
    if (!fresh.length) return;
    this.resize();
    this.app.loader.want([]);   // the page's own plane is not shown meanwhile: stop reading it
    for (const p of fresh) {
      const [H, W] = planeSize(/** @type {ImageModel} */ (p.view.image), 0);
      p.viewport.setImage(W, H * p.aspect);
      p.viewport.fit();
      p.fitted = true;
    }
  }

  /** Draw the views when they are on (true), else hide them (false). Called on every frame of the page. */
  draw() {
    if (this.app.image !== this.image) this.reset(this.app.image);
    this.el.hidden = !this.active;
    if (!this.active) return false;
    this.fitNew();
    for (const p of Object.values(this.panes)) {
      const drawn = p.scene.draw();
      const c = crosshairOf(this.app.index, p.dims, p.aspect);
      const [sx, sy] = p.viewport.toScreen(c.x, c.y);
      const g = p.screen.drawOverlay();
      g.lineWidth = 1;
      g.strokeStyle = "rgba(255, 220, 0, 0.8)";
      g.beginPath(); g.moveTo(0, sy); g.lineTo(p.viewport.width, sy); g.moveTo(sx, 0); g.lineTo(sx, p.viewport.height); g.stroke();
      const cost = /** @type {Plan} */ (this.plan).views[p.name].levels[drawn.level];
      p.el.dataset.level = String(drawn.level);
      p.el.dataset.complete = drawn.complete ? "1" : "";
      /** @type {HTMLElement} */ (p.el.querySelector(".ortho-name")).textContent =
        `${p.name.toUpperCase()} · level ${drawn.level} · ${cost.chunks} chunks, ${bytes(cost.decodedBytes)} a plane`;
    }
    this.paintProjection();
    return true;
  }

  /** The maximum or mean along the chosen axis over what its view shows, each visible channel in turn. */
  async project() {
    const img = this.image, plan = this.plan, app = this.app;
    if (!img || !plan || this.running) return;
    const axis = Number(this.$("ortho-axis").value), kind = this.$("ortho-kind").value;
    const pane = this.panes[viewAcross(plan, axis)];
    // a view not shown yet has no region of its own: the whole plane
    const world = pane.fitted ? pane.viewport.worldRect() : { x0: 0, y0: 0, x1: Infinity, y1: Infinity };
    const region = regionOf(world, pane.dims, pane.aspect, img.levels[0].shape);
    const controller = this.running = new AbortController();
    const chans = visibleChannels(img);
    const token = `projection-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    this.$("ortho-cancel").disabled = false;
    this.progress = { done: 0, total: null, state: "running", token };
    const poll = setInterval(() => app.zl.viewer("projection_progress", [token]).then((/** @type {any} */ p) => { if (p && this.running === controller) this.showProgress(p, chans.length); }, () => {}), 150);
    /** @type {any} */
    const out = { kind, axis, region, channels: [], level: null, view: pane.name };
    try {
      for (const [i, ch] of chans.entries()) {
        const index = [...app.index];
        if (img.cDim >= 0) index[img.cDim] = ch.index;
        this.channelAt = i;
        const r = await app.zl.viewer("projection", [img.path, axis, index, region, kind, this.budget, token], { signal: controller.signal });
        out.level = r.level;
        out.channels.push({ index: ch.index, data: r.data, shape: r.shape, slabs: r.slabs, region: r.region });
      }
      this.projection = out;
      this.progress.state = "done";
      this.$("ortho-status").textContent = `${kind} along ${img.axes[axis].name}: level ${out.level}, ${out.channels[0]?.slabs} slabs`;
      this.$("ortho-progress").value = 1;
    } catch (err) {
      this.progress.state = controller.signal.aborted ? "cancelled" : "failed";
      this.$("ortho-status").textContent = controller.signal.aborted ? "cancelled" : `failed: ${/** @type {any} */ (err)?.message ?? err}`;
    } finally {
      clearInterval(poll);
      if (this.running === controller) this.running = null;
      this.$("ortho-cancel").disabled = true;
      this.hooks.requestDraw();
    }
  }

  /** @param {{done: number, total: number | null}} p slabs of the channel in work @param {number} n channels */
  showProgress(p, n) {
    this.progress = { ...this.progress, ...p, state: "running" };
    if (!p.total) return;
    const at = (this.channelAt + p.done / p.total) / n;
    this.$("ortho-progress").value = at;
    this.$("ortho-status").textContent = `${p.done} / ${p.total} slabs${n > 1 ? ` (channel ${this.channelAt + 1} of ${n})` : ""}`;
  }

  /** The last projection in the fourth pane, coloured as the views are, fitted to it with its aspect. */
  paintProjection() {
    const pr = this.projection, img = this.image;
    const canvas = /** @type {HTMLCanvasElement} */ (this.el.querySelector('[data-view="projection"] canvas'));
    const pane = /** @type {HTMLElement} */ (canvas.parentElement);
    if (!pr || !img || !pr.channels.length) { canvas.hidden = true; return; }
    const [h, w] = pr.channels[0].shape;
    const key = JSON.stringify([pr.kind, pr.axis, pr.region, this.app.invert, pr.channels.map((/** @type {any} */ c) => windowOf(this.app, img.channels[c.index]))]);
    if (canvas.dataset.key !== key) {
      const layers = pr.channels.map((/** @type {any} */ c) => { const ch = img.channels.find(x => x.index === c.index);
        return { data: c.data, window: (ch && windowOf(this.app, ch)) ?? [0, 1], color: ch?.color ?? "gray", invert: this.app.invert, transposed: false }; });
      canvas.width = w; canvas.height = h;
      canvas.getContext("2d")?.putImageData(new ImageData(/** @type {any} */ (composite(layers, w, h)), w, h), 0, 0);
      canvas.dataset.key = key;
    }
    canvas.hidden = false;
    const aspect = this.panes[/** @type {ViewName} */ (pr.view)].aspect;
    const s = Math.min(pane.clientWidth / w, pane.clientHeight / (h * aspect)) * 0.96;
    canvas.style.width = `${w * s}px`; canvas.style.height = `${h * aspect * s}px`;
  }
}
