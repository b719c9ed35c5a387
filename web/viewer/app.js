// The shape of what the page shows, shared by the viewer's modules: one object made by viewer.js (also
// window.viewer, which the tests and the bench read), and the few calls back into the page's wiring.

/**
 * @typedef {import("./image.js").ImageModel} ImageModel
 * @typedef {import("./image.js").Channel} Channel
 * @typedef {object} App
 * @property {any} zl the Zarrlite instance (null until it has started)
 * @property {ImageModel | null} image the model of the selected node
 * @property {number[]} index level-0 index along every dimension
 * @property {number} selected the channel whose contrast is edited
 * @property {boolean} invert
 * @property {string} expr the Python expression applied before display ("" for none)
 * @property {string} linkExpr an expression the page's link brought, shown and not run until Apply ("" for none)
 * @property {Map<number, [number, number]>} exprWindows the windows of the expression's values, by channel
 * @property {boolean} chunkMap
 * @property {any} chunkInfo the chunk map's last answer
 * @property {number} failures chunks that failed to read since the source opened
 * @property {import("./tiles.js").TileLoader} loader
 * @property {import("./viewport.js").Viewport} viewport
 * @property {Record<string, number>} timings
 * @property {number[]} drawMs the cost of the last frames
 * @property {{x: number, y: number} | null} pointer the mouse over the stage (CSS pixels), if any
 * @property {any} readout what the readout shows (tests read it)
 * @property {number} generation counts the sources opened (answers about an older one are stale)
 * @property {import("./coords.js").Coordinates} [coords] coordinate labels and ticks (overlays.bindReadout makes it)
 * @property {import("./plot.js").LinePlot} [plot] the line of values under the cursor (overlays.bindReadout makes it)
 *
 * @typedef {object} Hooks the page's wiring, called by the panels
 * @property {() => void} requestDraw
 * @property {() => void} scheduleState write the view into the URL soon
 * @property {() => void} changed a panel changed the view: redraw, the URL, the histogram
 * @property {(d: number, v: number) => void} setIndex
 */

/** Device pixels per CSS pixel. */
export const dpr = () => globalThis.devicePixelRatio || 1;

/** Channels shown. @param {ImageModel} img */
export const visibleChannels = img => img.channels.filter(c => c.visible);

/**
 * The window of a channel in use: the expression's when one is applied; null while none is set.
 * @param {App} app @param {Channel} ch
 * @returns {[number, number] | null}
 */
export const windowOf = (app, ch) => (app.expr ? app.exprWindows.get(ch.index) : ch.window) ?? null;

/** @param {App} app @param {Channel} ch @param {[number, number]} win */
export function setWindowOf(app, ch, win) {
  if (app.expr) app.exprWindows.set(ch.index, win); else ch.window = win;
}

/**
 * `fn` called once, `ms` after the last of a burst of calls.
 * @param {() => void} fn @param {number} ms
 */
export function debounced(fn, ms) {
  let timer = 0;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}
