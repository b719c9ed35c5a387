// The view of the plane from tiles: what to ask the loader for (the coarsest level for a quick first
// picture, and the level that suits the zoom, nearest the centre first), painting coarse to fine, and
// reading the loaded tiles back (the values under the cursor, the data on screen for statistics).

import { dpr, visibleChannels, windowOf, setWindowOf } from "./app.js";
import { percentiles } from "./colors.js";
import { chooseLevel, dataOffset, exprLevel, factors, nearestFirst, pixelTile, planeKey, planeSize, visibleTiles } from "./geometry.js";
import { TileColours, tileDims } from "./paint.js";
import { exprRequest, tileRequest } from "./requests.js";

/**
 * @typedef {import("./app.js").App} App
 * @typedef {import("./image.js").Channel} Channel
 * @typedef {import("./tiles.js").TileEntry} TileEntry
 * @typedef {{level: number, complete: boolean, exprError: Error | null, exprShown: string | null}} Drawn
 */

const settled = (/** @type {TileEntry | undefined} */ e) => e?.state === "ready" || e?.state === "error";

export class Scene {
  /**
   * @param {App} app
   * @param {import("./paint.js").Screen} screen
   * @param {() => void} onAutoWindow a channel got a window from its data (the panels show it)
   */
  constructor(app, screen, onAutoWindow) {
    this.app = app;
    this.screen = screen;
    this.colours = new TileColours();
    this.onAutoWindow = onAutoWindow;
    /** The share of the view's tiles (at the level in use) that had settled at the last draw: the busy
     * bar shows it, a width changed only by the frames tiles cause (an animated bar cost a frame at every
     * display refresh: style.css). */
    this.progress = 1;
  }

  /** The level tiles are read from at the current zoom (the expression's level while one is applied). */
  level() {
    const { image, viewport, expr } = this.app;
    if (!image) return 0;
    return expr ? exprLevel(image, viewport.zoom, dpr()) : chooseLevel(image, viewport.zoom, dpr());
  }

  /** @param {number} lv @param {import("./geometry.js").Tile} t @param {Channel} ch */
  tile(lv, t, ch) {
    const app = this.app;
    return tileRequest(app.zl, /** @type {any} */ (app.image), app.index, lv, t, ch);
  }

  /** @param {number} lv @param {Channel} ch */
  exprTile(lv, ch) {
    const app = this.app;
    return exprRequest(app.zl, /** @type {any} */ (app.image), app.index, lv, ch, app.expr);
  }

  /** Ask for what the view needs and paint what is at hand. @returns {Drawn} */
  draw() {
    const app = this.app, img = app.image, screen = this.screen, viewport = app.viewport, loader = app.loader;
    /** @type {Drawn} */
    const drawn = { level: 0, complete: true, exprError: null, exprShown: null };
    screen.begin(dpr());
    if (!img) return drawn;
    const chans = visibleChannels(img);
    const transposed = img.yDim > img.xDim;
    const how = (/** @type {boolean} */ isExpr) => ({ invert: app.invert, transposed, windowOf: (/** @type {any} */ c) => windowOf(app, c),
      autoWindow: (/** @type {any} */ c) => this.autoWindow(c, isExpr) });
    const L = drawn.level = this.level();
    if (app.expr) {
      loader.want(chans.map(ch => this.exprTile(L, ch)));
      const [H, W] = planeSize(img, L), [fy, fx] = factors(img, L);
      const entries = chans.map(ch => loader.get(this.exprTile(L, ch).key));
      const c = this.colours.paint(`expr|${app.expr}|${L}|${planeKey(img, app.index, L)}`, entries, chans, how(true));
      if (c) screen.blit(c, 0, 0, W * fx, H * fy, fx * viewport.zoom, dpr());
      else drawn.complete = false;
      this.progress = entries.filter(settled).length / Math.max(1, entries.length);
      drawn.exprError = entries.find(e => e?.state === "error")?.error ?? null;
      if (c) drawn.exprShown = `x: level ${L} plane, ${H} × ${W}`;
      return drawn;
    }
    const coarsest = img.levels.length - 1;
    const world = viewport.worldRect();
    const requests = [];
    for (const lv of coarsest === L ? [L] : [coarsest, L]) {
      const [fy, fx] = factors(img, lv);
      for (const t of nearestFirst(visibleTiles(img, lv, world), viewport.cy / fy, viewport.cx / fx)) {
        for (const ch of chans) requests.push(this.tile(lv, t, ch));
      }
    }
    loader.want(requests);
    // Coarse to fine: finer tiles cover coarser ones as they arrive. Once every tile of the level in
    // use has settled, only that level is painted (one full-view blit per frame, not one per level).
    const target = visibleTiles(img, L, world);
    let done = 0;
    for (const t of target) for (const ch of chans) if (settled(loader.get(this.tile(L, t, ch).key))) done++;
    const allSettled = done === target.length * chans.length;
    this.progress = done / Math.max(1, target.length * chans.length);
    for (let lv = allSettled ? L : coarsest; lv >= L; lv--) {
      const [fy, fx] = factors(img, lv);
      const smooth = fx * viewport.zoom < 0.999;
      for (const t of visibleTiles(img, lv, world)) {
        const entries = chans.map(ch => loader.get(this.tile(lv, t, ch).key));
        const c = this.colours.paint(`${lv}|${planeKey(img, app.index, lv)}|${t.ty}|${t.tx}`, entries, chans, how(false));
        const at = [t.x0 * fx, t.y0 * fy, (t.x1 - t.x0) * fx, (t.y1 - t.y0) * fy];
        if (c) screen.blit(c, at[0], at[1], at[2], at[3], smooth ? 0.5 : 2, dpr());
        if (lv === L && entries.some(e => e?.state === "error")) screen.crossOut(at[0], at[1], at[2], at[3]);
        for (const e of entries) {
          for (const b of e?.extra?.bad ?? []) screen.crossOut(b.rect.x0 * fx, b.rect.y0 * fy, (b.rect.x1 - b.rect.x0) * fx, (b.rect.y1 - b.rect.y0) * fy);
        }
        // done when every tile has loaded or failed (a failed one is crossed out, not waited for)
        if (lv === L && !entries.every(settled)) drawn.complete = false;
      }
    }
    return drawn;
  }

  /**
   * A window from the data at hand when none is set (the first view of a channel): its 0.1 and 99.9
   * percentiles over the loaded tiles of that channel.
   * @param {{index: number}} c @param {boolean} isExpr
   * @returns {[number, number]}
   */
  autoWindow(c, isExpr) {
    const app = this.app;
    const ch = /** @type {Channel} */ (app.image?.channels.find(x => x.index === c.index));
    const arrays = [...app.loader.entries.values()]
      .filter(e => e.state === "ready" && e.meta?.ch === c.index && !!e.meta.expr === isExpr).map(e => /** @type {any} */ (e.data));
    const [lo, hi] = percentiles(arrays, [0.1, 99.9]);
    /** @type {[number, number]} */
    const win = [lo, hi > lo ? hi : lo + 1];
    setWindowOf(app, ch, win);
    this.onAutoWindow();
    return win;
  }

  /**
   * Values of the shown channels at level-0 pixel (x, y), from the finest level whose tile is loaded.
   * @param {number} x @param {number} y
   * @returns {{label: string, value: string, level: number, channel: number, raw?: number}[]}
   */
  valuesAt(x, y) {
    const app = this.app, img = app.image;
    /** @type {{label: string, value: string, level: number, channel: number, raw?: number}[]} */
    const out = [];
    if (!img) return out;
    const fmt = (/** @type {number} */ v) => (Number.isInteger(v) ? String(v) : Number(v).toPrecision(5));
    const transposed = img.yDim > img.xDim;
    for (const ch of visibleChannels(img)) {
      if (app.expr) {
        const lv = this.level();
        const e = app.loader.get(this.exprTile(lv, ch).key);
        if (e?.state !== "ready" || !e.data) continue;
        const [H, W] = planeSize(img, 0), [h, w] = tileDims(e.shape ?? [], e.data.length, transposed);
        const r = Math.min(h - 1, Math.floor(y * h / H)), c = Math.min(w - 1, Math.floor(x * w / W));
        out.push({ label: ch.label, value: fmt(e.data[dataOffset(r, c, h, w, transposed)]), level: lv, channel: ch.index });
        continue;
      }
      for (let lv = this.level(); lv < img.levels.length; lv++) {
        const hit = pixelTile(img, lv, y, x);
        if (!hit) continue;
        const e = app.loader.get(this.tile(lv, hit.tile, ch).key);
        if (e?.state !== "ready" || !e.data) continue;
        const t = hit.tile;
        const v = e.data[dataOffset(hit.row, hit.col, t.y1 - t.y0, t.x1 - t.x0, transposed)];
        out.push({ label: ch.label, value: fmt(v), level: lv, channel: ch.index, raw: Number(v) });
        break;
      }
    }
    return out;
  }

  /**
   * Raw data of a channel on screen: the current level's tiles, or a coarser level's while it loads.
   * @param {number} chIndex position in image.channels
   * @returns {ArrayLike<number>[]}
   */
  visibleData(chIndex) {
    const app = this.app, img = app.image;
    if (!img) return [];
    const ch = img.channels[chIndex];
    if (app.expr) {
      const e = app.loader.get(this.exprTile(this.level(), ch).key);
      return e?.state === "ready" && e.data ? [e.data] : [];
    }
    const world = app.viewport.worldRect();
    for (let lv = this.level(); lv < img.levels.length; lv++) {
      const arrays = visibleTiles(img, lv, world).map(t => app.loader.get(this.tile(lv, t, ch).key))
        .filter(e => e?.state === "ready").map(e => /** @type {ArrayLike<number>} */ (e?.data));
      if (arrays.length) return arrays;
    }
    return [];
  }
}
