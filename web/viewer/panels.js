// The tree of groups and arrays, and the metadata of the selected node, as plain DOM.

import { findNode } from "./image.js";
import { unitSymbol } from "./image.js";

/** Escape text for innerHTML. */
export const esc = s => String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

/** "12.3 MB" */
export function formatBytes(n) {
  if (n === null || n === undefined || n < 0) return "?";
  const u = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${i ? n.toPrecision(3) : n} ${u[i]}`;
}

const DTYPE_NAMES = { b1: "bool", u1: "uint8", i1: "int8", u2: "uint16", i2: "int16", u4: "uint32", i4: "int32",
  u8: "uint64", i8: "int64", f2: "float16", f4: "float32", f8: "float64", c8: "complex64", c16: "complex128" };

/** "<u2" -> "uint16 (little-endian)" */
export function dtypeName(d) {
  const name = DTYPE_NAMES[String(d).slice(1)] ?? d;
  const order = d[0] === ">" ? " big-endian" : "";
  return name + order;
}

/** Whether a tree node's attributes describe a multiscale image (OME-NGFF or N5). */
export function looksMultiscale(n) {
  const a = n?.attrs ?? {};
  return n?.kind === "group" && !!(a.multiscales || a.ome?.multiscales || Array.isArray(a.scales) || a.multiScale);
}

function badge(n) {
  const a = n.attrs ?? {};
  const ms = a.ome?.multiscales ?? a.multiscales;
  if (ms) return `<span class="badge ome">OME ${esc(a.ome?.version ?? ms[0]?.version ?? "")} · ${ms[0]?.datasets?.length ?? "?"} levels</span>`;
  if (Array.isArray(a.scales)) return `<span class="badge n5">N5 pyramid · ${a.scales.length} levels</span>`;
  if (a.ome?.plate || a.plate) return `<span class="badge">plate</span>`;
  return "";
}

/**
 * Render the tree into `el`; clicking a node calls onSelect(path).
 * @param {HTMLElement} el
 * @param {any} tree
 * @param {(path: string) => void} onSelect
 */
export function renderTree(el, tree, onSelect) {
  const row = (n, depth) => {
    const icon = n.kind === "group" ? (looksMultiscale(n) ? "▣" : "▸") : "▦";
    const shape = n.kind === "array" ? `<span class="dim">${n.shape.join(" × ")} ${esc(dtypeName(n.dtype))}</span>` : "";
    const name = n.path === "" ? (tree.label ?? "/") : n.name;
    let html = `<li><button class="node ${n.kind}" data-path="${esc(n.path)}" style="padding-left:${0.4 + depth * 0.9}em" title="${esc(n.path || "/")}">` +
      `<span class="icon">${icon}</span><span class="name">${esc(name)}</span>${badge(n)}${shape}</button></li>`;
    for (const c of n.children ?? []) html += row(c, depth + 1);
    if (n.truncated) html += `<li class="dim" style="padding-left:${1.3 + depth * 0.9}em">… more members not listed</li>`;
    return html;
  };
  el.innerHTML = `<ul>${row(tree, 0)}</ul>`;
  el.querySelectorAll("button.node").forEach(b => b.addEventListener("click", () => onSelect(b.dataset.path)));
}

/** Mark the selected node. */
export function markSelected(el, path) {
  el.querySelectorAll("button.node").forEach(b => b.classList.toggle("selected", b.dataset.path === path));
}

/**
 * The metadata table of a node (and its multiscale description when `info` has one).
 * @param {HTMLElement} el
 * @param {any} tree
 * @param {any} node
 * @param {any} info viewer_api.describe of the node (may be null while loading)
 */
export function renderMeta(el, tree, node, info) {
  const rows = [];
  const add = (k, v) => rows.push(`<tr><th>${esc(k)}</th><td>${v}</td></tr>`);
  add("path", `<code>/${esc(node.path)}</code>`);
  add("format", esc({ zarr2: "Zarr v2", zarr3: "Zarr v3", n5: "N5" }[node.format] ?? node.format));
  if (node.kind === "array") {
    const xr = node.attrs?._ARRAY_DIMENSIONS;
    const names = info?.dimension_names ?? (Array.isArray(xr) ? xr : null);
    add("shape", node.shape.map((s, d) => names?.[d] ? `${esc(names[d])}: ${s}` : s).join(" × "));
    add("dtype", `${esc(dtypeName(node.dtype))} <span class="dim">${esc(node.dtype)}</span>`);
    add("chunks", node.chunks.join(" × ") + (info?.grid ? ` <span class="dim">(${info.grid.map((g, d) => node.shards ? Math.ceil(node.shape[d] / node.chunks[d]) : g).join(" × ")} chunks)</span>` : ""));
    if (node.shards) add("shards", node.shards.join(" × ") + (info?.grid ? ` <span class="dim">(${info.grid.join(" × ")} shards)</span>` : ""));
    add("codecs", (node.codecs ?? []).map(c => `<code>${esc(c)}</code>`).join("<br>") || "—");
    add("fill value", `<code>${esc(JSON.stringify(node.fill_value))}</code>`);
    if (info?.nbytes !== undefined) add("size", `${formatBytes(info.nbytes)} <span class="dim">uncompressed</span>`);
  } else {
    add("members", String((node.children ?? []).length));
  }
  let html = `<table class="kv">${rows.join("")}</table>`;
  const ms = info?.multiscale;
  if (ms) html += multiscaleHTML(tree, node, ms);
  if (info?.multiscale_error) html += `<p class="warn">multiscale metadata: ${esc(info.multiscale_error)}</p>`;
  const attrs = node.attrs ?? {};
  if (Object.keys(attrs).length) {
    html += `<details class="attrs"${ms ? "" : " open"}><summary>attributes</summary><pre>${esc(JSON.stringify(attrs, null, 1))}</pre></details>`;
  }
  el.innerHTML = html;
}

function multiscaleHTML(tree, node, ms) {
  const kind = ms.version === "n5" ? "N5 multiscale" : `OME-NGFF ${esc(ms.version ?? "")} multiscale`;
  const axes = ms.axes.map(a => `${esc(a.name)}${a.type ? `<span class="dim">:${esc(a.type)}</span>` : ""}${a.unit ? ` <span class="dim">(${esc(unitSymbol(a.unit))})</span>` : ""}`).join(", ");
  const levels = ms.levels.map(l => {
    const a = findNode(tree, node.path ? `${node.path}/${l.path}` : l.path);
    const scale = (l.scale ?? []).map(v => Number(v.toPrecision(4))).join(" × ");
    return `<tr><td><code>${esc(l.path)}</code></td><td>${a ? a.shape.join(" × ") : "<em>missing</em>"}</td><td>${a ? a.chunks.join("×") : ""}</td><td>${scale}</td></tr>`;
  }).join("");
  const channels = (ms.channels ?? []).map(c => `<li><span class="sw" style="background:#${esc(c.color)}"></span>${esc(c.label)}` +
    `${c.window ? ` <span class="dim">window ${c.window.join("–")}</span>` : ""}${c.active ? "" : ' <span class="dim">(off)</span>'}</li>`).join("");
  return `<div class="ms"><h4>${kind}${ms.name ? ` — ${esc(ms.name)}` : ""}</h4>` +
    `<p>axes: ${axes}</p><table class="levels"><tr><th>level</th><th>shape</th><th>chunks</th><th>scale</th></tr>${levels}</table>` +
    (channels ? `<p>channels (omero):</p><ul class="chs">${channels}</ul>` : "") + "</div>";
}
