// @fideus-labs/fizarrita (zarrita.js with its codecs on a worker pool; a peer in bench/browser_bench.py),
// bundled by esbuild with the zarrita.js it was built for (0.6.2, aliased as
// zarrita-for-fizarrita in package.json) into web/dist/bench/fizarrita.js; its codec worker,
// the package's own file, is bundled into web/dist/bench/fizarrita-worker.js (build-web.sh).
export * from "zarrita";
export { getWorker } from "@fideus-labs/fizarrita";
export { WorkerPool } from "@fideus-labs/worker-pool";
