// What the viewer asks zl for: one channel of one tile of a level (zl.read), or an expression over the
// plane (zl.viewer "evaluate"), as TileLoader requests. Each load passes the loader's AbortSignal on, so a
// tile that left the view stops reading.

import { chunkParts, levelIndex, planeKey, tileSelection } from "./geometry.js";
import { selectionString } from "../protocol.js";

/**
 * @typedef {import("./image.js").ImageModel} ImageModel
 * @typedef {import("./geometry.js").Tile} Tile
 * @typedef {import("./tiles.js").TileRequest} TileRequest
 * @typedef {import("./tiles.js").TileData} TileData
 * @typedef {{read: (path: string, selection: any, options?: {signal?: AbortSignal}) =>
 *   Promise<{data: any, shape: number[]}>, viewer: (fn: string, args?: any[], options?: {signal?: AbortSignal}) =>
 *   Promise<any>}} Reader the part of Zarrlite these requests use
 */

/**
 * The loader's key of a tile: level, plane, channel, grid position.
 * @param {number} lv @param {string} plane @param {number} ch @param {Tile} t
 */
export const tileKey = (lv, plane, ch, t) => `${lv}|${plane}|${ch}|${t.ty}|${t.tx}`;

/** Whether an error is the abort of a read (not a failure of the data). @param {any} err */
export const isAbort = err => err?.name === "AbortError";

/**
 * The raw tile request for one channel of one tile of a level. When the tile's read fails, it is read
 * again chunk by chunk (readByChunk), so one bad chunk does not blank its neighbours.
 * @param {Reader} zl
 * @param {ImageModel} img
 * @param {number[]} index level-0 index along every dimension
 * @param {number} lv
 * @param {Tile} t
 * @param {{index: number}} ch
 * @returns {TileRequest}
 */
export function tileRequest(zl, img, index, lv, t, ch) {
  const L = img.levels[lv];
  const sel = tileSelection(img, index, lv, t, ch.index);
  const grid = { yDim: img.yDim, xDim: img.xDim, chunk: [L.chunks[img.yDim], L.chunks[img.xDim]],
                 bounds: L.bounds && !L.shards ? [L.bounds[img.yDim], L.bounds[img.xDim]] : null };
  return {
    key: tileKey(lv, planeKey(img, index, lv), ch.index, t),
    meta: { lv, t, ch: ch.index },
    // the plane, for the loader's settle time while planes change fast; the coarsest level of a pyramid
    // is never held (it is the quick picture of every plane passed)
    group: planeKey(img, index, 0),
    cheap: img.levels.length > 1 && lv === img.levels.length - 1,
    load: async signal => {
      const reader = valuesReader(zl, img), masked = reader !== zl;   // CF-decoded: NaN is missing
      try {
        const r = await reader.read(L.path, sel, { signal });
        return /** @type {TileData} */ ({ data: numeric(r.data), shape: r.shape, masked });
      } catch (err) {
        if (isAbort(err) || signal?.aborted) throw err;
        return /** @type {TileData} */ ({ ...await readByChunk(reader, L.path, sel, t, grid, err, signal), masked });
      }
    },
  };
}

/**
 * What reads the values shown: zl.read, or for CF-packed data (`img.cf.decodes`: scale_factor,
 * add_offset, fill values) Python's decoding of the same selection (zarrlite.cf_values), NaN where missing.
 * @param {Reader} zl @param {ImageModel} img
 * @returns {Pick<Reader, "read">}
 */
export function valuesReader(zl, img) {
  if (!(img.cf?.decodes)) return zl;
  return { read: (path, sel, options) => zl.viewer("cf_read", [path, selectionString(sel)], options) };
}

/**
 * A tile whose read failed, read again chunk by chunk: the good chunks are kept, the bad ones stay 0
 * and are listed in `bad` (drawn crossed out). Throws `err` when no chunk reads (or the tile is one chunk).
 * @param {Pick<Reader, "read">} zl
 * @param {string} path
 * @param {(number | number[])[]} sel the tile's selection (tileSelection)
 * @param {Tile} t
 * @param {{yDim: number, xDim: number, chunk: number[], bounds?: (number[] | null)[] | null}} grid the
 *   displayed dimensions and a chunk's [rows, columns] (the data is in dimension order: (columns, rows)
 *   when yDim > xDim); a rectilinear grid's boundaries (chunkParts)
 * @param {any} err the tile's own error
 * @param {AbortSignal} [signal]
 * @returns {Promise<TileData>}
 */
export async function readByChunk(zl, path, sel, t, { yDim, xDim, chunk, bounds }, err, signal) {
  const parts = chunkParts(t, chunk[0], chunk[1], bounds);
  if (parts.length <= 1) throw err;
  const transposed = yDim > xDim;
  const h = t.y1 - t.y0, w = t.x1 - t.x0;
  const [A, B] = transposed ? [w, h] : [h, w];             // the tile in dimension order
  let out = null;
  const bad = [];
  for (const p of parts) {
    const s = sel.map((v, d) => (d === yDim ? [p.y0, p.y1] : d === xDim ? [p.x0, p.x1] : v));
    try {
      const r = await zl.read(path, s, { signal });
      const data = numeric(r.data);
      out ??= new data.constructor(A * B);
      const [a0, b0] = transposed ? [p.x0 - t.x0, p.y0 - t.y0] : [p.y0 - t.y0, p.x0 - t.x0];
      const [pa, pb] = transposed ? [p.x1 - p.x0, p.y1 - p.y0] : [p.y1 - p.y0, p.x1 - p.x0];
      for (let i = 0; i < pa; i++) out.set(data.subarray(i * pb, (i + 1) * pb), (a0 + i) * B + b0);
    } catch (e) {
      if (isAbort(e) || signal?.aborted) throw e;
      bad.push({ rect: p, error: e });
    }
  }
  if (!out) throw err;
  return { data: out, shape: [A, B], bad };
}

/**
 * The request for an expression over one channel of the plane at a level (zl.viewer "evaluate").
 * @param {Reader} zl @param {ImageModel} img @param {number[]} index @param {number} lv
 * @param {{index: number}} ch @param {string} expr
 * @returns {TileRequest}
 */
export function exprRequest(zl, img, index, lv, ch, expr) {
  const L = img.levels[lv];
  const sel = levelIndex(img, index, lv).map((v, d) => (d === img.yDim || d === img.xDim ? ":" : d === img.cDim ? ch.index : v)).join(",");
  return {
    key: exprKey(expr, lv, planeKey(img, index, lv), ch.index),
    meta: { lv, ch: ch.index, expr: true },
    load: async signal => {
      const r = await zl.viewer("evaluate", [L.path, sel, expr], { signal });
      return { data: numeric(r.data), shape: r.shape };
    },
  };
}

/**
 * The loader's key of an expression's plane.
 * @param {string} expr @param {number} lv @param {string} plane @param {number} ch
 */
export const exprKey = (expr, lv, plane, ch) => `expr|${expr}|${lv}|${plane}|${ch}`;

/**
 * 64-bit integers become Float64 (colouring and statistics need numbers).
 * @param {any} data a typed array
 */
export function numeric(data) {
  return (data instanceof BigInt64Array || data instanceof BigUint64Array) ? Float64Array.from(data, Number) : data;
}
