// The view in the page URL, so a view can be shared: source, path, plane, displayed axes, zoom and
// centre, channels (visible:min:max:colour), invert, expression, chunk map. Readable: ":" "," "/" stay.
//
//   ?source=../sample/cells.ome.zarr&path=&d.z=6&zoom=3.04&x=256&y=256&ch=1:100:900:viridis,0:0:2417:ffa31a

import { COLORMAPS } from "./colors.js";

const num = v => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));

/** One channel for the values themselves, when the channel axis becomes a displayed axis. */
export const valuesChannel = () => [{ index: 0, label: "values", color: "gray", window: null, visible: true }];

/**
 * The query string of a view.
 * @param {{source: string | null, image: import("./image.js").ImageModel | null, index: number[],
 *   zoom: number, cx: number, cy: number, invert: boolean, expr: string, chunkMap: boolean,
 *   sourceOptions?: ReturnType<typeof import("./sources.js").linkOptions>}} v
 *   expr: the expression applied, or else the one a link brought that waits for Apply (it stays in the link);
 *   sourceOptions: how the source was opened (a bucket's region, endpoint_url, addressing_style, account_name), kept so the link reopens it
 */
export function stateQuery(v) {
  const p = new URLSearchParams();
  const img = v.image;
  if (v.source) p.set("source", v.source);
  for (const [k, val] of Object.entries(v.sourceOptions || {})) p.set(k, val);
  if (img) {
    p.set("path", img.path);
    img.axes.forEach((a, d) => { if (d !== img.yDim && d !== img.xDim && d !== img.cDim) p.set(`d.${a.name}`, String(v.index[d])); });
    if (img.yDim !== img.ndim - 2 || img.xDim !== img.ndim - 1) p.set("axes", `${img.yDim},${img.xDim}`);
    p.set("zoom", num(v.zoom));
    p.set("x", String(Math.round(v.cx * 10) / 10));
    p.set("y", String(Math.round(v.cy * 10) / 10));
    p.set("ch", img.channels.map(c => [c.visible ? 1 : 0, c.window ? num(c.window[0]) : "", c.window ? num(c.window[1]) : "",
      c.color.replace(/^#/, "")].join(":")).join(","));
    if (v.invert) p.set("invert", "1");
    if (v.expr) p.set("expr", v.expr);
    if (v.chunkMap) p.set("chunks", "1");
  }
  return [...p].map(([k, val]) => `${k}=${encodeURIComponent(val).replace(/%3A/gi, ":").replace(/%2C/gi, ",").replace(/%2F/gi, "/")}`).join("&");
}

/**
 * Put the view into the page's address (no history entry), when it changed.
 * @param {Parameters<typeof stateQuery>[0]} v
 */
export function replaceLink(v) {
  const url = `${location.pathname}?${stateQuery(v)}`;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

/**
 * Apply a saved view to a freshly built image (axes, plane index, channels) and return the rest. The
 * expression of a link is returned as `linkExpr`, never applied: it runs when the person presses Apply.
 * @param {URLSearchParams} p
 * @param {import("./image.js").ImageModel} img changed in place
 * @param {number[]} index changed in place
 * @returns {{invert: boolean, linkExpr: string, chunkMap: boolean}}
 */
export function applyState(p, img, index) {
  const axes = p.get("axes");
  if (axes) {
    const [y, x] = axes.split(",").map(Number);
    if (y !== x && y >= 0 && x >= 0 && y < img.ndim && x < img.ndim) {
      img.yDim = y; img.xDim = x;
      if (img.cDim === y || img.cDim === x) { img.cDim = -1; img.channels = valuesChannel(); }
    }
  }
  img.axes.forEach((a, d) => {
    const v = p.get(`d.${a.name}`);
    if (v !== null) index[d] = Math.max(0, Math.min(img.levels[0].shape[d] - 1, Number(v) || 0));
  });
  const ch = p.get("ch");
  if (ch) ch.split(",").forEach((s, i) => {
    const c = img.channels[i];
    if (!c) return;
    const [vis, lo, hi, color] = s.split(":");
    c.visible = vis !== "0";
    if (lo && hi) c.window = [Number(lo), Number(hi)];
    if (color) c.color = COLORMAPS.includes(color) ? color : `#${color}`;
  });
  return { invert: p.get("invert") === "1", linkExpr: p.get("expr") ?? "", chunkMap: p.get("chunks") === "1" };
}
