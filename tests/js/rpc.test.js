// web/rpc.js over a real MessageChannel: ids, transfer, ready, errors, cancellation, the end of a client.
import assert from "node:assert/strict";
import { test } from "node:test";

import { WorkerDiedError, connect, serve, transferring } from "../../web/rpc.js";

/** A served channel: handlers on port2, the client on port1; closes both when the test ends. */
function channel(t, handlers, serveOptions, connectOptions) {
  const { port1, port2 } = new MessageChannel();
  const server = serve(port2, handlers, serveOptions);
  const client = connect(port1, connectOptions);
  t.after(() => { port1.close(); port2.close(); });
  return { client, server, port1, port2 };
}

const later = ms => new Promise(resolve => setTimeout(resolve, ms));

test("a call resolves with the handler's value; concurrent calls keep their own ids", async t => {
  const { client } = channel(t, { add: async ({ a, b }) => { await later(b); return a + b; } });
  await client.ready;
  const got = await Promise.all([client.call("add", { a: 1, b: 30 }), client.call("add", { a: 2, b: 1 })]);
  assert.deepEqual(got, [31, 3]);
  assert.equal(client.pending(), 0);
});

test("buffers move both ways when transferred, and are copied otherwise", async t => {
  const { client } = channel(t, {
    double: ({ bytes }) => { const out = bytes.map(x => x * 2); return transferring({ out }, [out.buffer]); },
    keep: ({ bytes }) => ({ out: bytes }),
  });
  const bytes = new Uint8Array([1, 2, 3]);
  const { out } = await client.call("double", { bytes }, { transfer: [bytes.buffer] });
  assert.equal(bytes.byteLength, 0, "the argument's buffer was transferred");
  assert.deepEqual(Array.from(out), [2, 4, 6]);
  const kept = new Uint8Array([5]);
  assert.deepEqual(Array.from((await client.call("keep", { bytes: kept })).out), [5]);
  assert.equal(kept.byteLength, 1, "not transferred unless asked");
});

test("errors cross as {name, message}, extra fields kept", async t => {
  const { client } = channel(t, { fail: () => { throw Object.assign(new RangeError("too far"), { code: 7 }); } },
    { describeError: err => ({ name: err.name, message: err.message, code: err.code }) });
  await assert.rejects(client.call("fail"), err => err instanceof Error && err.name === "RangeError"
    && err.message === "too far" && err.code === 7);
  await assert.rejects(client.call("nope"), { name: "TypeError", message: 'no operation "nope"' });
});

test("the ready message waits for the server's own start-up", async t => {
  let warm;
  const warming = new Promise(resolve => { warm = resolve; });
  const { client } = channel(t, { ping: () => "pong" }, { ready: warming });
  let isReady = false;
  client.ready.then(() => { isReady = true; });
  await later(20);
  assert.equal(isReady, false);
  warm();
  await client.ready;
  assert.equal(isReady, true);
});

test("aborting rejects at once with AbortError and aborts the handler's own signal", async t => {
  let seen;
  const aborted = new Promise(resolve => { seen = resolve; });
  const { client } = channel(t, {
    slow: (_, { signal }) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve("finished"), 5000);
      signal.addEventListener("abort", () => { clearTimeout(timer); seen(signal.aborted); reject(signal.reason); });
    }),
  });
  const controller = new AbortController();
  const call = client.call("slow", null, { signal: controller.signal });
  await later(20);
  const t0 = performance.now();
  controller.abort();
  await assert.rejects(call, { name: "AbortError" });
  assert.ok(performance.now() - t0 < 50);
  assert.equal(await aborted, true, "the serving side's signal aborted");
  assert.equal(client.pending(), 0);
});

test("an already aborted signal rejects without posting; a custom reason names itself", async t => {
  let calls = 0;
  const { client } = channel(t, { count: () => ++calls });
  await assert.rejects(client.call("count", null, { signal: AbortSignal.abort() }), { name: "AbortError" });
  assert.equal(await client.call("count"), 1, "the aborted call never reached the server");
  const controller = new AbortController();
  const call = client.call("count", null, { signal: controller.signal });
  controller.abort("left the view");
  await assert.rejects(call, err => err.name === "AbortError" && err.message.includes("left the view"));
});

test("a reply to an aborted call is dropped and later calls still work", async t => {
  const { client } = channel(t, { echo: async v => { await later(30); return v; } });
  const controller = new AbortController();
  const first = client.call("echo", "first", { signal: controller.signal });
  controller.abort();
  await assert.rejects(first, { name: "AbortError" });
  assert.equal(await client.call("echo", "second"), "second");
});

test("close() rejects pending calls and every later one", async t => {
  const { client } = channel(t, { never: () => new Promise(() => {}) });
  const pending = client.call("never");
  client.close("zarrlite closed");
  await assert.rejects(pending, { message: "zarrlite closed" });
  await assert.rejects(client.call("never"), { message: "zarrlite closed" });
  assert.equal(client.pending(), 0);
});

test("an error event on the endpoint (a dead worker) rejects pending calls, ready and later calls", async t => {
  const { client, port1 } = channel(t, { never: () => new Promise(() => {}) }, { ready: new Promise(() => {}) },
    { name: "chunk worker" });
  const pending = client.call("never");
  // what a Worker fires when its script fails to load or throws at the top level
  port1.dispatchEvent(Object.assign(new Event("error"), { message: "Uncaught SyntaxError" }));
  await assert.rejects(pending, { name: "WorkerDiedError", message: "chunk worker failed: Uncaught SyntaxError" });
  await assert.rejects(client.ready, /chunk worker failed/);
  await assert.rejects(client.call("never"), /chunk worker failed/);
});

test("events reach onEvent in order", async t => {
  const got = [];
  const { client, server } = channel(t, { go: () => { server.emit(1); server.emit(2); return "done"; } }, {},
    { onEvent: v => got.push(v) });
  assert.equal(await client.call("go"), "done");
  assert.deepEqual(got, [1, 2]);
});

test("onEnd hears of the end once, with the reason", async t => {
  const ends = [];
  const { client, port1 } = channel(t, {}, {}, { name: "w", onEnd: err => ends.push(err.message) });
  port1.dispatchEvent(Object.assign(new Event("error"), { message: "boom" }));
  client.close();
  assert.deepEqual(ends, ["w failed: boom"]);
});

test("a server that declares itself dead ends its client: pending and later calls reject, naming the cause", async t => {
  const ends = [];
  let release;
  const { client, server } = channel(t, {
    never: () => new Promise(() => {}),
    late: () => new Promise(resolve => { release = resolve; }),
  }, {}, { name: "zarrlite worker", onEnd: err => ends.push(err) });
  const pending = client.call("never");
  const late = client.call("late");
  while (!release) await later(5);  // both handlers running (a loaded machine may take longer than a fixed wait)
  server.die(new RangeError("Maximum call stack size exceeded"));
  const died = err => err instanceof WorkerDiedError && err.name === "WorkerDiedError"
    && err.message === "zarrlite worker stopped: RangeError: Maximum call stack size exceeded";
  await assert.rejects(pending, died);
  await assert.rejects(late, died);
  await assert.rejects(client.call("never"), died);
  assert.equal(ends.length, 1);
  assert.ok(died(ends[0]));
  assert.equal(client.pending(), 0);
  release("too late");  // a handler that finishes after the death: its reply is not sent
  await later(10);
  assert.equal(ends.length, 1);
});

test("a dead server ignores later calls", async t => {
  let runs = 0;
  const { port1, port2 } = new MessageChannel();
  t.after(() => { port1.close(); port2.close(); });
  const server = serve(port2, { count: () => ++runs });
  server.die(new Error("gone"));
  const replies = [];
  port1.addEventListener("message", e => replies.push(e.data.rpc));
  port1.start();
  port1.postMessage({ rpc: "call", id: 1, op: "count", args: null });
  await later(30);
  assert.equal(runs, 0);
  assert.deepEqual(replies.filter(r => r !== "ready" && r !== "died"), []);
});

test("close(error) rejects pending and later calls with that error", async t => {
  const { client } = channel(t, { never: () => new Promise(() => {}) });
  const pending = client.call("never");
  const silent = new WorkerDiedError("chunk worker stopped: no answer");
  client.close(silent);
  await assert.rejects(pending, err => err === silent);
  await assert.rejects(client.call("never"), err => err === silent);
});
