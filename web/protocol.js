// What the page (zarrlite.js) and the zarrlite worker (worker.js) agree on: the operations, the shapes
// of what crosses, and how values JSON cannot carry arrive. Calls go through rpc.js (ids, transfer,
// errors as {name, message}, cancellation by AbortSignal).
//
//   op        args                                           result
//   "init"    {baseURL, pyodideURL?, chunkWorkers?}          {ready: true}; progress events meanwhile
//   "open"    {source: Source}                               Node (the tree)
//   "read"    {path, selection: string}                      {buffer, shape, dtype, sourceDtype, layout}
//   "render"  {path, selection: string, options: RenderOptions}  {buffer, width, height} (RGBA)
//   "viewer"  {fn, args: any[]}                              zarrlite.viewer_api helpers (web/viewer/)
//   "stats"   {}                                             Stats
//   events    {stage, loaded, total, ms}                     start-up stages (STAGES)
//
// Buffers (results) are transferred, never copied. Arrays cross as C-order bytes with their numpy
// shape (a 0-d result has shape []), in these types: bool -> uint8, float16 -> float32, complex ->
// interleaved (re, im) float pairs with a trailing 2 in the shape, every dtype little-endian (`dtype`
// says which: "<f4"); strings, bytes, JSON values, datetimes and structured values cross packed in one
// buffer with a `layout` (see Layout, unpackValues). Metadata cross as JSON text read with `reviveJSON`:
// NaN, Infinity and -Infinity arrive as those numbers, integers beyond 2^53 - 1 as BigInt (fill values
// and attributes alike).

/**
 * How a URL is read, as in Python's `zarrlite.open(url, ...)`: request `headers`, `retries` of transient
 * failures, `timeout` (seconds per request), `backoff` (seconds, doubling per retry); for `s3://`, `gs://`
 * and `az://` URLs the bucket's `region`, an S3-compatible `endpoint_url`, `addressing_style` and the
 * Azure `account_name` (spelled as in Python).
 * @typedef {{headers?: Record<string, string>, retries?: number, timeout?: number, backoff?: number,
 *   region?: string, endpoint_url?: string, addressing_style?: "virtual" | "path", account_name?: string}} HttpOptions
 */

/**
 * A data source as it crosses to the worker (all structured-cloneable; File contents are not read).
 * @typedef {{kind: "url", url: string, options?: HttpOptions}
 *   | {kind: "files", files: File[], paths: string[]}
 *   | {kind: "directory", handle: FileSystemDirectoryHandle}
 *   | {kind: "zip", file: File}} Source
 */

/**
 * One node of an opened hierarchy. Arrays: `dtype` the stored dtype (numpy `dtype.str`), `outDtype`
 * the dtype `read` returns, `shards` the shard shape (null unless sharded), `codecs` the codec chain
 * as its metadata names it, `table` whether its values show as a table (strings, dates, structured
 * values) rather than an image. Groups: `children`, and `truncated` when the listing stopped early. A
 * member that could not be opened (malformed metadata, an unknown codec) is kind "error" with `error`;
 * an array that opened but that this runtime cannot read (a codec with no browser build, chunk files
 * named with the other separator) has `problems`, as `zarrlite check` gives them.
 * @typedef {{kind: "array"|"group"|"error", path: string, name: string, format: string | null, attrs: object,
 *   shape?: number[], dtype?: string, outDtype?: string, chunks?: number[], shards?: number[] | null,
 *   fill_value?: any, codecs?: any[], children?: Node[], truncated?: boolean,
 *   error?: {name: string, message: string}, problems?: {kind: string, message: string}[], table?: boolean}} Node
 */

/**
 * @typedef {{window?: [number, number] | "auto", colormap?: string, invert?: boolean,
 *   channels?: {index?: number, color?: string, window?: [number, number] | "auto", visible?: boolean}[],
 *   channelAxis?: number}} RenderOptions
 */

/**
 * What the worker has done so far (see zarrlite.js `stats`).
 * @typedef {import("./chunk-pool.js").PoolStats & {loop: {drains: number, callbacks: number} | null,
 *   running: number, forbidden: {count: number, keys: string[]} | null, wasmBytes: number | null}} Stats
 */

/** Start-up stages reported through onProgress, in order. */
export const STAGES = ["pyodide", "packages", "codecs", "ready"];

/**
 * Typed array constructors by the dtype string the worker reports (numpy `dtype.str`, little-endian).
 * @type {Record<string, new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => ArrayBufferView>}
 */
export const TYPED_ARRAYS = {
  "|b1": Uint8Array, "|u1": Uint8Array, "|i1": Int8Array,
  "<u2": Uint16Array, "<i2": Int16Array, "<u4": Uint32Array, "<i4": Int32Array,
  "<u8": BigUint64Array, "<i8": BigInt64Array, "<f4": Float32Array, "<f8": Float64Array,
};

/**
 * A typed array over `buffer` for `dtype` (as the worker reports it).
 * @param {ArrayBuffer} buffer
 * @param {string} dtype
 */
export function typedArray(buffer, dtype) {
  const T = TYPED_ARRAYS[dtype];
  if (!T) throw new TypeError(`no typed array for dtype ${dtype}`);
  return new T(buffer);
}

/**
 * How a read of values with no typed array of their own crosses (zarrlite.packed): one buffer and a
 * layout, every offset a multiple of 8, elements in C order.
 * @typedef {{kind: "typed", shape: number[], dtype: string, offset: number}
 *   | {kind: "datetime64" | "timedelta64", shape: number[], dtype: "<i8", unit: string, scale: number, offset: number}
 *   | {kind: "str" | "bytes", shape: number[], ends: number, bytes: number, length: number}
 *   | {kind: "json", shape: number[], offset: number, length: number}
 *   | {kind: "struct", shape: number[], fields: [string, Layout][]}} Layout
 */

/**
 * What `read` gives for one array or one field of a structured array. `data` is a typed array for
 * numbers; for datetimes and timedeltas a BigInt64Array of counts of `scale` x `unit` since the epoch
 * (NaT is the int64 minimum, -(2n ** 63n)); `string[]` for strings; `Uint8Array[]` for bytes (fixed
 * and variable length, and raw bytes); the JSON values of a json2 array; `{fields: {name: Values}}` for
 * structured values (each field with its own shape: the array's plus its sub-array shape). `dtype`
 * says which: a numpy dtype ("<f4", "<i8"), or "str", "bytes", "json", "struct"; `kind` is the layout's.
 * @typedef {{data: ArrayBufferView | string[] | Uint8Array[] | any[] | {fields: Record<string, Values>},
 *   shape: number[], dtype: string, kind?: string, unit?: string, scale?: number}} Values
 */

/**
 * The values of a packed read (see Layout); typed arrays and bytes are views into `buffer`.
 * @param {ArrayBuffer} buffer
 * @param {Layout} layout
 * @returns {Values}
 */
export function unpackValues(buffer, layout) {
  const n = layout.shape.reduce((a, b) => a * b, 1);
  const { kind, shape } = layout;
  switch (layout.kind) {
    case "typed": {
      const T = TYPED_ARRAYS[layout.dtype];
      if (!T) throw new TypeError(`no typed array for dtype ${layout.dtype}`);
      return { data: new T(buffer, layout.offset, n), shape, dtype: layout.dtype, kind };
    }
    case "datetime64": case "timedelta64":
      return { data: new BigInt64Array(buffer, layout.offset, n), shape, dtype: "<i8", kind, unit: layout.unit,
        scale: layout.scale };
    case "str": case "bytes": {
      const ends = new Uint32Array(buffer, layout.ends, n);
      const bytes = new Uint8Array(buffer, layout.bytes, layout.length);
      const decoder = new TextDecoder();
      const data = Array.from(ends, (end, i) => bytes.subarray(i ? ends[i - 1] : 0, end));
      return { data: kind === "str" ? data.map(b => decoder.decode(b)) : data, shape, dtype: kind, kind };
    }
    case "json":
      return { data: reviveJSON(new TextDecoder().decode(new Uint8Array(buffer, layout.offset, layout.length))),
        shape, dtype: kind, kind };
    case "struct":
      return { data: { fields: Object.fromEntries(layout.fields.map(([name, f]) => [name, unpackValues(buffer, f)])) },
        shape, dtype: kind, kind };
    default:
      throw new TypeError(`unpackValues: unknown layout kind ${JSON.stringify(kind)}`);
  }
}

/** The key that marks a tagged value in the worker's JSON (zarrlite.webworker.json_text). */
const TAG = "$zarrlite";
const NUMBERS = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/**
 * Parse the worker's JSON text, turning tagged values back into what JSON cannot carry:
 * `{"$zarrlite": "number", value: "NaN" | "Infinity" | "-Infinity"}` -> that number,
 * `{"$zarrlite": "bigint", value: "18446744073709551615"}` -> a BigInt, and
 * `{"$zarrlite": "object", value: [[key, value], ...]}` -> an object (one whose own keys hold the tag).
 * @param {string} text
 * @returns {any}
 */
export function reviveJSON(text) {
  return JSON.parse(text, (_key, value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, TAG)) {
      return value;
    }
    const kind = value[TAG], inner = value.value;
    if (kind === "number" && Object.hasOwn(NUMBERS, inner)) return NUMBERS[inner];
    if (kind === "bigint" && typeof inner === "string" && /^-?\d+$/.test(inner)) return BigInt(inner);
    if (kind === "object" && Array.isArray(inner)) return Object.fromEntries(inner);
    throw new TypeError(`reviveJSON: a malformed ${TAG} value ${JSON.stringify(value)}`);
  });
}

/**
 * A selection as the numpy-style string the worker parses ("0,12,:,100:900:2").
 * @param {string | (number | null | (number | null)[])[] | undefined | null} selection
 * @returns {string}
 */
export function selectionString(selection) {
  if (selection === undefined || selection === null) return "...";
  if (typeof selection === "string") return selection;
  if (!Array.isArray(selection)) throw new TypeError("selection: a string or an array");
  return selection.map((s, i) => {
    if (s === null) return ":";
    if (typeof s === "number" && Number.isInteger(s)) return String(s);
    if (Array.isArray(s) && s.length >= 2 && s.length <= 3) {
      return s.map(v => (v === null || v === undefined ? "" : String(Math.trunc(v)))).join(":");
    }
    throw new TypeError(`selection[${i}]: a number, null or [start, stop(, step)], got ${JSON.stringify(s)}`);
  }).join(",") || "...";
}
