// The tile loader: keeps raw tiles (typed arrays, as zl.read returns them) in an LRU cache, runs a
// bounded number of loads at once, serves the most wanted first and aborts the loads no longer wanted.
// Pure: a load is any function of an AbortSignal that returns a promise (requests.js makes them).

/**
 * @typedef {{data: ArrayLike<number> & {byteLength?: number}, shape: number[], bad?: any[]}} TileData
 * @typedef {{key: string, load: (signal: AbortSignal) => Promise<TileData>, meta?: any}} TileRequest
 * @typedef {{key: string, state: "queued" | "loading" | "ready" | "error", data?: ArrayLike<number>,
 *   shape?: number[], extra?: TileData, bytes: number, error?: Error, meta?: any, used: number}} TileEntry
 * @typedef {{entry: TileEntry, controller: AbortController, generation: number}} Load
 */

export class TileLoader {
  /**
   * @param {{concurrency?: number, budget?: number, onLoad?: (e: TileEntry) => void,
   *   onError?: (e: TileEntry) => void}} [options] budget: bytes of raw tiles kept
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
    /** Loads of this generation in flight and still wanted, by key. @type {Map<string, Load>} */
    this.inflight = new Map();
    // Loads of this generation aborted but not yet settled: they keep their slot until they settle, so
    // a read that cannot be cancelled still bounds how many run at once.
    this.aborting = 0;
    // clear() starts a generation: loads of older ones are counted nowhere and settle into the void
    this.generation = 0;
    this.bytes = 0;
    this.loads = 0;       // loads started since creation (tests and the bench read them)
    this.aborts = 0;      // loads aborted since creation
    this.clock = 0;
  }

  /** Loads of the current generation in flight (aborted ones included until they settle). */
  get loading() { return this.inflight.size + this.aborting; }

  get queued() { return this.queue.length; }

  /** @param {string} key */
  get(key) {
    const e = this.entries.get(key);
    if (e) e.used = ++this.clock;
    return e;
  }

  /**
   * Replace what is waiting with `requests`, most wanted first, and abort the loads in flight that are
   * not among them (tiles that left the view, planes the slider has passed). Ready and failed tiles are
   * not asked again.
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
    for (const [k, load] of this.inflight) {
      if (seen.has(k)) continue;
      this.inflight.delete(k);
      this.entries.delete(k);
      this.aborting++;
      this.aborts++;
      load.controller.abort();
    }
    this._pump();
  }

  /** Forget everything (another array, source or axes) and abort every load in flight. */
  clear() {
    for (const load of this.inflight.values()) { this.aborts++; load.controller.abort(); }
    this.inflight = new Map();
    this.aborting = 0;
    this.generation++;
    this.entries = new Map();
    this.queue = [];
    this.bytes = 0;
  }

  _pump() {
    while (this.loading < this.concurrency && this.queue.length) {
      const r = /** @type {TileRequest} */ (this.queue.shift());
      const e = this.entries.get(r.key);
      if (!e || e.state !== "queued") continue;
      e.state = "loading";
      const load = { entry: e, controller: new AbortController(), generation: this.generation };
      this.inflight.set(r.key, load);
      this.loads++;
      let p;
      try { p = Promise.resolve(r.load(load.controller.signal)); } catch (err) { p = Promise.reject(err); }
      p.then(res => this._settle(load, res, null), err => this._settle(load, null, err ?? new Error("tile load failed")));
    }
  }

  /**
   * @param {Load} load
   * @param {TileData | null} res
   * @param {any} err
   */
  _settle(load, res, err) {
    if (load.generation !== this.generation) return;
    // aborted: not an error and not a tile, whatever the load did with its signal
    if (load.controller.signal.aborted) { this.aborting--; this._pump(); return; }
    const e = load.entry;
    this.inflight.delete(e.key);
    if (res) {
      e.state = "ready";
      e.data = res.data;
      e.shape = res.shape;
      e.extra = res;
      e.bytes = res.data.byteLength ?? 0;
      this.bytes += e.bytes;
      this._evict();
    } else {
      e.state = "error";
      e.error = err;
    }
    try { (res ? this.onLoad : this.onError)(e); } finally { this._pump(); }
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
