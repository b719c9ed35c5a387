// Prefetch: once the view has been still for a moment and every visible tile has settled, the tiles of
// the neighbouring planes at the current view are loaded as spare loads (TileLoader.prefetch): plane ±1
// at the level in use and ±2 at the coarsest level, so the next press of "next plane" draws from the
// cache. The loader runs them only when nothing visible waits and aborts them at the next change of view.

import { factors, nearestFirst, steppedDim, visibleTiles } from "./geometry.js";
import { tileRequest } from "./requests.js";
import { visibleChannels } from "./app.js";

/**
 * @typedef {import("./image.js").ImageModel} ImageModel
 * @typedef {import("./tiles.js").TileRequest} TileRequest
 */

/** ms without a change of view before the neighbours are fetched */
export const PREFETCH_DELAY = 150;

/**
 * The requests for the neighbouring planes along `d`: ±1 at `lv`, then ±2 at the coarsest level, each
 * plane's tiles nearest the view's centre first. Planes off the array are skipped.
 * @param {import("./requests.js").Reader} zl
 * @param {ImageModel} img
 * @param {number[]} index level-0 index
 * @param {number} d the stepped dimension
 * @param {number} lv the level in use
 * @param {{x0: number, y0: number, x1: number, y1: number}} world the view, level-0 pixels
 * @param {{cx: number, cy: number}} centre level-0 pixels
 * @param {{index: number}[]} chans the visible channels
 * @returns {TileRequest[]}
 */
export function neighbourRequests(zl, img, index, d, lv, world, centre, chans) {
  const coarsest = img.levels.length - 1;
  const steps = [[1, lv], [-1, lv]];
  if (coarsest !== lv) steps.push([1, coarsest], [-1, coarsest], [2, coarsest], [-2, coarsest]);
  else steps.push([2, lv], [-2, lv]);
  const out = [];
  for (const [step, level] of steps) {
    const v = index[d] + step;
    if (v < 0 || v >= img.levels[0].shape[d]) continue;
    const at = index.map((x, i) => (i === d ? v : x));
    const [fy, fx] = factors(img, level);
    for (const t of nearestFirst(visibleTiles(img, level, world), centre.cy / fy, centre.cx / fx)) {
      for (const ch of chans) out.push(tileRequest(zl, img, at, level, t, ch));
    }
  }
  return out;
}

/** Schedules the prefetch of the app's neighbouring planes when its loader goes idle. */
export class Prefetcher {
  /**
   * @param {import("./app.js").App & Record<string, any>} app
   * @param {{level: () => number}} scene the level in use
   * @param {number} [delay]
   */
  constructor(app, scene, delay = PREFETCH_DELAY) {
    this.app = app;
    this.scene = scene;
    this.delay = delay;
    /** @type {any} */
    this.timer = null;
  }

  /** The loader went idle: fetch the neighbours unless the view changes within `delay` ms. */
  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), this.delay);
  }

  run() {
    const app = this.app, img = app.image, loader = app.loader;
    // an expression, or a view that moved on since: nothing (the next idle schedules again)
    if (!img || app.expr || !app.zl || loader.loading || loader.queued) return;
    const d = steppedDim(img);
    if (d < 0) return;
    const vp = app.viewport;
    loader.prefetch(neighbourRequests(app.zl, img, app.index, d, this.scene.level(), vp.worldRect(),
                                      { cx: vp.cx, cy: vp.cy }, visibleChannels(img)));
  }
}
