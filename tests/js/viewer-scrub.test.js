// TileLoader scheduling while scrubbing (web/viewer/tiles.js): the settle time of planes changed fast,
// and spare (prefetch) loads. A fake clock drives the settle time; loads are promises the test settles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TileLoader } from "../../web/viewer/tiles.js";

function deferred(key, extra = {}) {
  const r = { key, started: 0, signal: null, resolve: null, reject: null, ...extra };
  r.load = signal => {
    r.started++;
    r.signal = signal;
    return new Promise((resolve, reject) => { r.resolve = resolve; r.reject = reject; });
  };
  return r;
}
const plane = (z, n = 2, extra = {}) => Array.from({ length: n }, (_, t) => deferred(`z${z}|${t}`, { group: `z${z}`, ...extra }));
const tile = n => ({ data: new Uint8Array(n), shape: [1, n] });
const flush = () => new Promise(r => setTimeout(r, 0));
const abortError = () => Object.assign(new Error("aborted"), { name: "AbortError" });

test("planes changed fast: only the first and the one rested on start loading", async () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 4, settle: 50, burst: 250, now: () => now });
  const planes = [];
  for (let z = 0; z < 5; z++, now += 30) { planes.push(plane(z)); loader.want(planes[z]); }
  assert.deepEqual(planes.map(p => p.map(r => r.started)), [[1, 1], [0, 0], [0, 0], [0, 0], [0, 0]]);
  assert.ok(planes[0].every(r => r.signal.aborted));
  planes[0].forEach(r => r.reject(abortError()));
  await flush();
  assert.deepEqual(planes[4].map(r => r.started), [0, 0], "still within the settle time");
  now += 100;
  await new Promise(r => setTimeout(r, 60));   // the settle timer
  assert.deepEqual(planes.map(p => p.map(r => r.started)), [[1, 1], [0, 0], [0, 0], [0, 0], [1, 1]]);
});

test("a single change of plane starts at once, and cheap tiles are never held", () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 8, settle: 50, burst: 250, now: () => now });
  loader.want(plane(0));
  now += 1000;
  const one = plane(1);
  loader.want(one);
  assert.deepEqual(one.map(r => r.started), [1, 1]);
  now += 20;
  const coarse = deferred("z2|coarse", { group: "z2", cheap: true });
  const fine = plane(2);
  loader.want([coarse, ...fine]);
  assert.equal(coarse.started, 1);
  assert.deepEqual(fine.map(r => r.started), [0, 0]);
});

test("without a settle time (the default) nothing is held", () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 8, now: () => now });
  const a = plane(0), b = plane(1);
  loader.want(a); now += 5; loader.want(b);
  assert.deepEqual(b.map(r => r.started), [1, 1]);
});

test("spare loads run only when nothing visible waits, and become visible when wanted", async () => {
  const idles = [];
  const loaded = [];
  const loader = new TileLoader({ concurrency: 4, spares: 1, onIdle: () => idles.push(1), onLoad: e => loaded.push(e.key) });
  const z0 = plane(0);
  loader.want(z0);
  const spare = plane(1);
  loader.prefetch(spare);
  assert.deepEqual(spare.map(r => r.started), [0, 0], "visible loads are in flight");
  assert.equal(idles.length, 0);
  z0.forEach(r => r.resolve(tile(4)));
  await flush();
  assert.equal(idles.length, 1);
  assert.deepEqual(spare.map(r => r.started), [1, 0], "one spare at a time");
  assert.equal(loader.loading, 0, "spare loads are not visible loads");
  assert.equal(loader.prefetching, 1);
  loader.want(z0);   // a frame of the same view: the spare loads go on
  assert.equal(spare[0].signal.aborted, false);
  spare[0].resolve(tile(4));
  await flush();
  assert.equal(loader.get("z1|0").state, "ready");
  assert.deepEqual(loaded, ["z0|0", "z0|1"], "a spare tile is not announced");
  // the next press wants plane 1: the ready tile is used as is, the one in flight becomes visible
  const again = plane(1);
  loader.want(again);
  assert.deepEqual(again.map(r => r.started), [0, 0]);
  assert.equal(loader.loading, 1);
  spare[1].resolve(tile(4));
  await flush();
  assert.deepEqual(loaded, ["z0|0", "z0|1", "z1|1"]);
  assert.equal(loader.prefetched, 2);
});

test("the next change of view aborts the spare loads it does not want and drops the rest", async () => {
  const loader = new TileLoader({ concurrency: 2, spares: 2 });
  const z0 = plane(0, 1);
  loader.want(z0);
  z0[0].resolve(tile(4));
  await flush();
  const up = plane(1, 2), down = plane(-1, 2);
  loader.prefetch([...up, ...down]);
  assert.deepEqual([...up, ...down].map(r => r.started), [1, 1, 0, 0]);
  const view = plane(-1, 2);   // the user went the other way
  loader.want(view);
  assert.ok(up.every(r => r.signal.aborted));
  assert.deepEqual(view.map(r => r.started), [0, 0], "aborted spare loads keep their slots until they settle");
  up.forEach(r => r.reject(abortError()));
  await flush();
  assert.deepEqual(view.map(r => r.started), [1, 1]);
  assert.deepEqual(down.map(r => r.started), [0, 0], "the dropped spare requests never start");
  assert.equal(loader.get("z1|0"), undefined);
});

test("a spare load that fails is forgotten, so the view asks again", async () => {
  const errors = [];
  const loader = new TileLoader({ concurrency: 2, onError: e => errors.push(e.key) });
  loader.want([]);
  const s = plane(1, 1);
  loader.prefetch(s);
  s[0].reject(new Error("500"));
  await flush();
  assert.equal(loader.get("z1|0"), undefined);
  assert.deepEqual(errors, []);
  const v = plane(1, 1);
  loader.want(v);
  assert.equal(v[0].started, 1);
});

test("changes of plane a busy machine spaces out wait 1.5 x their gap (at most 2 x the settle time), so the next one still falls inside", () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 8, settle: 50, burst: 250, now: () => now });
  loader.want(plane(0));
  now = 80;
  const z1 = plane(1);
  loader.want(z1);                 // 80 ms after the last change: held 1.5 x 80, at most 2 x 50 ms (the settle time)
  now = 135;
  loader.want(z1);                 // a frame of the same view, past 50 ms: still held
  assert.deepEqual(z1.map(r => r.started), [0, 0]);
  now = 160;
  const z2 = plane(2);
  loader.want(z2);                 // the next press, inside the hold: plane 1 never started
  assert.deepEqual(z1.map(r => r.started), [0, 0]);
  now = 160 + 2 * 50 + 1;
  loader.want(z2);
  assert.deepEqual(z2.map(r => r.started), [1, 1]);
});

test("a held key: its repeats hold every plane passed and its release starts the plane rested on at once", () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 8, settle: 50, burst: 250, now: () => now });
  loader.want(plane(0));
  const passed = [];
  for (let z = 1; z <= 5; z++) {
    now += 120;                    // slower than the settle time: only the hold keeps them back
    loader.hold(250);
    passed.push(plane(z));
    loader.want(passed[passed.length - 1]);
  }
  assert.ok(passed.every(p => p.every(r => r.started === 0)), "held while the key repeats");
  loader.release();                // the key was let go before the last plane was asked for
  now += 5;
  const last = plane(6);
  loader.want(last);
  assert.deepEqual(last.map(r => r.started), [1, 1], "no settle time after the release");
  // and the release after the plane was asked for starts it at the next frame
  now += 100;
  loader.hold(250);
  const next = plane(7);
  loader.want(next);
  assert.deepEqual(next.map(r => r.started), [0, 0]);
  loader.release();
  loader.want(next);
  assert.deepEqual(next.map(r => r.started), [1, 1]);
});

test("a hold whose release is never seen ends by itself", async () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 8, settle: 50, burst: 250, now: () => now });
  loader.want(plane(0));
  loader.hold(150);                // longer than the settle time
  const z1 = plane(1);
  loader.want(z1);
  now = 100;
  loader.want(z1);                 // a frame past the settle time: still held
  assert.deepEqual(z1.map(r => r.started), [0, 0]);
  now = 151;
  await new Promise(r => setTimeout(r, 300));   // the hold's own timer, no frame asks again
  assert.deepEqual(z1.map(r => r.started), [1, 1]);
});

test("a plane that may only be passed gets `concurrency` loads, the one rested on `rested`", async () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 2, rested: 6, settle: 50, burst: 250, now: () => now });
  const first = plane(0, 6);
  loader.want(first);
  assert.equal(first.filter(r => r.started).length, 6, "the first plane of the view is no guess");
  first.forEach(r => r.resolve(tile(4)));
  await flush();
  now = 1000;
  const z1 = plane(1, 8);
  loader.want(z1);                 // a single change: maybe the first of a burst
  assert.equal(z1.filter(r => r.started).length, 2);
  now = 1250;
  z1[0].resolve(tile(4));          // no other change for `burst` ms: rested on
  await flush();
  assert.equal(z1.filter(r => r.started).length, 7);
  // a held key let go: every slot at once
  now = 2000;
  loader.hold(250);
  const z2 = plane(2, 8);
  loader.want(z2);
  z1.filter(r => r.signal?.aborted).forEach(r => r.reject(abortError()));   // their slots come free
  await flush();
  assert.equal(z2.filter(r => r.started).length, 0, "held");
  loader.release();
  loader.want(z2);
  assert.equal(z2.filter(r => r.started).length, 6);
});

test("a release naming the plane already asked for starts its loads there, with every slot, and the next change waits again", async () => {
  let now = 0;
  const loader = new TileLoader({ concurrency: 2, rested: 6, settle: 50, burst: 250, now: () => now });
  const z0 = plane(0, 1);
  loader.want(z0);
  z0[0].resolve(tile(4));
  await flush();
  now += 100;
  loader.hold(250);
  const z1 = plane(1, 8);
  loader.want(z1);
  assert.equal(z1.filter(r => r.started).length, 0, "held while the key repeats");
  loader.release("z0");            // another plane than the one waiting: nothing starts before its want
  assert.equal(z1.filter(r => r.started).length, 0);
  loader.hold(250);
  loader.release("z1");            // the plane waiting is the one rested on: no frame needed
  assert.equal(z1.filter(r => r.started).length, 6);
  now += 60;
  const z2 = plane(2, 2);
  loader.want(z2);                 // a press 60 ms later is a change like any other: held for the settle time
  assert.deepEqual(z2.map(r => r.started), [0, 0]);
});
