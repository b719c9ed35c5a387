// Bundles neuroglancer (npm, pinned in package.json) into OUT for bench/viewer_bench.py:
//   OUT/index.html, OUT/app/main.js + main.css, OUT/app/chunk_worker.bundle.js, OUT/async_computation.bundle.js
// The workers sit where neuroglancer's `new URL(..., import.meta.url)` looks for them from the bundles.
// Its icon set (ikonate) is a git dependency npm cannot always fetch: package.json overrides it with
// ikonate-stub/, and every `ikonate/icons/*.svg?raw` import becomes a blank icon here.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "dist"));
const lib = join(here, "node_modules", "neuroglancer", "lib");
const BLANK_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"></svg>';

const rawText = {
  name: "raw-text",
  setup(b) {
    b.onResolve({ filter: /^ikonate\/.*\?raw$/ }, (a) => ({ path: a.path, namespace: "blank-icon" }));
    b.onLoad({ filter: /.*/, namespace: "blank-icon" }, () => ({ contents: BLANK_ICON, loader: "text" }));
    b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(a.resolveDir, a.path.slice(0, -4)), namespace: "raw" }));
    b.onLoad({ filter: /.*/, namespace: "raw" }, (a) => ({ contents: readFileSync(a.path, "utf8"), loader: "text" }));
  },
};

const common = {
  bundle: true, format: "esm", platform: "browser", target: "es2022", minify: true,
  logLevel: "warning", plugins: [rawText], absWorkingDir: here,
  define: { "process.env.NODE_ENV": '"production"', NEUROGLANCER_DEFAULT_STATE_FRAGMENT: "undefined" },
  loader: { ".wasm": "file", ".svg": "text" },
};
mkdirSync(join(out, "app"), { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: { main: join(here, "entry.js") }, outdir: join(out, "app") }),
  build({ ...common, entryPoints: { "chunk_worker.bundle": join(lib, "chunk_worker.bundle.js") }, outdir: join(out, "app") }),
  build({ ...common, entryPoints: { "async_computation.bundle": join(lib, "async_computation.bundle.js") }, outdir: out }),
]);
copyFileSync(join(here, "index.html"), join(out, "index.html"));
