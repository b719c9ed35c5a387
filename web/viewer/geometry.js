// Geometry of the view, pure: which pyramid level suits a zoom, the tiles each level is cut into (whole
// chunks, so a tile reads whole chunks only), which of them are on screen, and the index and key of the
// displayed plane at each level. Numbers in, numbers out: no DOM, no I/O.

/**
 * @typedef {import("./image.js").ImageModel} ImageModel
 * @typedef {{ty: number, tx: number, y0: number, x0: number, y1: number, x1: number}} Tile
 *   a tile: its grid position and its rectangle in level pixels (y1, x1 exclusive)
 * @typedef {{y0: number, y1: number, x0: number, x1: number}} Rect
 */

/**
 * Tile size along one displayed dimension: whole chunks, about 256-512 pixels.
 * @param {number} chunk the (inner) chunk size along the dimension
 * @param {number} size the array's size along it
 */
export function tileSize(chunk, size) {
  let t = chunk;
  if (t < 256) t = chunk * Math.ceil(256 / chunk);
  else if (t > 1024) t = 512;
  return Math.max(1, Math.min(t, size));
}

/**
 * The tiles of a level that meet a rectangle of level pixels.
 * @param {number[]} tile [th, tw]
 * @param {number[]} size [H, W] of the level plane
 * @param {Rect} rect
 * @returns {Tile[]}
 */
export function tilesIn(tile, size, rect) {
  const [th, tw] = tile, [H, W] = size;
  const ty0 = Math.max(0, Math.floor(rect.y0 / th)), ty1 = Math.min(Math.ceil(H / th), Math.ceil(rect.y1 / th));
  const tx0 = Math.max(0, Math.floor(rect.x0 / tw)), tx1 = Math.min(Math.ceil(W / tw), Math.ceil(rect.x1 / tw));
  const out = [];
  for (let ty = ty0; ty < ty1; ty++) {
    for (let tx = tx0; tx < tx1; tx++) out.push(tileAt(tile, size, ty, tx));
  }
  return out;
}

/**
 * The tile at grid position (ty, tx).
 * @param {number[]} tile [th, tw]
 * @param {number[]} size [H, W]
 * @param {number} ty
 * @param {number} tx
 * @returns {Tile}
 */
export function tileAt([th, tw], [H, W], ty, tx) {
  return { ty, tx, y0: ty * th, x0: tx * tw, y1: Math.min((ty + 1) * th, H), x1: Math.min((tx + 1) * tw, W) };
}

/** [H, W] of the displayed plane at a level. @param {ImageModel} img @param {number} lv */
export function planeSize(img, lv) {
  const s = img.levels[lv].shape;
  return [s[img.yDim], s[img.xDim]];
}

/** Level-0 pixels per level pixel along the displayed dimensions. @param {ImageModel} img @param {number} lv */
export function factors(img, lv) {
  const f = img.levels[lv].factor;
  return [f[img.yDim], f[img.xDim]];
}

/**
 * The index along every dimension at a level (pyramids may downsample z too).
 * @param {ImageModel} img
 * @param {number[]} index level-0 index along every dimension
 * @param {number} lv
 */
export function levelIndex(img, index, lv) {
  const L = img.levels[lv];
  return index.map((i, d) => Math.min(L.shape[d] - 1, Math.floor(i / (L.factor[d] || 1))));
}

/**
 * The coarsest level whose pixels are not larger than device pixels at a zoom (level 0 when none is).
 * @param {ImageModel} img
 * @param {number} zoom CSS pixels per level-0 pixel
 * @param {number} dpr device pixels per CSS pixel
 */
export function chooseLevel(img, zoom, dpr) {
  let best = 0;
  img.levels.forEach((_, lv) => { if (factors(img, lv)[1] <= 1.01 / (zoom * dpr)) best = lv; });
  return best;
}

/**
 * The level an expression is evaluated at: the one that suits the zoom, or coarser until the plane
 * has at most 4 Mpx (an expression reads the whole plane).
 * @param {ImageModel} img @param {number} zoom @param {number} dpr
 */
export function exprLevel(img, zoom, dpr) {
  let lv = chooseLevel(img, zoom, dpr);
  while (lv < img.levels.length - 1 && planeSize(img, lv)[0] * planeSize(img, lv)[1] > 4 << 20) lv++;
  return lv;
}

/** [th, tw] of the tiles of a level. @param {ImageModel} img @param {number} lv */
export function tileShape(img, lv) {
  const L = img.levels[lv];
  return [tileSize(L.chunks[img.yDim], L.shape[img.yDim]), tileSize(L.chunks[img.xDim], L.shape[img.xDim])];
}

/**
 * The displayed plane at a level as a key: its index along the other dimensions ("_" for the
 * displayed and channel ones), e.g. "_,4,_,_".
 * @param {ImageModel} img @param {number[]} index @param {number} lv
 */
export function planeKey(img, index, lv) {
  return levelIndex(img, index, lv).map((v, d) => (d === img.yDim || d === img.xDim || d === img.cDim ? "_" : v)).join(",");
}

/**
 * The tiles of a level on screen.
 * @param {ImageModel} img
 * @param {number} lv
 * @param {Rect} world the visible rectangle in level-0 pixels
 */
export function visibleTiles(img, lv, world) {
  const [fy, fx] = factors(img, lv);
  return tilesIn(tileShape(img, lv), planeSize(img, lv), { y0: world.y0 / fy, y1: world.y1 / fy, x0: world.x0 / fx, x1: world.x1 / fx });
}

/**
 * Tiles nearest a point (level pixels) first: the centre of the view loads first.
 * @param {Tile[]} tiles @param {number} cy @param {number} cx
 */
export function nearestFirst(tiles, cy, cx) {
  const dist = (/** @type {Tile} */ t) => Math.hypot((t.y0 + t.y1) / 2 - cy, (t.x0 + t.x1) / 2 - cx);
  return [...tiles].sort((a, b) => dist(a) - dist(b));
}

/**
 * The tile of a level holding level-0 pixel (y, x), and the pixel's place in it; null off the plane.
 * @param {ImageModel} img @param {number} lv @param {number} y @param {number} x
 * @returns {{tile: Tile, row: number, col: number} | null}
 */
export function pixelTile(img, lv, y, x) {
  const [fy, fx] = factors(img, lv);
  const ly = Math.floor(y / fy), lx = Math.floor(x / fx);
  const [H, W] = planeSize(img, lv);
  if (ly < 0 || lx < 0 || ly >= H || lx >= W) return null;
  const shape = tileShape(img, lv);
  const tile = tileAt(shape, [H, W], Math.floor(ly / shape[0]), Math.floor(lx / shape[1]));
  return { tile, row: ly - tile.y0, col: lx - tile.x0 };
}

/**
 * The offset of (row, col) of a displayed tile in its data, which is in dimension order: transposed
 * when the rows are the later dimension.
 * @param {number} row @param {number} col @param {number} h @param {number} w @param {boolean} transposed
 */
export const dataOffset = (row, col, h, w, transposed) => (transposed ? col * h + row : row * w + col);

/**
 * The selection of one channel of one tile of a level: one entry per dimension, as zl.read takes it.
 * @param {ImageModel} img @param {number[]} index level-0 index @param {number} lv @param {Tile} t
 * @param {number} channel
 * @returns {(number | number[])[]}
 */
export function tileSelection(img, index, lv, t, channel) {
  return levelIndex(img, index, lv).map((v, d) => d === img.yDim ? [t.y0, t.y1] : d === img.xDim ? [t.x0, t.x1] : d === img.cDim ? channel : v);
}

/**
 * Where [lo, hi) is cut into chunks: the chunk boundaries inside it, then hi.
 * @param {number} lo @param {number} hi @param {number} size the chunk edge of a regular dimension
 * @param {number[] | null} [bounds] a rectilinear dimension's chunk starts and end (the image model
 *   level's `bounds`), which `size` then does not describe
 * @returns {number[]}
 */
export function cuts(lo, hi, size, bounds = null) {
  const out = [];
  if (bounds) { for (const b of bounds) if (b > lo && b < hi) out.push(b); }
  else for (let b = (Math.floor(lo / size) + 1) * size; b < hi; b += size) out.push(b);
  out.push(hi);
  return out;
}

/**
 * A tile cut at its chunk boundaries: the rectangles (level pixels) of each chunk's part of it.
 * @param {Tile} t @param {number} ch chunk rows @param {number} cw chunk columns
 * @param {(number[] | null)[] | null} [bounds] [rows, columns] boundaries of a rectilinear grid (see `cuts`)
 * @returns {Rect[]}
 */
export function chunkParts(t, ch, cw, bounds = null) {
  const parts = [];
  let y0 = t.y0;
  for (const y1 of cuts(t.y0, t.y1, ch, bounds?.[0])) {
    let x0 = t.x0;
    for (const x1 of cuts(t.x0, t.x1, cw, bounds?.[1])) { parts.push({ y0, x0, y1, x1 }); x0 = x1; }
    y0 = y1;
  }
  return parts;
}

/**
 * The length a scale bar shows: 1, 2 or 5 times a power of ten, at most `target`.
 * @param {number} target physical length of the longest bar wanted
 */
export function niceLength(target) {
  const p = Math.pow(10, Math.floor(Math.log10(target)));
  return [1, 2, 5, 10].map(k => k * p).filter(v => v <= target).pop() ?? p;
}

/**
 * The dimension that "next / previous plane" keys step: the first one that is neither displayed nor the
 * channel dimension and has more than one index; -1 when there is none.
 * @param {import("./image.js").ImageModel} img
 */
export function steppedDim(img) {
  return img.axes.findIndex((_, d) => d !== img.yDim && d !== img.xDim && d !== img.cDim && img.levels[0].shape[d] > 1);
}
