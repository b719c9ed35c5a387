// Errors as a person needs them: what happened, in one line, and what to do about it.

/**
 * @param {Error | {name?: string, message?: string}} err
 * @param {{source?: string, restarted?: boolean, reopened?: boolean}} [context] `restarted`: for the
 *   reader's death (a WorkerDiedError), whether a new reader started (undefined: it is starting), and
 *   `reopened` whether it opened the data again
 * @returns {{kind: string, title: string, message: string, advice: string[]}}
 */
export function explain(err, context = {}) {
  const name = err?.name ?? "Error";
  const message = String(err?.message ?? err);
  const m = message.toLowerCase();
  const src = context.source ? ` (${context.source})` : "";
  if (name === "WorkerDiedError") {
    const why = (message.match(/(?:stopped|failed): (.+)$/s) || message.match(/stopped \((.+)\) and/s) || [])[1];
    const what = `The reader stopped${why ? ` (${why})` : ""}`;
    const { restarted, reopened } = context;
    const title = restarted === undefined ? `${what} and is restarting`
      : !restarted ? `${what} and could not be restarted`
      : reopened ? `${what} and was restarted` : `${what} and was restarted, without the data`;
    return { kind: "restart", title, message, advice: [
      restarted === false ? "Reload the page." : reopened === false ? "Open the data again." : "The view is loaded again.",
      "If it stops again on the same data, that data may be what breaks it (very large chunks, very deep structures): please report it with the link.",
    ] };
  }
  if (m.includes("cross-origin") || m.includes("failed to fetch") || m.includes("cors")) {
    return { kind: "cors", title: `The server did not let this page read the data${src}`, message, advice: [
      "A server on another origin must send the header <code>Access-Control-Allow-Origin: *</code> (or this page's origin).",
      "For sharded or partial reads it must also allow the <code>Range</code> request header and expose <code>Content-Range</code>.",
      "Or download the dataset and drop its folder (or a .zip of it) on this page, or run <code>zarrlite view PATH</code> locally.",
    ] };
  }
  if (name === "NotFoundError" || m.includes("no array or group at") || /\b404\b/.test(m)) {
    return { kind: "notfound", title: `Nothing readable at this address${src}`, message, advice: [
      "Check the URL: it must point at the root of a Zarr or N5 hierarchy — the folder that holds <code>zarr.json</code>, <code>.zgroup</code>/<code>.zarray</code> or <code>attributes.json</code>.",
      "A plain HTTP server cannot list folders: groups are found through consolidated metadata (<code>.zmetadata</code>, or <code>consolidated_metadata</code> in zarr.json) or OME/N5 multiscale attributes.",
      "If the data is on your disk, use “Pick folder” or drop the folder here.",
    ] };
  }
  if (m.includes("unknown or unsupported codec") || m.includes("is refused")) {
    const codec = (message.match(/codec '([^']+)'/) || [])[1];
    return { kind: "codec", title: `Unsupported codec${codec ? `: ${codec}` : ""}`, message, advice: [
      "This page decodes zlib, gzip, bz2, lzma/xz, blosc, zstd, lz4, the checksums crc32c, fletcher32, adler32 and crc32, sharding, transpose and the numcodecs filters delta, fixedscaleoffset, astype, quantize, bitround, shuffle, packbits. pcodec and zfpy decode in CPython only: <code>pip install zarrlite pcodec zfpy</code>, then read the array with zarrlite in Python.",
      "Re-encode the array with one of those (zstd or blosc are good choices), e.g. with zarr-python: <code>zarr.create_array(..., compressors=zarr.codecs.ZstdCodec())</code>.",
      m.includes("refused") ? "Codecs that deserialise Python objects (pickle, msgpack, …) are never decoded in the browser, on purpose." : "Other arrays of this source may still open: pick one in the tree.",
    ] };
  }
  if (name === "ChunkError" || name === "CodecError" || m.includes("truncated") || m.includes("corrupt")) {
    return { kind: "chunk", title: "A chunk could not be decoded", message, advice: [
      "The message names the chunk: its file may be truncated or corrupt (an interrupted copy or upload?). Re-write or re-copy that chunk.",
      "Everything else still displays; the bad tile is crossed out in red.",
    ] };
  }
  if (name === "BudgetError") {
    return { kind: "budget", title: "Too large to read at once", message, advice: [
      "Zoom in (only visible tiles are read), or write a multiscale pyramid so a coarse level can be shown.",
    ] };
  }
  if (name === "MetadataError") {
    return { kind: "metadata", title: "The metadata is malformed", message, advice: [
      "The message names the file and field. Fix it, or re-write the array with zarr-python / tensorstore.",
    ] };
  }
  if (name === "StoreError") {
    return { kind: "store", title: "The data could not be read", message, advice: [
      "Check the network or the files; reload to retry.",
    ] };
  }
  return { kind: "other", title: name === "Error" ? "Something went wrong" : name, message, advice: [] };
}
