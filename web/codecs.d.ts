// web/codecs.js exists only in web/dist/ (esbuild bundles web/codecs-entry.js into it): its types,
// for the type check (tsconfig.json), are the entry's.
export * from "./codecs-entry.js";
