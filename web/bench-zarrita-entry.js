// zarrita.js (the peer in bench/browser_bench.py), bundled by esbuild into web/dist/bench/zarrita.js.
export * from "zarrita";
