// Types of the WASM binaries web/codecs-entry.js imports: esbuild's binary loader (build-web.sh) makes
// each a Uint8Array of the file.
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}
