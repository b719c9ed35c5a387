// TileLoader (web/viewer/tiles.js): loads are fake promises the test resolves by hand, so every
// interleaving of "loads in flight" and "the view changed" is spelled out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TileLoader } from "../../web/viewer/tiles.js";

/** A request whose load waits until the test settles it; `signals` records the signal it got. */
function deferred(key) {
  const r = { key, started: 0, signal: null, resolve: null, reject: null };
  r.load = signal => {
    r.started++;
    r.signal = signal ?? null;
    return new Promise((resolve, reject) => { r.resolve = resolve; r.reject = reject; });
  };
  return r;
}

const tile = n => ({ data: new Uint8Array(n), shape: [1, n] });
const flush = () => new Promise(r => setTimeout(r, 0));

test("loads at most `concurrency` at once, most wanted first", async () => {
  const loader = new TileLoader({ concurrency: 2 });
  const rs = ["a", "b", "c"].map(deferred);
  loader.want(rs);
  assert.deepEqual(rs.map(r => r.started), [1, 1, 0]);
  assert.equal(loader.loading, 2);
  assert.equal(loader.queued, 1);
  rs[0].resolve(tile(4));
  await flush();
  assert.deepEqual(rs.map(r => r.started), [1, 1, 1]);
  assert.equal(loader.get("a").state, "ready");
  assert.equal(loader.bytes, 4);
});

test("after clear() with loads in flight, new loads still start and finish", async () => {
  const loaded = [];
  const loader = new TileLoader({ concurrency: 2, onLoad: e => loaded.push(e.key) });
  const old = ["a", "b"].map(deferred);
  loader.want(old);                 // both slots busy
  loader.clear();                   // another array: the old loads are not wanted any more
  const fresh = ["c", "d"].map(deferred);
  loader.want(fresh);
  old.forEach(r => r.resolve(tile(1)));
  await flush();
  // the new view's loads must run, whether they started at once or once the old ones finished
  for (const r of fresh) assert.equal(r.started, 1, `${r.key} never started`);
  fresh.forEach(r => r.resolve(tile(2)));
  await flush();
  assert.deepEqual(loaded, ["c", "d"]);                  // nothing of the old generation arrives
  assert.equal(loader.loading, 0);
  assert.equal(loader.get("c").state, "ready");
  assert.equal(loader.get("a"), undefined);
});

test("clear() while old loads fail later: they are not reported and do not stall the loader", async () => {
  const errors = [];
  const loader = new TileLoader({ concurrency: 1, onError: e => errors.push(e.key) });
  const old = deferred("a");
  loader.want([old]);
  loader.clear();
  const fresh = deferred("b");
  loader.want([fresh]);
  old.reject(new Error("read failed"));
  await flush();
  assert.equal(fresh.started, 1);
  fresh.resolve(tile(1));
  await flush();
  assert.deepEqual(errors, []);
  assert.equal(loader.loading, 0);
  assert.equal(loader.queued, 0);
});

test("the in-flight count is that of the current generation", async () => {
  const loader = new TileLoader({ concurrency: 4 });
  const old = ["a", "b", "c"].map(deferred);
  loader.want(old);
  assert.equal(loader.loading, 3);
  loader.clear();
  assert.equal(loader.loading, 0);     // idle: nothing of the new view is loading
  const fresh = deferred("d");
  loader.want([fresh]);
  assert.equal(loader.loading, 1);
  old.forEach(r => r.resolve(tile(1)));
  await flush();
  assert.equal(loader.loading, 1);
  fresh.resolve(tile(1));
  await flush();
  assert.equal(loader.loading, 0);
});

test("a failed load is an error entry, reported once, and not asked again", async () => {
  const errors = [];
  const loader = new TileLoader({ onError: e => errors.push([e.key, e.error.message]) });
  const r = deferred("a");
  loader.want([r]);
  r.reject(new Error("bad chunk"));
  await flush();
  assert.deepEqual(errors, [["a", "bad chunk"]]);
  assert.equal(loader.get("a").state, "error");
  loader.want([r]);
  assert.equal(r.started, 1);
});

test("ready tiles beyond the budget are evicted, least recently used first", async () => {
  const loader = new TileLoader({ budget: 10 });
  const rs = ["a", "b", "c"].map(deferred);
  loader.want(rs);
  rs[0].resolve(tile(4));
  rs[1].resolve(tile(4));
  await flush();
  loader.get("a");                     // a is used again: b is the oldest
  rs[2].resolve(tile(4));
  await flush();
  assert.ok(loader.bytes <= 8, String(loader.bytes));
  assert.equal(loader.get("b"), undefined);
  assert.equal(loader.get("a").state, "ready");
  assert.equal(loader.get("c").state, "ready");
});

const abortError = () => Object.assign(new Error("aborted"), { name: "AbortError" });

test("each load gets an AbortSignal; a tile no longer wanted is aborted, not an error", async () => {
  const errors = [], loaded = [];
  const loader = new TileLoader({ concurrency: 2, onError: e => errors.push(e.key), onLoad: e => loaded.push(e.key) });
  const [a, b] = ["a", "b"].map(deferred);
  loader.want([a, b]);
  assert.ok(a.signal instanceof AbortSignal && b.signal instanceof AbortSignal);
  loader.want([b]);                    // a left the view
  assert.equal(a.signal.aborted, true);
  assert.equal(b.signal.aborted, false);
  assert.equal(loader.get("a"), undefined);
  assert.equal(loader.aborts, 1);
  a.reject(abortError());
  b.resolve(tile(1));
  await flush();
  assert.deepEqual(errors, []);
  assert.deepEqual(loaded, ["b"]);
  assert.equal(loader.loading, 0);
  loader.want([a, b]);                 // back in view: loaded again
  assert.equal(a.started, 2);
});

test("an aborted load keeps its slot until it settles, then the next one starts", async () => {
  const loader = new TileLoader({ concurrency: 1 });
  const [a, b] = ["a", "b"].map(deferred);
  loader.want([a]);
  loader.want([b]);                    // the slider passed a's plane
  assert.equal(a.signal.aborted, true);
  assert.equal(b.started, 0);          // a read that ignores its signal still occupies the slot
  assert.equal(loader.loading, 1);
  a.reject(abortError());
  await flush();
  assert.equal(b.started, 1);
});

test("a load that finishes in spite of its abort is dropped, not kept as a tile", async () => {
  const loader = new TileLoader();
  const a = deferred("a");
  loader.want([a]);
  loader.want([]);
  a.resolve(tile(8));
  await flush();
  assert.equal(loader.get("a"), undefined);
  assert.equal(loader.bytes, 0);
  assert.equal(loader.loading, 0);
});

test("scrubbing: only the planes still wanted keep loading", async () => {
  const loader = new TileLoader({ concurrency: 4 });
  const planes = [];
  for (let z = 0; z < 5; z++) {
    const rs = [0, 1].map(t => deferred(`z${z}|${t}`));
    planes.push(rs);
    loader.want(rs);
  }
  const aborted = planes.flat().filter(r => r.signal?.aborted).map(r => r.key);
  assert.deepEqual(aborted, ["z0|0", "z0|1", "z1|0", "z1|1"]);
  assert.equal(loader.aborts, 4);
  // every aborted load settles (rejected by its signal): the slots go to the last plane
  planes.flat().filter(r => r.signal?.aborted).forEach(r => r.reject(abortError()));
  await flush();
  assert.deepEqual(planes[4].map(r => r.started), [1, 1]);
  assert.deepEqual(planes.slice(2, 4).flat().map(r => r.started), [0, 0, 0, 0]);
});

test("clear() aborts every load in flight", () => {
  const loader = new TileLoader({ concurrency: 3 });
  const rs = ["a", "b", "c"].map(deferred);
  loader.want(rs);
  loader.clear();
  assert.deepEqual(rs.map(r => r.signal.aborted), [true, true, true]);
  assert.equal(loader.loading, 0);
});
