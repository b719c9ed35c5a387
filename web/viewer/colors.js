// Window/level, colormaps and additive channel composites on the main thread, exactly as
// zarrlite.render does them in numpy (float32 arithmetic for data of 1-2 bytes, float64 otherwise), so a
// contrast change re-colours cached tiles without a round trip to the worker.

/** Colormap names offered for a channel, besides its OME colour and plain colours. "labels" colours
 * each integer id of a segmentation by a hash (0 stays black), as connectomics viewers do. */
export const COLORMAPS = ["gray", "viridis", "magma", "inferno", "labels"];

/**
 * The colour of a label id: bytes of (id * 2654435761) mod 2^32, lifted to 64..255; 0 is black.
 * @param {number} id
 * @returns {[number, number, number]}
 */
export function labelColor(id) {
  if (!id || !Number.isFinite(id)) return [0, 0, 0];
  const h = Number((BigInt(Math.trunc(id)) * 2654435761n) & 0xffffffffn);
  const lift = b => 64 + Math.floor((b * 191) / 255);
  return [lift(h & 255), lift((h >>> 8) & 255), lift((h >>> 16) & 255)];
}
export const NAMED_COLORS = { red: "#ff0000", green: "#00ff00", blue: "#0000ff", cyan: "#00ffff",
  magenta: "#ff00ff", yellow: "#ffff00", white: "#ffffff" };

/** @type {Record<string, Uint8Array>} 256 x RGB tables by name, filled by `setColormaps`. */
const TABLES = { gray: grayTable() };

function grayTable() {
  const t = new Uint8Array(768);
  for (let i = 0; i < 256; i++) t[3 * i] = t[3 * i + 1] = t[3 * i + 2] = i;
  return t;
}

/** @param {Record<string, number[]>} maps name -> 768 values (zarrlite.viewer_api.colormaps) */
export function setColormaps(maps) {
  for (const [name, values] of Object.entries(maps)) TABLES[name] = Uint8Array.from(values);
}

/**
 * The 256 x RGB table of a colormap name or a colour ("#rrggbb", "rrggbb", a name): a colour ramps
 * from black, rounded as numpy rounds (half to even).
 * @param {string} spec
 * @returns {Uint8Array}
 */
export function lut(spec) {
  if (TABLES[spec]) return TABLES[spec];
  if (spec === "labels") return TABLES.gray;    // for histograms; tiles colour labels by id
  const [r, g, b] = parseColor(spec);
  const t = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    t[3 * i] = roundHalfEven(i / 255 * r);
    t[3 * i + 1] = roundHalfEven(i / 255 * g);
    t[3 * i + 2] = roundHalfEven(i / 255 * b);
  }
  TABLES[spec] = t;
  return t;
}

function roundHalfEven(x) {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** @param {string} color @returns {[number, number, number]} */
export function parseColor(color) {
  const hex = (NAMED_COLORS[String(color).toLowerCase()] ?? String(color)).replace(/^#/, "");
  if (/^[0-9a-fA-F]{6}$/.test(hex)) {
    return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
  }
  return [255, 255, 255];
}

/** CSS colour for a swatch of a colormap or colour. */
export function swatch(spec) {
  if (spec === "gray") return "linear-gradient(90deg,#000,#fff)";
  if (spec === "labels") return "linear-gradient(90deg,#e6194b,#3cb44b,#ffe119,#4363d8,#f58231,#911eb4,#46f0f0)";
  if (TABLES[spec] && COLORMAPS.includes(spec)) {
    const t = TABLES[spec], stops = [0, 64, 128, 192, 255].map(i => `rgb(${t[3 * i]},${t[3 * i + 1]},${t[3 * i + 2]})`);
    return `linear-gradient(90deg,${stops.join(",")})`;
  }
  const [r, g, b] = parseColor(spec);
  return `linear-gradient(90deg,#000,rgb(${r},${g},${b}))`;
}

const f32 = Math.fround;

/**
 * A function value -> colormap index 0..255 for a window, the same numbers as zarrlite.render.normalize.
 * @param {[number, number]} window
 * @param {boolean} single float32 arithmetic (data of at most 2 bytes), else float64
 * @param {boolean} invert
 */
export function indexer(window, single, invert) {
  const [lo, hi] = window;
  const scale = hi !== lo ? 255 / (hi - lo) : 0;
  let fn;
  if (hi === lo) fn = v => (v > lo ? 255 : 0);
  else if (single) {
    const flo = f32(lo), fscale = f32(scale);
    fn = v => {
      if (Number.isNaN(v)) return 0;
      let x = f32(f32(f32(v) - flo) * fscale);
      x = x < 0 ? 0 : x > 255 ? 255 : x;
      return Math.trunc(f32(x + 0.5));
    };
  } else {
    fn = v => {
      if (Number.isNaN(v)) return 0;
      let x = (v - lo) * scale;
      x = x < 0 ? 0 : x > 255 ? 255 : x;
      return Math.trunc(x + 0.5);
    };
  }
  return invert ? v => 255 - fn(v) : fn;
}

/** The typed-array kinds for which a full value -> index table is cheaper than arithmetic: the offset
 * and size of their values. @param {ArrayLike<number>} data @returns {[number, number] | null} */
function tableRange(data) {
  if (data instanceof Uint8Array) return [0, 256];
  if (data instanceof Int8Array) return [-128, 256];
  if (data instanceof Uint16Array) return [0, 65536];
  if (data instanceof Int16Array) return [-32768, 65536];
  return null;
}

/**
 * Additive composite of channel planes into RGBA (alpha 255), clamped at 255 per component.
 * @param {{data: ArrayLike<number>, transposed?: boolean, window: [number, number], color: string,
 *          invert?: boolean, masked?: boolean}[]} layers each width x height (transposed: stored height x
 *   width); `masked`: NaN means missing (CF-decoded values), and a pixel missing in every layer is transparent
 * @param {number} width
 * @param {number} height
 * @param {Uint8ClampedArray} [out]
 */
export function composite(layers, width, height, out) {
  const n = width * height;
  out ??= new Uint8ClampedArray(n * 4);
  const range = layers.length === 1 && layers[0].color !== "labels" ? tableRange(layers[0].data) : null;
  if (range && out.byteOffset % 4 === 0) return compositeOne(layers[0], range, width, height, out);
  const acc = new Uint16Array(n * 3);
  const missing = new Uint8Array(n);   // masked layers whose value is missing there
  for (const layer of layers) {
    if (layer.color === "labels") { addLabels(acc, layer, width, height); continue; }
    const table = lut(layer.color);
    const single = isSmall(layer.data);
    const index = indexer(layer.window, single, !!layer.invert);
    const range = tableRange(layer.data);
    const data = layer.data;
    let idxOf;
    if (range) {
      const [offset, size] = range;
      const map = new Uint8Array(size);
      for (let i = 0; i < size; i++) map[i] = index(i + offset);
      idxOf = k => map[data[k] - offset];
    } else idxOf = k => index(data[k]);
    const tr = layer.transposed, masked = !!layer.masked && !range;
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) {
        const k = tr ? x * height + y : p;
        if (masked && Number.isNaN(data[k])) { missing[p]++; continue; }
        const i = 3 * idxOf(k);
        acc[3 * p] += table[i];
        acc[3 * p + 1] += table[i + 1];
        acc[3 * p + 2] += table[i + 2];
      }
    }
  }
  for (let p = 0; p < n; p++) {
    out[4 * p] = acc[3 * p];
    out[4 * p + 1] = acc[3 * p + 1];
    out[4 * p + 2] = acc[3 * p + 2];
    out[4 * p + 3] = layers.length && missing[p] === layers.length ? 0 : 255;
  }
  return out;
}

/**
 * One layer of 1- or 2-byte integers (the usual tile): each value's RGBA as one 32-bit word from a table
 * over the whole value range, so a pixel costs one lookup (the general loop took ~30 ms a 512² tile
 * while scrubbing on a busy machine, most of the page's time). Copying words keeps the bytes' order.
 * @param {{data: ArrayLike<number>, transposed?: boolean, window: [number, number], color: string,
 *          invert?: boolean}} layer
 * @param {[number, number]} range the offset and size of the data type's values (tableRange)
 * @param {number} width @param {number} height @param {Uint8ClampedArray} out
 */
function compositeOne(layer, [offset, size], width, height, out) {
  const words = wordTable(layer.color, layer.window, !!layer.invert, offset, size);
  const px = new Uint32Array(out.buffer, out.byteOffset, width * height), data = layer.data;
  if (layer.transposed) {
    for (let y = 0, p = 0; y < height; y++) for (let x = 0; x < width; x++, p++) px[p] = words[data[x * height + y] - offset];
  } else {
    for (let p = 0; p < px.length; p++) px[p] = words[data[p] - offset];
  }
  return out;
}

/** The last few RGBA word tables (compositeOne): the tiles of a view share one (building it costs as
 * much as colouring a 512² tile). */
const WORDS = new Map();

/**
 * RGBA of every value offset..offset+size-1 as 32-bit words (the bytes in memory order R, G, B, A).
 * @param {string} color @param {[number, number]} window @param {boolean} invert @param {number} offset @param {number} size
 */
function wordTable(color, window, invert, offset, size) {
  const table = lut(color);
  const key = `${color}|${window[0]}|${window[1]}|${invert}|${offset}|${size}`;
  const hit = WORDS.get(key);
  if (hit && hit.table === table) return hit.words;   // setColormaps may replace a table
  const index = indexer(window, true, invert);
  const words = new Uint32Array(size), bytes = new Uint8Array(words.buffer);
  for (let v = 0; v < size; v++) {
    const i = 3 * index(v + offset);
    bytes[4 * v] = table[i]; bytes[4 * v + 1] = table[i + 1]; bytes[4 * v + 2] = table[i + 2]; bytes[4 * v + 3] = 255;
  }
  WORDS.delete(key);
  WORDS.set(key, { table, words });
  if (WORDS.size > 4) WORDS.delete(/** @type {string} */ (WORDS.keys().next().value));
  return words;
}

function addLabels(acc, layer, width, height) {
  const cache = new Map();
  const data = layer.data, tr = layer.transposed;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const v = Number(data[tr ? x * height + y : p]);
      let c = cache.get(v);
      if (!c) { c = labelColor(v); cache.set(v, c); }
      acc[3 * p] += c[0]; acc[3 * p + 1] += c[1]; acc[3 * p + 2] += c[2];
    }
  }
}

/** Data of at most 2 bytes per value (zarrlite.render computes those in float32). */
export function isSmall(data) {
  return data.BYTES_PER_ELEMENT <= 2;
}

/**
 * Percentiles of finite values, as numpy's default (linear interpolation), from a strided sample.
 * @param {ArrayLike<number>[]} arrays
 * @param {number[]} ps percentiles 0..100
 */
export function percentiles(arrays, ps, maxSamples = 1 << 18) {
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const step = Math.max(1, Math.floor(total / maxSamples));
  const sample = [];
  for (const a of arrays) for (let i = 0; i < a.length; i += step) { const v = Number(a[i]); if (Number.isFinite(v)) sample.push(v); }
  if (!sample.length) return ps.map(() => 0);
  const sorted = Float64Array.from(sample).sort();
  return ps.map(p => {
    const at = (p / 100) * (sorted.length - 1), lo = Math.floor(at), hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
  });
}

/**
 * Histogram of finite values: `bins` counts over [min, max] of the data (integers: whole-number bins).
 * @param {ArrayLike<number>[]} arrays
 */
export function histogram(arrays, bins = 128, maxSamples = 1 << 20) {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const step = Math.max(1, Math.floor(total / maxSamples));   // a strided sample of big views
  let min = Infinity, max = -Infinity;
  for (const a of arrays) for (let i = 0; i < a.length; i += step) { const v = a[i]; if (v < min) min = v; if (v > max) max = v; }
  if (!(min <= max)) return { min: 0, max: 1, counts: new Uint32Array(bins) };
  const integer = arrays.every(a => !(a instanceof Float32Array || a instanceof Float64Array));
  if (integer) {                   // whole-number bins: no empty comb teeth between integer values
    const width = Math.max(1, Math.ceil((max - min + 1) / bins));
    bins = Math.ceil((max - min + 1) / width);
    max = min + bins * width;
  } else if (max === min) max = min + 1;
  const counts = new Uint32Array(bins), k = bins / (max - min);
  for (const a of arrays) for (let i = 0; i < a.length; i += step) {
    const v = a[i];
    if (v >= min && v <= max) counts[Math.min(bins - 1, Math.floor((v - min) * k))]++;
  }
  return { min, max, counts };
}
