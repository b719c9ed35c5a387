// The wheel unpacker, a module Web Worker bundled by esbuild into web/dist/unpack.js (with unzip.js).
// worker.js starts it before `loadPyodide`, so fetching and inflating numpy and zarrlite (~15 MB of
// files) runs on another core while Pyodide boots, instead of after it in `loadPackage`. It inflates
// with the platform's DecompressionStream (unzip.js): a JS inflate's CPU time, taken from the two cores
// Pyodide boots on, was 1.5-2.5x as long (fflate in a fresh Chromium worker: ~150-250 ms vs ~100 ms).
//
// Served with rpc.js:  "unpack" {wheels: [{url, sha256}]}  (sha256: hex, as in pyodide-lock.json;
// checked by fetch)  ->  {files: [[path inside the wheel, Uint8Array], ...]}, buffers transferred.
import { serve, transferring } from "./rpc.js";
import { unzip } from "./unzip.js";

serve(/** @type {any} */ (self), {
  unpack: async ({ wheels }) => {
    const unpacked = await Promise.all(wheels.map(async wheel => {
      const { url, bytes } = await fetchWheel(wheel);
      try {
        return await unzip(bytes);
      } catch (err) {
        throw new Error(`${url}: not a readable wheel (${err.message})`);
      }
    }));
    const files = unpacked.flat();
    return transferring({ files }, files.map(([, data]) => data.buffer));
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
