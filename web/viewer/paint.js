// Painting: raw tiles coloured into small canvases (cached, re-coloured only when a setting they depend
// on changes), drawn onto the view with their edges snapped to device pixels, and the overlay layer for
// crossed-out tiles and the chunk map.

import { composite } from "./colors.js";

/**
 * @typedef {import("./tiles.js").TileEntry} TileEntry
 * @typedef {{index: number, color: string}} Shown a channel as painted
 */

/**
 * [h, w] of a tile's data as displayed: the data is in dimension order, (columns, rows) when transposed.
 * @param {number[]} shape @param {number} length @param {boolean} transposed
 */
export function tileDims(shape, length, transposed) {
  if (shape.length !== 2) return [1, length];
  return transposed ? [shape[1], shape[0]] : [shape[0], shape[1]];
}

/**
 * The screen rectangle [x, y, w, h] (CSS pixels) of a world rectangle, its edges on device pixels so
 * neighbouring tiles meet without seams.
 * @param {(wx: number, wy: number) => number[]} toScreen
 * @param {number} dpr
 * @param {number} wx @param {number} wy @param {number} ww @param {number} wh level-0 pixels
 */
export function snappedRect(toScreen, dpr, wx, wy, ww, wh) {
  const [sx0, sy0] = toScreen(wx, wy), [sx1, sy1] = toScreen(wx + ww, wy + wh);
  const r = (/** @type {number} */ v) => Math.round(v * dpr) / dpr;
  return [r(sx0), r(sy0), r(sx1) - r(sx0), r(sy1) - r(sy0)];
}

/** The view's two canvases: the image, and an overlay that costs nothing while it stays empty. */
export class Screen {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLCanvasElement} overlay
   * @param {import("./viewport.js").Viewport} viewport
   */
  constructor(canvas, overlay, viewport) {
    this.canvas = canvas;
    this.overlay = overlay;
    this.ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    this.octx = /** @type {CanvasRenderingContext2D} */ (overlay.getContext("2d"));
    this.viewport = viewport;
    this.overlayDirty = true;
  }

  /** @param {number} w @param {number} h CSS pixels @param {number} dpr */
  resize(w, h, dpr) {
    for (const c of [this.canvas, this.overlay]) { c.width = Math.max(1, Math.round(w * dpr)); c.height = Math.max(1, Math.round(h * dpr)); }
    this.viewport.resize(w, h);
  }

  /** Blank the image, clear the overlay when something is on it, and draw in CSS pixels from here. @param {number} dpr */
  begin(dpr) {
    const { ctx, octx } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#0b0c0f";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    octx.setTransform(1, 0, 0, 1, 0, 0);
    if (this.overlayDirty) octx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.overlayDirty = false;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  /** The overlay, marked as holding something. */
  drawOverlay() {
    this.overlayDirty = true;
    return this.octx;
  }

  /**
   * drawImage of a tile at a world rectangle (level-0 pixels), smoothed only when it is minified.
   * @param {CanvasImageSource} c @param {number} wx @param {number} wy @param {number} ww @param {number} wh
   * @param {number} pixelScale screen pixels per tile pixel @param {number} dpr
   */
  blit(c, wx, wy, ww, wh, pixelScale, dpr) {
    const [x, y, w, h] = snappedRect((a, b) => this.viewport.toScreen(a, b), dpr, wx, wy, ww, wh);
    this.ctx.imageSmoothingEnabled = pixelScale < 1;
    this.ctx.imageSmoothingQuality = "medium";
    this.ctx.drawImage(c, x, y, w, h);
  }

  /**
   * A red box with a cross over a world rectangle: a tile or chunk that failed to read.
   * @param {number} wx @param {number} wy @param {number} ww @param {number} wh level-0 pixels
   */
  crossOut(wx, wy, ww, wh) {
    const g = this.drawOverlay();
    const [x0, y0] = this.viewport.toScreen(wx, wy), [x1, y1] = this.viewport.toScreen(wx + ww, wy + wh);
    g.strokeStyle = "#ff5555";
    g.lineWidth = 2;
    g.strokeRect(x0, y0, x1 - x0, y1 - y0);
    g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.moveTo(x1, y0); g.lineTo(x0, y1); g.stroke();
  }
}

/** Coloured tiles: key -> canvas, the least recently used dropped past `limit`. */
export class TileColours {
  constructor(limit = 600) {
    this.limit = limit;
    /** @type {Map<string, {canvas: HTMLCanvasElement, version: string}>} */
    this.painted = new Map();
  }

  clear() { this.painted.clear(); }

  /**
   * The canvas of one tile with every shown channel composited; null while none of its channels is ready.
   * @param {string} key
   * @param {(TileEntry | undefined)[]} entries one per shown channel
   * @param {Shown[]} chans
   * @param {{invert: boolean, transposed: boolean, windowOf: (c: Shown) => [number, number] | null,
   *   autoWindow: (c: Shown) => [number, number]}} how the window in use of a channel, and one from the
   *   data when none is set yet
   */
  paint(key, entries, chans, { invert, transposed, windowOf, autoWindow }) {
    const ready = entries.map(e => (e && e.state === "ready" ? e : null));
    const first = ready.find(Boolean);
    if (!first) return null;
    const version = JSON.stringify([invert, chans.map((c, i) => [c.index, c.color, windowOf(c), !!ready[i], ready[i]?.key])]);
    const old = this.painted.get(key);
    this.painted.delete(key);
    if (old && old.version === version) { this.painted.set(key, old); return old.canvas; }
    const [h, w] = tileDims(first.shape ?? [], first.data?.length ?? 0, transposed);
    /** @type {Parameters<typeof composite>[0]} */
    const layers = [];
    chans.forEach((c, i) => {
      const e = ready[i];
      if (e) layers.push({ data: /** @type {ArrayLike<number>} */ (e.data), window: windowOf(c) ?? autoWindow(c), color: c.color, invert, transposed,
        masked: !!(/** @type {any} */ (e.extra))?.masked });   // CF-decoded values: NaN is missing, drawn transparent
    });
    const rgba = composite(layers, w, h);
    const canvas = old?.canvas ?? document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    canvas.getContext("2d")?.putImageData(new ImageData(/** @type {any} */ (rgba), w, h), 0, 0);
    this.painted.set(key, { canvas, version });
    while (this.painted.size > this.limit) this.painted.delete(/** @type {string} */ (this.painted.keys().next().value));
    return canvas;
  }
}
