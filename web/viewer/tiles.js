// Tiles: the grid each pyramid level is cut into (aligned to its chunks, so a tile reads whole chunks
// only), and a loader that keeps raw tiles (typed arrays, as zl.read returns them) in an LRU cache,
// runs a bounded number of reads at once, and serves the most wanted first.

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
 * @param {{y0: number, y1: number, x0: number, x1: number}} rect
 */
export function tilesIn(tile, size, rect) {
  const [th, tw] = tile, [H, W] = size;
  const ty0 = Math.max(0, Math.floor(rect.y0 / th)), ty1 = Math.min(Math.ceil(H / th), Math.ceil(rect.y1 / th));
  const tx0 = Math.max(0, Math.floor(rect.x0 / tw)), tx1 = Math.min(Math.ceil(W / tw), Math.ceil(rect.x1 / tw));
  const out = [];
  for (let ty = ty0; ty < ty1; ty++) {
    for (let tx = tx0; tx < tx1; tx++) {
      out.push({ ty, tx, y0: ty * th, x0: tx * tw, y1: Math.min((ty + 1) * th, H), x1: Math.min((tx + 1) * tw, W) });
    }
  }
  return out;
}

/**
 * @typedef {{key: string, load: () => Promise<{data: ArrayLike<number>, shape: number[]}>,
 *   meta?: any}} TileRequest
 * @typedef {{key: string, state: "queued" | "loading" | "ready" | "error", data?: ArrayLike<number>,
 *   shape?: number[], bytes: number, error?: Error, meta?: any, used: number}} TileEntry
 */

export class TileLoader {
  /**
   * @param {{concurrency?: number, budget?: number, onLoad?: (e: TileEntry) => void,
   *   onError?: (e: TileEntry) => void}} options budget: bytes of raw tiles kept
   */
  constructor({ concurrency = 6, budget = 384 << 20, onLoad, onError } = {}) {
    this.concurrency = concurrency;
    this.budget = budget;
    this.onLoad = onLoad ?? (() => {});
    this.onError = onError ?? (() => {});
    /** @type {Map<string, TileEntry>} */
    this.entries = new Map();
    /** @type {TileRequest[]} */
    this.queue = [];
    this.loading = 0;
    this.bytes = 0;
    this.loads = 0;       // loads started since creation (tests and the bench read it)
    this.clock = 0;
  }

  /** @param {string} key */
  get(key) {
    const e = this.entries.get(key);
    if (e) e.used = ++this.clock;
    return e;
  }

  /**
   * Replace what is waiting with `requests`, most wanted first. Loads in flight go on; ready and failed
   * tiles are not asked again.
   * @param {TileRequest[]} requests
   */
  want(requests) {
    this.queue = [];
    const seen = new Set();
    for (const r of requests) {
      if (seen.has(r.key)) continue;
      seen.add(r.key);
      const e = this.entries.get(r.key);
      if (e) { e.used = ++this.clock; if (e.state !== "queued") continue; }
      else this.entries.set(r.key, { key: r.key, state: "queued", bytes: 0, meta: r.meta, used: ++this.clock });
      this.queue.push(r);
    }
    for (const [k, e] of this.entries) if (e.state === "queued" && !seen.has(k)) this.entries.delete(k);
    this._pump();
  }

  get queued() { return this.queue.length; }

  /** Forget everything (a new source). Loads in flight finish into the void. */
  clear() {
    this.entries = new Map();
    this.queue = [];
    this.bytes = 0;
    this.generation = (this.generation ?? 0) + 1;
  }

  _pump() {
    while (this.loading < this.concurrency && this.queue.length) {
      const r = this.queue.shift();
      const e = this.entries.get(r.key);
      if (!e || e.state !== "queued") continue;
      e.state = "loading";
      this.loading++;
      this.loads++;
      const gen = this.generation;
      r.load().then(res => {
        if (gen !== this.generation) return;
        e.state = "ready";
        e.data = res.data;
        e.shape = res.shape;
        e.extra = res;
        e.bytes = res.data.byteLength ?? 0;
        this.bytes += e.bytes;
        this._evict();
        this.onLoad(e);
      }, err => {
        if (gen !== this.generation) return;
        e.state = "error";
        e.error = err;
        this.onError(e);
      }).finally(() => {
        if (gen !== this.generation) return;
        this.loading--;
        this._pump();
      });
    }
  }

  _evict() {
    if (this.bytes <= this.budget) return;
    const ready = [...this.entries.values()].filter(e => e.state === "ready").sort((a, b) => a.used - b.used);
    for (const e of ready) {
      if (this.bytes <= this.budget * 0.8) break;
      this.entries.delete(e.key);
      this.bytes -= e.bytes;
    }
  }
}
