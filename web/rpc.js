// The one request/response layer between a page or worker and the workers it starts (the zarrlite
// worker, the chunk workers, the wheel unpacker). Requests carry ids; replies name the id they answer
// and may transfer buffers; the serving side announces when it is ready; errors cross as {name,
// message}; an AbortSignal on a call rejects it at once and tells the serving side, whose handler gets
// a signal of its own for that request. A server whose runtime can no longer answer (Pyodide's fatal
// error) says so once, and its client ends: pending and later calls reject with a WorkerDiedError, as
// they do when the Worker fires "error".
//
//   caller -> server   {rpc: "call", id, op, args}     args may carry transferred buffers
//                      {rpc: "cancel", id}             the caller's signal aborted
//   server -> caller   {rpc: "ready"}                  once, when the server can take calls
//                      {rpc: "result", id, value}      value's buffers transferred (see `transferring`)
//                      {rpc: "error", id, error: {name, message, ...}}
//                      {rpc: "event", value}           unsolicited news (start-up progress)
//                      {rpc: "died", error: {name, message}}   no more answers (see `die`)

/**
 * What both ends post through: a Worker, the worker's own global scope, or a MessagePort.
 * @typedef {{postMessage(message: any, transfer: Transferable[]): void,
 *   addEventListener(type: string, listener: (e: any) => void): void,
 *   removeEventListener(type: string, listener: (e: any) => void): void,
 *   start?: () => void}} Endpoint
 */

/**
 * What a handler gets besides its arguments.
 * @typedef {{id: number, signal: AbortSignal}} CallContext
 */

/** @typedef {(args: any, context: CallContext) => any} Handler */

/**
 * @typedef {object} Client
 * @property {(op: string, args?: any, options?: {signal?: AbortSignal, transfer?: Transferable[]}) => Promise<any>} call
 * @property {Promise<void>} ready resolves on the server's ready message; rejects if it dies first
 * @property {() => number} pending calls awaiting a reply
 * @property {(reason?: string | Error) => void} close reject pending and later calls with `reason` (the owner
 *   terminates the worker)
 */

/** The rejection of calls to a worker that died (it failed to load, threw at its top level, or its
 *  runtime declared itself dead). */
export class WorkerDiedError extends Error {
  /** @param {string} message @param {{cause?: any}} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = "WorkerDiedError";
  }
}

/** A value to reply with whose `transfer` buffers move instead of being copied. */
export class Transferring {
  /** @param {any} value @param {Transferable[]} transfer */
  constructor(value, transfer) {
    this.value = value;
    this.transfer = transfer;
  }
}

/** @param {any} value @param {Transferable[]} transfer */
export const transferring = (value, transfer) => new Transferring(value, transfer);

/** The rejection of an aborted call: a DOMException named "AbortError" (as fetch gives). */
export function abortError(signal) {
  const reason = signal && signal.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  const why = reason === undefined ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
  return new DOMException(`the call was aborted${why}`, "AbortError");
}

/** An Error from the {name, message} a server sent (other fields, e.g. a traceback, kept). */
export function remoteError(info) {
  const err = new Error(String(info && info.message));
  Object.assign(err, info || {});
  err.name = (info && info.name) || "Error";
  return err;
}

/** The {name, message} of anything thrown. */
export function errorInfo(err) {
  return { name: (err && err.name) || "Error", message: String(err && err.message !== undefined ? err.message : err) };
}

/**
 * The calling side over `endpoint`. When the endpoint is a Worker, its "error" event (a script that
 * fails to load or throws at the top) ends the client, and so does the server's "died" message:
 * pending and later calls reject with a WorkerDiedError naming `name` and the cause.
 * @param {Endpoint} endpoint
 * @param {{name?: string, onEvent?: (value: any) => void, onEnd?: (err: Error) => void}} [options]
 *   `onEnd`: the client has ended (the worker died, or `close()`)
 * @returns {Client}
 */
export function connect(endpoint, { name = "worker", onEvent, onEnd } = {}) {
  /** @type {Map<number, {resolve: (v: any) => void, reject: (e: any) => void, done: () => void}>} */
  const calls = new Map();
  let next = 1;
  /** @type {Error | null} */
  let ended = null;
  /** @type {(v?: any) => void} */
  let readyResolve = () => {};
  /** @type {(e: any) => void} */
  let readyReject = () => {};
  /** @type {Promise<void>} */
  const ready = new Promise((resolve, reject) => { readyResolve = resolve; readyReject = reject; });
  ready.catch(() => {});  // a caller that never awaits ready still sees the failure on its calls

  const onMessage = (/** @type {MessageEvent} */ e) => {
    const msg = e.data;
    if (!msg || typeof msg !== "object") return;
    if (msg.rpc === "ready") return readyResolve();
    if (msg.rpc === "event") return onEvent && onEvent(msg.value);
    if (msg.rpc === "died") {
      const cause = remoteError(msg.error);
      return end(new WorkerDiedError(`${name} stopped: ${cause.name}: ${cause.message}`, { cause }));
    }
    const call = calls.get(msg.id);
    if (!call) return;  // aborted or ended: the reply is dropped
    call.done();
    if (msg.rpc === "result") call.resolve(msg.value);
    else call.reject(remoteError(msg.error));
  };
  const onError = (/** @type {ErrorEvent} */ e) => {
    if (e && typeof e.preventDefault === "function") e.preventDefault();
    const what = (e && e.message) || "it failed to start (its script did not load)";
    end(new WorkerDiedError(`${name} failed: ${what}`));
  };
  const end = (/** @type {Error} */ err) => {
    if (ended) return;
    ended = err;
    endpoint.removeEventListener("message", onMessage);
    endpoint.removeEventListener("error", onError);
    readyReject(err);
    for (const call of [...calls.values()]) { call.done(); call.reject(err); }
    if (onEnd) onEnd(err);
  };
  endpoint.addEventListener("message", onMessage);
  endpoint.addEventListener("error", onError);
  if (endpoint.start) endpoint.start();

  /** @type {Client["call"]} */
  const call = (op, args, { signal, transfer = [] } = {}) => {
    if (ended) return Promise.reject(ended);
    if (signal && signal.aborted) return Promise.reject(abortError(signal));
    const id = next++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const call = calls.get(id);
        if (!call) return;
        call.done();
        reject(abortError(signal));
        endpoint.postMessage({ rpc: "cancel", id }, []);
      };
      const done = () => {
        calls.delete(id);
        if (signal) signal.removeEventListener("abort", onAbort);
      };
      calls.set(id, { resolve, reject, done });
      if (signal) signal.addEventListener("abort", onAbort);
      try {
        endpoint.postMessage({ rpc: "call", id, op, args }, transfer);
      } catch (err) {  // an argument that cannot be cloned
        done();
        reject(err);
      }
    });
  };
  return {
    call,
    ready,
    pending: () => calls.size,
    close: (reason = `${name} closed`) => end(reason instanceof Error ? reason : new Error(reason)),
  };
}

/**
 * The serving side: answer calls on `endpoint` with `handlers[op](args, {id, signal})`. A handler
 * returns a value (or a promise of one), `transferring(value, buffers)` to move buffers, or throws.
 * The ready message goes out when `ready` resolves (at once by default).
 * @param {Endpoint} endpoint
 * @param {Record<string, Handler>} handlers
 * @param {{ready?: Promise<any> | null, describeError?: (err: any) => object}} [options]
 * @returns {{emit: (value: any) => void, die: (err: any) => void}} `emit` posts an event to the caller;
 *   `die` tells the caller that this side can answer no more (its client ends) and stops answering
 */
export function serve(endpoint, handlers, { ready = null, describeError = errorInfo } = {}) {
  /** @type {Map<number, AbortController>} */
  const running = new Map();
  let dead = false;
  const reply = (/** @type {number} */ id, /** @type {any} */ out) => {
    if (out instanceof Transferring) endpoint.postMessage({ rpc: "result", id, value: out.value }, out.transfer);
    else endpoint.postMessage({ rpc: "result", id, value: out }, []);
  };
  const answer = async (/** @type {{id: number, op: string, args: any}} */ msg) => {
    const controller = new AbortController();
    running.set(msg.id, controller);
    try {
      const handler = Object.prototype.hasOwnProperty.call(handlers, msg.op) ? handlers[msg.op] : null;
      if (!handler) throw new TypeError(`no operation ${JSON.stringify(msg.op)}`);
      const out = await handler(msg.args, { id: msg.id, signal: controller.signal });
      if (!controller.signal.aborted && !dead) reply(msg.id, out);
    } catch (err) {
      if (!controller.signal.aborted && !dead) endpoint.postMessage({ rpc: "error", id: msg.id, error: describeError(err) }, []);
    } finally {
      running.delete(msg.id);
    }
  };
  const onMessage = (/** @type {MessageEvent} */ e) => {
    const msg = e.data;
    if (!msg || typeof msg !== "object") return;
    if (msg.rpc === "call") answer(msg);
    else if (msg.rpc === "cancel") running.get(msg.id)?.abort();
  };
  endpoint.addEventListener("message", onMessage);
  if (endpoint.start) endpoint.start();
  const announce = () => endpoint.postMessage({ rpc: "ready" }, []);
  if (ready) ready.then(announce, err => console.error("worker not ready:", err));
  else announce();
  const die = (/** @type {any} */ err) => {
    if (dead) return;
    dead = true;
    endpoint.removeEventListener("message", onMessage);
    endpoint.postMessage({ rpc: "died", error: describeError(err) }, []);
  };
  return { emit: value => endpoint.postMessage({ rpc: "event", value }, []), die };
}
