// The chunk map overlay: the chunk and shard grid of the plane on screen, which chunks are stored
// (not stored = read as the fill value), and how large each is stored — from viewer_api.chunk_map,
// asked for once the view rests, with a margin so that small pans need no new answer.

import { factors, levelIndex, planeSize } from "./geometry.js";
import { esc, formatBytes } from "./panels.js";

export const CHUNK_MAP_HINT = "Chunk and shard grid, which chunks are stored, their stored size.";

export class ChunkMapLayer {
  /**
   * @param {import("./app.js").App} app its chunkInfo holds the last answer (tests read it)
   * @param {HTMLElement} statsEl the statistics panel
   * @param {() => void} onAnswer an answer arrived (redraw)
   */
  constructor(app, statsEl, onAnswer) {
    this.app = app;
    this.statsEl = statsEl;
    this.onAnswer = onAnswer;
    this.timer = 0;
    this.html = "";
  }

  /** Whether an answer is being waited for (the page is not idle meanwhile). */
  get pending() { return !!this.timer; }

  /** The map was turned off: the panel says what it would show. */
  reset() {
    this.statsEl.textContent = CHUNK_MAP_HINT;
    this.html = "";
  }

  /**
   * Paint the map of level `lv` over the view; ask for a new answer when the one at hand does not cover it.
   * @param {import("./paint.js").Screen} screen @param {number} lv
   */
  draw(screen, lv) {
    const app = this.app, img = app.image, viewport = app.viewport;
    if (!img) return;
    const g = screen.drawOverlay();
    const Ls = img.levels[lv];
    const [fy, fx] = factors(img, lv);
    const [H, W] = planeSize(img, lv);
    const r = viewport.worldRect();
    const region = [Math.max(0, Math.floor(r.y0 / fy)), Math.min(H, Math.ceil(r.y1 / fy)), Math.max(0, Math.floor(r.x0 / fx)), Math.min(W, Math.ceil(r.x1 / fx))];
    const chIdx = img.channels[app.selected]?.index ?? 0;
    const plane = levelIndex(img, app.index, lv).map((v, d) => (d === img.yDim || d === img.xDim ? null : d === img.cDim ? chIdx : v));
    const key = JSON.stringify([Ls.path, plane]);
    const info = app.chunkInfo;
    const covers = info && info.key === key && info.region[0] <= region[0] && info.region[1] >= region[1] && info.region[2] <= region[2] && info.region[3] >= region[3];
    if (!covers && !this.timer) {
      this.timer = setTimeout(async () => {
        this.timer = 0;
        const [ch, cw] = [Ls.chunks[img.yDim], Ls.chunks[img.xDim]];
        const m = [Math.max(0, region[0] - ch), Math.min(H, region[1] + ch), Math.max(0, region[2] - cw), Math.min(W, region[3] + cw)];
        try {
          const res = await app.zl.viewer("chunk_map", [Ls.path, plane, m]);
          app.chunkInfo = { key, region: m, lv, res };
        } catch (err) {
          app.chunkInfo = { key, region: m, lv, res: null, error: err };
          this.statsEl.textContent = `chunk map failed: ${err.message}`;
        }
        this.onAnswer();
      }, 150);
    }
    const answer = info?.key === key ? info.res : null;
    const html = paintChunkMap(g, viewport, {
      lv, path: Ls.path, fy, fx, H, W, region, res: answer,
      chunk: [Ls.chunks[img.yDim], Ls.chunks[img.xDim]],
      shard: Ls.shards ? [Ls.shards[img.yDim], Ls.shards[img.xDim]] : null,
      bounds: Ls.bounds ? [Ls.bounds[img.yDim], Ls.bounds[img.xDim]] : null,
    });
    if (html !== null && html !== this.html) this.statsEl.innerHTML = this.html = html;
  }
}

/**
 * Paint the overlay and return the statistics panel's HTML (null while no answer is at hand).
 * @param {CanvasRenderingContext2D} g the overlay, in CSS pixels
 * @param {import("./viewport.js").Viewport} viewport
 * @param {{lv: number, path: string, fy: number, fx: number, H: number, W: number,
 *   region: number[], chunk: number[], shard: number[] | null, res: any,
 *   bounds?: (number[] | null)[] | null}} m the level's geometry (level pixels, factors to level 0), the
 *   visible region [y0, y1, x0, x1], viewer_api.chunk_map's answer and, for a rectilinear grid, where
 *   its stored chunks (shards when sharded) start along rows and columns
 * @returns {string | null}
 */
export function paintChunkMap(g, viewport, m) {
  const { fy, fx, H, W, region, res } = m;
  // cells are stored chunks, or regular inner chunks of (possibly rectilinear) shards
  const [cby, cbx] = (!m.shard && m.bounds) || [null, null];
  let html = null;
  if (res && !res.truncated) {
    const [rch, rcw] = res.chunk;
    const raw = res.rawChunkBytes;
    const toS = (x, y) => viewport.toScreen(x * fx, y * fy);
    for (const [row, col, n] of res.cells) {
      const [x0, y0] = toS(edge(col, rcw, W, cbx), edge(row, rch, H, cby));
      const [x1, y1] = toS(edge(col + 1, rcw, W, cbx), edge(row + 1, rch, H, cby));
      if (x1 < 0 || y1 < 0 || x0 > viewport.width || y0 > viewport.height) continue;
      if (n === null) {
        g.fillStyle = "rgba(120,120,120,0.25)";
        g.fillRect(x0, y0, x1 - x0, y1 - y0);
        hatch(g, x0, y0, x1 - x0, y1 - y0);
      } else if (n >= 0) {
        const t = Math.max(0, Math.min(1, Math.log2(raw / Math.max(1, n)) / 5));  // x1 .. x32 compression
        g.fillStyle = `hsla(${20 + 180 * t}, 85%, 55%, 0.13)`;
        g.fillRect(x0, y0, x1 - x0, y1 - y0);
      }
      if (x1 - x0 >= 58 && y1 - y0 >= 30) {
        g.font = "11px ui-monospace, monospace";
        g.fillStyle = "#fff";
        g.shadowColor = "#000"; g.shadowBlur = 3;
        const lx = Math.max(x0, 0) + 4, ly = Math.max(y0, 0) + 13;     // keep the label on screen
        g.fillText(n === null ? "not stored" : n < 0 ? "stored" : formatBytes(n), lx, ly);
        if (n > 0) g.fillText(`×${(raw / n).toFixed(1)}`, lx, ly + 13);
        g.shadowBlur = 0;
      }
    }
    html = stats(m, res, region, rch, rcw, raw, cby, cbx);
  } else if (res?.truncated) {
    html = "Too many chunks in view to look up each: zoom in to see which are stored and their sizes.";
  }
  gridLines(g, viewport, m.chunk, "rgba(79,210,255,0.55)", 1, H, W, fx, fy, m.shard ? null : m.bounds);
  if (m.shard) gridLines(g, viewport, m.shard, "rgba(255,210,77,0.9)", 2, H, W, fx, fy, m.bounds);
  return html;
}

/** The panel: counts and sizes of the chunks on screen (the answer covers a margin around the view). */
function stats(m, res, region, rch, rcw, raw, cby, cbx) {
  const onScreen = res.cells.filter(([row, col]) => edge(col + 1, rcw, m.W, cbx) > region[2] &&
    edge(col, rcw, m.W, cbx) < region[3] && edge(row + 1, rch, m.H, cby) > region[0] && edge(row, rch, m.H, cby) < region[1]);
  const missing = onScreen.filter(c => c[2] === null).length;
  const sizes = onScreen.map(c => c[2]).filter(n => n !== null && n >= 0).sort((a, b) => a - b);
  const total = sizes.reduce((a, b) => a + b, 0);
  return `<table>` +
    `<tr><td>level</td><td>${m.lv} (<code>${esc(m.path)}</code>)</td></tr>` +
    `<tr><td>chunk</td><td>${res.chunk.join(" × ")} px${res.shard ? `, shard ${res.shard.join(" × ")}` : ""}</td></tr>` +
    `<tr><td>in view</td><td>${onScreen.length} chunks, ${missing} not stored</td></tr>` +
    (sizes.length ? `<tr><td>stored</td><td>${formatBytes(total)}, median ${formatBytes(sizes[sizes.length >> 1])} (×${(raw * sizes.length / Math.max(1, total)).toFixed(1)})</td></tr>` : "") +
    `</table><div class="legend"><span style="color:#4fd2ff">chunk</span>${m.shard ? '<span style="color:#ffd24d">shard</span>' : ""}` +
    `<span style="color:#999">not stored (fill value)</span></div><div class="dim">×: compression ratio of the chunk (raw / stored)</div>`;
}

function hatch(g, x, y, w, h) {
  g.save();
  g.beginPath(); g.rect(x, y, w, h); g.clip();
  g.strokeStyle = "rgba(200,200,200,0.35)"; g.lineWidth = 1;
  g.beginPath();
  for (let k = -h; k < w; k += 10) { g.moveTo(x + k, y + h); g.lineTo(x + k + h, y); }
  g.stroke();
  g.restore();
}

/**
 * Grid lines every [ch, cw] level pixels over the visible part of the plane (none when too dense), or at
 * a rectilinear grid's boundaries.
 * @param {CanvasRenderingContext2D} g @param {import("./viewport.js").Viewport} viewport
 * @param {number[]} cell [ch, cw] @param {string} color @param {number} width
 * @param {number} H @param {number} W @param {number} fx @param {number} fy
 * @param {(number[] | null)[] | null} [bounds] [rows, columns] boundaries where the edges vary
 */
function gridLines(g, viewport, [ch, cw], color, width, H, W, fx, fy, bounds = null) {
  const r = viewport.worldRect();
  const [by, bx] = bounds ?? [null, null];
  if ((!bx && cw * fx * viewport.zoom < 4) || (!by && ch * fy * viewport.zoom < 4)) return;
  g.strokeStyle = color; g.lineWidth = width;
  g.beginPath();
  // the boundaries in view: every chunk's of a regular dimension, those listed of a rectilinear one
  const visible = (lo, hi, size, n, b) => {
    if (b) return b.filter(v => v >= lo - 1 && v <= hi + 1);
    const k0 = Math.max(0, Math.floor(lo / size)), k1 = Math.min(Math.ceil(n / size), Math.ceil(hi / size));
    return Array.from({ length: Math.max(0, k1 - k0 + 1) }, (_, i) => Math.min((k0 + i) * size, n));
  };
  const [left, top] = viewport.toScreen(0, 0), [right, bottom] = viewport.toScreen(W * fx, H * fy);
  for (const c of visible(r.x0 / fx, r.x1 / fx, cw, W, bx)) {
    const [x] = viewport.toScreen(c * fx, 0);
    g.moveTo(x, top); g.lineTo(x, bottom);
  }
  for (const q of visible(r.y0 / fy, r.y1 / fy, ch, H, by)) {
    const [, y] = viewport.toScreen(0, q * fy);
    g.moveTo(left, y); g.lineTo(right, y);
  }
  g.stroke();
}

/** Where chunk `k` of a dimension starts (k = the count: where the last ends), cut at the level's end `n`. */
function edge(k, size, n, bounds) {
  return bounds ? bounds[Math.min(k, bounds.length - 1)] : Math.min(k * size, n);
}
