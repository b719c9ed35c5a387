// The tile loader: keeps raw tiles (typed arrays, as zl.read returns them) in an LRU cache, runs a
// bounded number of loads at once, serves the most wanted first and aborts the loads no longer wanted.
// While the plane changes fast, the loads of each new plane wait a short settle time (longer when the
// changes come slower: a loaded machine delays them), so planes only passed cost nothing and the one the
// user rests on has every slot. While a key is held down its repeats hold the loads (`hold`) and its
// release starts the plane rested on at once (`release`): the end of that burst is known, not guessed. Spare loads (prefetch)
// run only when nothing visible waits, and the next change of view aborts those it does not want.
// Pure: a load is any function of an AbortSignal that returns a promise (requests.js makes them).

/**
 * @typedef {{data: ArrayLike<number> & {byteLength?: number}, shape: number[], bad?: any[]}} TileData
 * @typedef {{key: string, load: (signal: AbortSignal) => Promise<TileData>, meta?: any, group?: string,
 *   cheap?: boolean}} TileRequest group: the plane a tile shows (a change of group is a change of plane);
 *   cheap: never held back (the coarsest level of a pyramid, the placeholder of every plane passed)
 * @typedef {{key: string, state: "queued" | "loading" | "ready" | "error", data?: ArrayLike<number>,
 *   shape?: number[], extra?: TileData, bytes: number, error?: Error, meta?: any, used: number,
 *   spare?: boolean}} TileEntry
 * @typedef {{entry: TileEntry, controller: AbortController, generation: number, spare: boolean}} Load
 */

/** ms the loads of a new plane wait at least while planes change fast (taps, a dragged slider: ~30-60
 * ms a change), measured with bench/viewer_bench.py --cases scrub; a change that came `gap` ms after the
 * previous one waits 1.5 x gap if longer (at most twice the settle time: a person tapping a key every
 * 150 ms should not wait longer), so presses a busy machine spaces out still fall inside it */
export const SETTLE_MS = 60;

/** Loads at once of a plane rested on in the plane view: every tile of a 2048² view of 512² chunks.
 * With all of a plane's reads queued in the worker it never waits for the page to ask for the next one
 * (the page is busy painting as tiles arrive): 16 tile reads all at once took 246 ms, 6 at a time 399
 * ms (median of 5, load 8; bench/viewer_bench.py --cases scrub: the final plane 0.80 s vs 1.03 s). A
 * plane that may only be passed keeps `concurrency`, so a guess costs fewer requests. */
export const VIEW_LOADS = 16;

export class TileLoader {
  /**
   * @param {{concurrency?: number, rested?: number, budget?: number, onLoad?: (e: TileEntry) => void,
   *   onError?: (e: TileEntry) => void, onIdle?: () => void, settle?: number, burst?: number,
   *   spares?: number, now?: () => number}} [options] rested: loads at once once the plane is the one
   *   rested on (a release, or `burst` ms without a change; `concurrency` until then); budget: bytes
   *   of raw tiles kept; settle: ms the loads of a new plane wait when the plane changed less than
   *   `burst` ms before; spares: prefetch loads at once; onIdle: nothing visible is loading or waiting
   *   any more (after it was)
   */
  constructor({ concurrency = 6, rested = concurrency, budget = 384 << 20, onLoad, onError, onIdle, settle = 0,
                burst = 250, spares = 2, now = () => performance.now() } = {}) {
    this.concurrency = concurrency;
    this.rested = rested;
    this.budget = budget;
    this.onLoad = onLoad ?? (() => {});
    this.onError = onError ?? (() => {});
    this.onIdle = onIdle ?? (() => {});
    this.settle = settle;
    this.burst = burst;
    this.spares = spares;
    this.now = now;
    /** @type {Map<string, TileEntry>} */
    this.entries = new Map();
    /** @type {TileRequest[]} */
    this.queue = [];
    /** Prefetch requests waiting, most wanted first. @type {TileRequest[]} */
    this.spareQueue = [];
    /** Loads of this generation in flight and still wanted (visible or spare), by key. @type {Map<string, Load>} */
    this.inflight = new Map();
    // Loads of this generation aborted but not yet settled: they keep their slot until they settle, so
    // a read that cannot be cancelled still bounds how many run at once.
    this.aborting = 0;
    // clear() starts a generation: loads of older ones are counted nowhere and settle into the void
    this.generation = 0;
    this.bytes = 0;
    this.loads = 0;       // visible loads started since creation (tests and the bench read them)
    this.aborts = 0;      // loads aborted since creation
    this.prefetched = 0;  // spare loads started since creation
    this.clock = 0;
    /** @type {string | undefined} */
    this.group = undefined;
    this.groupAt = -Infinity;
    this.holdUntil = -Infinity;
    /** @type {any} */
    this.holdTimer = null;
    this.dirty = false;   // visible work changed since onIdle was last called
    this.released = false; // a hold ended by release(): the next change of plane starts at once
    this.restedOn = true;  // the current plane is known to be the one rested on (it gets `rested` slots)
  }

  /** Visible loads of the current generation in flight (aborted ones included until they settle). */
  get loading() { return this.aborting + [...this.inflight.values()].filter(l => !l.spare).length; }

  /** Spare (prefetch) loads in flight. */
  get prefetching() { return [...this.inflight.values()].filter(l => l.spare).length; }

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
   * not asked again. Spare loads it wants become visible ones; when it asks for anything new (the view
   * changed), the other spare loads are aborted and the prefetch queue is dropped.
   * @param {TileRequest[]} requests
   */
  want(requests) {
    const group = requests.find(r => r.group !== undefined)?.group;
    if (group !== undefined && group !== this.group) {
      const now = this.now();
      const gap = now - this.groupAt;
      this.restedOn = this.released || this.group === undefined;   // the first plane shown is no guess
      if (this.released) this.released = false;   // the plane rested on after a held key: at once
      else if (this.group !== undefined && gap < this.burst && this.settle > 0) {
        this._hold(Math.max(this.holdUntil, now + Math.min(2 * this.settle, Math.max(this.settle, 1.5 * gap))));
      }
      this.group = group;
      this.groupAt = now;
      this.dirty = true;
    }
    this.queue = [];
    const seen = new Set();
    let fresh = false;
    for (const r of requests) {
      if (seen.has(r.key)) continue;
      seen.add(r.key);
      const e = this.entries.get(r.key);
      if (e) {
        e.used = ++this.clock;
        if (e.spare) {   // prefetched (or being): now a visible tile, and the view has moved on
          e.spare = false;
          fresh = true;
          const load = this.inflight.get(r.key);
          if (load) load.spare = false;
        }
        if (e.state !== "queued") continue;
      } else {
        this.entries.set(r.key, { key: r.key, state: "queued", bytes: 0, meta: r.meta, used: ++this.clock });
        fresh = true;
      }
      this.queue.push(r);
    }
    if (fresh) { this.spareQueue = []; this.dirty = true; }
    for (const [k, e] of this.entries) {
      if (e.state === "queued" && !seen.has(k) && (!e.spare || fresh)) this.entries.delete(k);
    }
    for (const [k, load] of this.inflight) {
      if (seen.has(k) || (load.spare && !fresh)) continue;
      this.inflight.delete(k);
      this.entries.delete(k);
      this.aborting++;
      this.aborts++;
      load.controller.abort();
    }
    this._pump();
  }

  /**
   * Load `requests` (tiles the view may want next) when nothing visible is waiting, at most `spares` at
   * once, into the same cache; replaces the prefetch queue. Tiles already here are skipped.
   * @param {TileRequest[]} requests
   */
  prefetch(requests) {
    this.spareQueue = [];
    for (const r of requests) {
      if (this.entries.has(r.key)) continue;
      this.entries.set(r.key, { key: r.key, state: "queued", bytes: 0, meta: r.meta, used: 0, spare: true });
      this.spareQueue.push(r);
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
    this.spareQueue = [];
    this.bytes = 0;
    this.group = undefined;
    this.holdUntil = -Infinity;
    this.released = false;
    clearTimeout(this.holdTimer);
  }

  /**
   * Hold the loads of the planes asked for from now on (cheap ones excepted) for `ms`: a key held down
   * repeats (each repeat holds again; `ms` bounds the wait when its release is never seen).
   * @param {number} ms
   */
  hold(ms) {
    this.released = false;
    this._hold(this.now() + ms);
  }

  /**
   * End a hold now: the plane rested on (the held key was let go) starts at once, with every slot. When
   * `group` is the plane already asked for, its waiting loads start here, not at the caller's next frame
   * (on a busy page that came 10-340 ms after the release: bench/viewer_bench.py scrub); otherwise the
   * next `want`, of that plane, starts it.
   * @param {string} [group] the plane rested on (TileRequest.group)
   */
  release(group) {
    this.restedOn = true;
    this.released = group === undefined || group !== this.group;
    this.holdUntil = -Infinity;
    clearTimeout(this.holdTimer);
    if (!this.released) this._pump();
  }

  /** Keep the loads of the current plane from starting until `until` (cheap ones excepted). @param {number} until */
  _hold(until) {
    this.holdUntil = until;
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => this._pump(), Math.max(0, until - this.now()) + 1);
  }

  _pump() {
    const held = this.now() < this.holdUntil;
    this.restedOn ||= this.now() - this.groupAt >= this.burst;
    const slots = this.restedOn ? this.rested : this.concurrency;
    for (let i = 0; i < this.queue.length && this.loading + this.prefetching < slots;) {
      const r = this.queue[i];
      if (held && !r.cheap) { i++; continue; }
      this.queue.splice(i, 1);
      this._start(r, false);
    }
    while (!this.queue.length && !this.loading && this.spareQueue.length && this.prefetching < this.spares) {
      this._start(/** @type {TileRequest} */ (this.spareQueue.shift()), true);
    }
    if (this.dirty && !this.queue.length && !this.loading) { this.dirty = false; this.onIdle(); }
  }

  /** @param {TileRequest} r @param {boolean} spare */
  _start(r, spare) {
    const e = this.entries.get(r.key);
    if (!e || e.state !== "queued") return;
    e.state = "loading";
    const load = { entry: e, controller: new AbortController(), generation: this.generation, spare };
    this.inflight.set(r.key, load);
    if (spare) this.prefetched++;
    else this.loads++;
    let p;
    try { p = Promise.resolve(r.load(load.controller.signal)); } catch (err) { p = Promise.reject(err); }
    p.then(res => this._settle(load, res, null), err => this._settle(load, null, err ?? new Error("tile load failed")));
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
    // a spare load that failed is forgotten: the view asks again if it comes to want the tile
    if (load.spare && !res) { this.entries.delete(e.key); this._pump(); return; }
    if (!load.spare) this.dirty = true;
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
    try { if (!load.spare) (res ? this.onLoad : this.onError)(e); } finally { this._pump(); }
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
