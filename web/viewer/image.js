// The image model: a node of the opened tree (a multiscale group, or an array) turned into pyramid levels,
// named axes with units, the two displayed dimensions, and channels. Format-blind from here on.

import { PALETTE } from "./colors.js";

/**
 * @typedef {{path: string, shape: number[], chunks: number[], shards: number[] | null, dtype: string,
 *   outDtype: string, codecs: string[], fill_value: any, factor: number[]}} Level
 * @typedef {{name: string, type: string | null, unit: string | null, scale: number}} Axis
 * @typedef {{index: number, label: string, color: string, window: [number, number] | null,
 *   visible: boolean}} Channel
 * @typedef {{path: string, name: string, kind: string, levels: Level[], axes: Axis[], ndim: number,
 *   yDim: number, xDim: number, cDim: number, channels: Channel[], multiscale: object | null,
 *   format: string, dtype: string}} ImageModel
 */

/** @param {any} tree @param {string} path */
export function findNode(tree, path) {
  if (!tree) return null;
  if (tree.path === path) return tree;
  for (const c of tree.children ?? []) {
    const hit = findNode(c, path);
    if (hit) return hit;
  }
  return null;
}

/** The node to show first: the root if it is an image, else the first multiscale group, else the
 * first array of 2+ dimensions. @param {any} tree @param {(n: any) => boolean} isMultiscale */
export function defaultNode(tree, isMultiscale) {
  const walk = (n, pred) => pred(n) ? n : (n.children ?? []).map(c => walk(c, pred)).find(Boolean) ?? null;
  return walk(tree, isMultiscale) ?? walk(tree, n => n.kind === "array" && n.shape.length >= 2) ?? null;
}

/** The parent path of a node path ("" for the root's children). */
export const parentPath = p => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");

/**
 * Build the model. `info` is viewer_api.describe of the node; `parentInfo` of its parent group (so a
 * level of a pyramid keeps its axes and channels).
 * @returns {ImageModel}
 */
export function buildImage(tree, node, info, parentInfo) {
  const ms = node.kind === "group" ? info?.multiscale : null;
  let levels, axes, msChannels = [];
  if (ms) {
    const byPath = p => findNode(tree, node.path ? `${node.path}/${p}` : p);
    const arrays = ms.levels.map(l => byPath(l.path)).filter(Boolean);
    if (!arrays.length) throw new Error(`the multiscale group '${node.path || "/"}' has none of its level arrays`);
    const base = arrays[0];
    levels = ms.levels.map(l => ({ l, a: byPath(l.path) })).filter(x => x.a && x.a.shape.length === base.shape.length)
      .map(({ l, a }) => level(a, base.shape.map((n, d) => {
        const s0 = ms.levels[0].scale?.[d], s = l.scale?.[d];
        return s0 && s ? s / s0 : n / a.shape[d];
      })));
    axes = ms.axes.map((a, d) => ({ name: a.name, type: a.type ?? null, unit: a.unit ?? null,
      scale: ms.levels[0].scale?.[d] ?? 1 }));
    msChannels = ms.channels ?? [];
  } else if (node.kind === "array") {
    levels = [level(node, node.shape.map(() => 1))];
    const pms = parentInfo?.multiscale;
    // zarr v3 dimension_names, or xarray's _ARRAY_DIMENSIONS attribute (Zarr v2 from climate tools)
    const xr = node.attrs?._ARRAY_DIMENSIONS;
    const names = info?.dimension_names ?? (Array.isArray(xr) && xr.length === node.shape.length ? xr : null);
    if (pms && pms.axes.length === node.shape.length) {
      const l = pms.levels.find(x => `${parentPath(node.path) ? parentPath(node.path) + "/" : ""}${x.path}` === node.path);
      axes = pms.axes.map((a, d) => ({ name: a.name, type: a.type ?? null, unit: a.unit ?? null, scale: l?.scale?.[d] ?? 1 }));
      msChannels = pms.channels ?? [];
    } else {
      axes = node.shape.map((_, d) => {
        const name = names?.[d] ?? defaultName(d, node.shape.length);
        return { name, type: guessType(name, node.shape[d]), unit: null, scale: 1 };
      });
    }
  } else {
    throw new Error(`'${node.path || "/"}' is a group without multiscale metadata: pick one of its arrays`);
  }
  const ndim = levels[0].shape.length;
  if (ndim < 2) throw new Error(`'${node.path || "/"}' has ${ndim} dimension(s): a plane needs 2`);
  // an RGB(A) picture stored as (..., y, x, 3|4): the last dimension is its colour channels
  let rgb = false;
  if (!ms && !axes.some(a => a.type === "channel") && ndim >= 3 && [3, 4].includes(levels[0].shape[ndim - 1]) && levels[0].shape[ndim - 2] > 4) {
    axes[ndim - 1].type = "channel";
    rgb = true;
    if (!info?.dimension_names && !node.attrs?._ARRAY_DIMENSIONS) {   // default names were t, c, z, y, x
      const names = ["y", "x", "c"];
      for (let k = 1; k <= 3 && ndim - k >= 0; k++) axes[ndim - k].name = names[3 - k];
      for (let d = 0; d < ndim - 3; d++) axes[d].name = ["t", "z"][d + 2 - (ndim - 3)] ?? `dim_${d}`;
    }
  }
  const cDim = axes.findIndex(a => a.type === "channel");
  const spatial = axes.map((a, d) => d).filter(d => d !== cDim);
  const xDim = spatial[spatial.length - 1], yDim = spatial[spatial.length - 2] ?? (cDim >= 0 ? cDim : 0);
  const nChannels = cDim >= 0 && cDim !== yDim ? levels[0].shape[cDim] : 1;
  const channels = [];
  for (let i = 0; i < nChannels; i++) {
    const m = msChannels[i];
    channels.push({
      index: i,
      label: m?.label ?? (rgb ? ["red", "green", "blue", "alpha"][i] : nChannels > 1 ? `channel ${i}` : node.name || "values"),
      color: m?.color ? `#${m.color.toLowerCase()}` : rgb ? ["#ff0000", "#00ff00", "#0000ff", "#ffffff"][i]
        : (nChannels > 1 ? PALETTE[i % PALETTE.length] : "gray"),
      window: m?.window ? [...m.window] : (rgb && levels[0].dtype.endsWith("u1") ? [0, 255] : null),
      visible: m ? m.active !== false : rgb ? i < 3 : i < 4,
    });
  }
  if (channels.length && !channels.some(c => c.visible)) channels[0].visible = true;
  // a segmentation (integer ids): coloured by id, not by a ramp
  const isLabels = /^[<>|]?[iu]/.test(levels[0].dtype) && channels.length === 1 &&
    (!!(node.attrs?.["image-label"] ?? node.attrs?.ome?.["image-label"]) || /(^|\/)(labels?|seg\w*|segmentation|ids?|supervoxels?|neurons?)(\/|$)/i.test(node.path));
  if (isLabels) channels[0].color = "labels";
  return { path: node.path, name: node.name || "/", kind: node.kind, levels, axes, ndim, yDim, xDim,
    cDim: nChannels > 1 || (cDim >= 0 && cDim !== yDim) ? cDim : -1, channels, multiscale: ms ?? null,
    format: node.format, dtype: levels[0].dtype };
}

function level(a, factor) {
  return { path: a.path, shape: a.shape, chunks: a.chunks, shards: a.shards ?? null, dtype: a.dtype,
    outDtype: a.outDtype ?? a.dtype, codecs: a.codecs ?? [], fill_value: a.fill_value, factor };
}

function defaultName(d, ndim) {
  const names = ["t", "c", "z", "y", "x"];
  return ndim <= 5 && ndim >= 2 ? names.slice(5 - ndim)[d] : `dim_${d}`;
}

function guessType(name, size) {
  const n = String(name).toLowerCase();
  if ((n === "c" || n === "channel" || n === "channels" || n === "band") && size <= 32) return "channel";
  if (n === "t" || n === "time") return "time";
  if (n === "z" || n === "depth" || n === "level" || n === "lev" || n === "height") return "space";
  return null;
}

/** "micrometer" -> "µm" etc.; null when unknown. */
export function unitSymbol(unit) {
  if (!unit) return null;
  const map = { micrometer: "µm", micron: "µm", um: "µm", "µm": "µm", nanometer: "nm", nm: "nm",
    millimeter: "mm", mm: "mm", centimeter: "cm", cm: "cm", meter: "m", m: "m", kilometer: "km", km: "km",
    angstrom: "Å", picometer: "pm", second: "s", millisecond: "ms", degree: "°" };
  return map[String(unit).toLowerCase()] ?? String(unit);
}

const TO_METERS = { "pm": 1e-12, "Å": 1e-10, "nm": 1e-9, "µm": 1e-6, "mm": 1e-3, "cm": 1e-2, "m": 1, "km": 1e3 };

/** A length in `unit` -> a readable string, switching prefixes when the unit is a length. */
export function formatLength(value, unit) {
  const sym = unitSymbol(unit);
  const m = TO_METERS[sym];
  if (m === undefined) return `${trim(value)} ${sym ?? ""}`.trim();
  const meters = value * m;
  for (const [u, f] of [["km", 1e3], ["m", 1], ["mm", 1e-3], ["µm", 1e-6], ["nm", 1e-9], ["pm", 1e-12]]) {
    if (Math.abs(meters) >= f * 0.999) return `${trim(meters / f)} ${u}`;
  }
  return `${trim(value)} ${sym}`;
}

const trim = v => String(Number(v.toPrecision(4)));

/** Whether the unit is a length (a scale bar makes sense). */
export const isLength = unit => TO_METERS[unitSymbol(unit)] !== undefined;
