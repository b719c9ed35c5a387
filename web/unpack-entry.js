// The wheel unpacker, a module Web Worker bundled by esbuild into web/dist/unpack.js (fflate inside).
// worker.js starts it before `loadPyodide`, so fetching and inflating numpy and zarrlite (~14 MB of
// files) runs on another core while Pyodide boots, instead of after it in `loadPackage`.
//
// Served with rpc.js:  "unpack" {wheels: [{url, sha256}]}  (sha256: hex, as in pyodide-lock.json;
// checked by fetch)  ->  {files: [[path inside the wheel, Uint8Array], ...]}, buffers transferred.
import { unzipSync } from "fflate";

import { serve, transferring } from "./rpc.js";

serve(/** @type {any} */ (self), {
  unpack: async ({ wheels }) => {
    const archives = await Promise.all(wheels.map(fetchWheel));
    /** @type {[string, Uint8Array][]} */
    const files = [];
    for (const { url, bytes } of archives) {
      let entries;
      try {
        entries = unzipSync(bytes);
      } catch (err) {
        throw new Error(`${url}: not a readable wheel (${err.message})`);
      }
      for (const [path, data] of Object.entries(entries)) if (!path.endsWith("/")) files.push([path, data]);
    }
    return transferring({ files }, [...new Set(files.map(([, data]) => data.buffer))]);
  },
});

async function fetchWheel({ url, sha256 }) {
  let resp;
  try {
    resp = await fetch(url, { integrity: `sha256-${hexToBase64(sha256)}` });
  } catch (err) {
    throw new Error(`${url}: ${err.message} (unreachable, or its sha256 differs from pyodide-lock.json)`);
  }
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return { url, bytes: new Uint8Array(await resp.arrayBuffer()) };
}

function hexToBase64(hex) {
  return btoa(String.fromCharCode(...hex.match(/../g).map(h => parseInt(h, 16))));
}
