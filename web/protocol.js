// The message protocol between the page (zarrlite.js) and the worker (worker.js): the one place both
// sides agree on. Requests carry an id; every reply names the id it answers.
//
//   page -> worker   {id, op: "init",   baseURL, pyodideURL?, chunkWorkers?}
//                    {id, op: "open",   source: Source}
//                    {id, op: "read",   path, selection: string}
//                    {id, op: "render", path, selection: string, options: RenderOptions}
//                    {id, op: "viewer", fn, args: any[]}   zarrlite.viewer_api helpers (web/viewer/)
//                    {id, op: "stats"}                    requests and decodes, in the worker / on chunk workers
//   worker -> page   {id, ok: true, result}             result buffers are transferred, never copied
//                    {id, ok: false, error: {name, message}}
//                    {op: "progress", stage, loaded, total}   start-up stages, no id

/**
 * A data source as it crosses to the worker (all structured-cloneable; File contents are not read).
 * @typedef {{kind: "url", url: string}
 *   | {kind: "files", files: File[], paths: string[]}
 *   | {kind: "directory", handle: FileSystemDirectoryHandle}
 *   | {kind: "zip", file: File}} Source
 */

/**
 * One node of an opened hierarchy.
 * @typedef {{kind: "array"|"group", path: string, name: string, format: string, attrs: object,
 *   shape?: number[], dtype?: string, chunks?: number[], fill_value?: any, jsType?: string,
 *   children?: Node[]}} Node
 */

/**
 * @typedef {{window?: [number, number] | "auto", colormap?: string, invert?: boolean,
 *   channels?: {index?: number, color?: string, window?: [number, number] | "auto", visible?: boolean}[],
 *   channelAxis?: number}} RenderOptions
 */

/** Start-up stages reported through onProgress, in order. */
export const STAGES = ["pyodide", "packages", "codecs", "ready"];

/**
 * Typed array constructors by the dtype string the worker reports (numpy `dtype.str`, native order).
 * float16 arrives as float32 and complex as interleaved float pairs (the worker converts; `dtype`
 * then says "<f4" / "<f8" and the shape gains a trailing 2 for complex).
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
 * A selection as the numpy-style string the worker parses ("0,12,:,100:900:2").
 * @param {string | (number | null | number[])[] | undefined} selection
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
