// Loaded first from the page's head, before the viewer's own modules: it starts the zarrlite worker at
// once, so Pyodide boots while those modules arrive (its graph is zarrlite.js, rpc.js, protocol.js only).
// Nothing here depends on the page's link: the runtime starts for every visit, as the viewer's did.

import { Zarrlite } from "../zarrlite.js";

const started = Zarrlite.start();

/**
 * The runtime started above, once ready, with the viewer's handlers attached (progress events that came
 * before they were are not repeated: the start-up card marks the earlier stages done by itself).
 * @param {{onProgress: NonNullable<Zarrlite["onProgress"]>, onRestart: NonNullable<Zarrlite["onRestart"]>}} handlers
 * @returns {Promise<Zarrlite>}
 */
export async function startedRuntime({ onProgress, onRestart }) {
  started.onProgress = onProgress;
  started.onRestart = onRestart;
  try {
    return await started.ready();
  } catch (err) {
    started.close();
    throw err;
  }
}
