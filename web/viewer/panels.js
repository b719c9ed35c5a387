// The tree of groups and arrays, and the metadata of the selected node, as plain DOM. What a node is
// (a pyramid, a plate, its axes and channels) comes from Python: the tree's summaries
// (viewer_api.summaries) and the image model (viewer_api.image); no attribute names here.

import { unitSymbol } from "./image.js";

/**
 * @typedef {{multiscale: boolean, plate: boolean, levels: number | null, badge: string | null,
 *   convention: string | null}} Summary
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

/** The paths of the groups of a tree (what viewer_api.summaries describes). @param {any} tree */
export function groupPaths(tree) {
  const out = [];
  const walk = n => { if (n.kind === "group") { out.push(n.path); (n.children ?? []).forEach(walk); } };
  if (tree) walk(tree);
  return out;
}

/** The parent path of a node path ("" for the root's children). */
export const parentPath = p => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");

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

/** @param {Summary | undefined} sum */
function badge(sum) {
  if (!sum?.badge) return "";
  return `<span class="badge${sum.convention ? ` ${esc(sum.convention)}` : ""}">${esc(sum.badge)}</span>`;
}

/**
 * Render the tree into `el`; clicking a node calls onSelect(path).
 * @param {HTMLElement} el
 * @param {any} tree
 * @param {(path: string) => void} onSelect
 * @param {Record<string, Summary>} [summaries] by node path
 */
export function renderTree(el, tree, onSelect, summaries = {}) {
  const row = (n, depth) => {
    const sum = summaries[n.path];
    const why = unreadable(n);
    const icon = n.kind === "group" ? (sum?.multiscale ? "▣" : "▸") : why ? "⚠" : "▦";
    const shape = n.kind === "array" ? `<span class="dim">${n.shape.join(" × ")} ${esc(dtypeName(n.dtype))}</span>` : "";
    // a member that could not be opened, or an array this page cannot read: why, as text, where it would be
    const error = why ? `<span class="why">${esc(why)}</span>` : "";
    const name = n.path === "" ? (tree.label ?? "/") : n.name;
    const title = n.kind === "error" ? `${n.path}: ${n.error.name}: ${n.error.message}`
      : why ? `${n.path || "/"}: not readable here: ${why}` : n.path || "/";
    const kind = n.kind === "array" && why ? "array unreadable" : n.kind;
    let html = `<li><button class="node ${kind}" data-path="${esc(n.path)}" style="padding-left:${0.4 + depth * 0.9}em" title="${esc(title)}">` +
      `<span class="icon">${icon}</span><span class="name">${esc(name)}</span>${badge(sum)}${shape}${error}</button></li>`;
    for (const c of n.children ?? []) html += row(c, depth + 1);
    if (n.truncated) html += `<li class="dim" style="padding-left:${1.3 + depth * 0.9}em">… more members not listed</li>`;
    return html;
  };
  el.innerHTML = `<ul>${row(tree, 0)}</ul>`;
  el.querySelectorAll("button.node").forEach(b => b.addEventListener("click", () => onSelect(/** @type {HTMLElement} */ (b).dataset.path ?? "")));
}

/** Why this page cannot read a node, from Python (its error, or `zarrlite check`'s problems), or "".
 * @param {any} n a tree node */
export function unreadable(n) {
  if (n.kind === "error") return n.error.message;
  return (n.problems ?? []).map(p => `${p.kind}: ${p.message}`).join("; ");
}

/** Mark the selected node. */
export function markSelected(el, path) {
  el.querySelectorAll("button.node").forEach(b => b.classList.toggle("selected", b.dataset.path === path));
}

/**
 * The metadata table of a node, and the image it shows when it is one.
 * @param {HTMLElement} el
 * @param {any} node the tree node
 * @param {any} info viewer_api.describe of the node (may be null while loading)
 * @param {import("./image.js").ImageModel | null} [image] its image model, when it has one
 */
export function renderMeta(el, node, info, image = null) {
  const rows = [];
  const add = (k, v) => rows.push(`<tr><th>${esc(k)}</th><td>${v}</td></tr>`);
  add("path", `<code>/${esc(node.path)}</code>`);
  if (node.kind === "error") {
    add("error", `<span class="err">${esc(node.error.name)}</span>`);
    el.innerHTML = `<table class="kv">${rows.join("")}</table><pre class="err"></pre>`;
    /** @type {HTMLElement} */ (el.querySelector("pre.err")).textContent = node.error.message;
    return;
  }
  add("format", esc({ zarr2: "Zarr v2", zarr3: "Zarr v3", n5: "N5" }[node.format] ?? node.format));
  if (node.kind === "array") {
    const names = info?.dimension_names;
    add("shape", node.shape.map((s, d) => names?.[d] ? `${esc(names[d])}: ${s}` : s).join(" × "));
    add("dtype", `${esc(dtypeName(node.dtype))} <span class="dim">${esc(node.dtype)}</span>`);
    add("chunks", node.chunks.join(" × ") + (info?.grid ? ` <span class="dim">(${info.grid.map((g, d) => node.shards ? Math.ceil(node.shape[d] / node.chunks[d]) : g).join(" × ")} chunks)</span>` : ""));
    if (node.shards) add("shards", node.shards.join(" × ") + (info?.grid ? ` <span class="dim">(${info.grid.join(" × ")} shards)</span>` : ""));
    add("codecs", (node.codecs ?? []).map(c => `<code>${esc(c)}</code>`).join("<br>") || "—");
    if (node.problems?.length) add("not readable here", `<span class="err">${esc(unreadable(node))}</span>`);
    add("fill value", `<code>${esc(JSON.stringify(node.fill_value))}</code>`);
    if (info?.nbytes !== undefined) add("size", `${formatBytes(info.nbytes)} <span class="dim">uncompressed</span>`);
  } else {
    add("members", String((node.children ?? []).length));
  }
  let html = `<table class="kv">${rows.join("")}</table>`;
  const pyramid = image?.kind === "group" && image.description ? image : null;
  if (pyramid) html += pyramidHTML(pyramid);
  const attrs = node.attrs ?? {};
  const hasAttrs = Object.keys(attrs).length > 0;
  if (hasAttrs) html += `<details class="attrs"${pyramid ? "" : " open"}><summary>attributes</summary><pre></pre></details>`;
  el.innerHTML = html;
  if (hasAttrs) showLongText(/** @type {HTMLElement} */ (el.querySelector(".attrs")), attrsJSON(attrs), "attributes.json");
}

// A <pre> of megabytes takes the main thread seconds to lay out: long text is shown in bounded steps.
const TEXT_SHOWN = 2_000;        // characters shown at first
const TEXT_STEP = 50_000;        // characters each "show more" adds
const TEXT_MAX = 1_000_000;      // characters ever shown in the page; the rest is offered as a file
/** @type {WeakMap<object, string>} */
const jsonOf = new WeakMap();

/** The attributes as indented JSON text, made once per attributes object. @param {object} attrs */
function attrsJSON(attrs) {
  let text = jsonOf.get(attrs);
  if (text === undefined) {
    // BigInt, NaN and ±Infinity (which reviveJSON gives back exactly) as their digits, not null or a throw
    text = JSON.stringify(attrs, (_, v) => (typeof v === "bigint" || (typeof v === "number" && !Number.isFinite(v)) ? String(v) : v), 1);
    jsonOf.set(attrs, text);
  }
  return text;
}

/** "7050 kB" @param {number} n characters */
const kB = n => `${Math.round(n / 1000)} kB`;

/**
 * Show `text` in the <pre> of `box` as text, its first TEXT_SHOWN characters and a control that shows
 * more in place (TEXT_STEP at a time, up to TEXT_MAX; past that a link saves the whole as a file).
 * @param {HTMLElement} box holds a <pre> @param {string} text @param {string} fileName
 */
export function showLongText(box, text, fileName) {
  const pre = /** @type {HTMLElement} */ (box.querySelector("pre"));
  let shown = Math.min(text.length, TEXT_SHOWN);
  const more = document.createElement("button");
  more.type = "button";
  more.className = "more";
  const update = () => {
    pre.textContent = shown < text.length ? `${text.slice(0, shown)}…` : text;
    more.hidden = shown >= text.length || shown >= TEXT_MAX;
    more.textContent = shown === TEXT_SHOWN ? `show all (${kB(text.length)})` : `show more (${kB(text.length - shown)} left)`;
    if (shown >= TEXT_MAX && shown < text.length && !box.querySelector("a.save")) {
      const save = document.createElement("a");
      save.className = "save";
      save.download = fileName;
      save.href = "#";
      save.addEventListener("click", () => {   // the file is made when asked for, and let go soon after
        save.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
        setTimeout(() => URL.revokeObjectURL(save.href), 60_000);
      });
      save.textContent = `save all ${kB(text.length)} as ${fileName}`;
      box.append(save);
    }
  };
  more.addEventListener("click", () => { shown = Math.min(text.length, shown + TEXT_STEP, TEXT_MAX); update(); });
  box.append(more);
  update();
}

/** @param {import("./image.js").ImageModel} img */
function pyramidHTML(img) {
  const axes = img.axes.map(a => `${esc(a.name)}${a.type ? `<span class="dim">:${esc(a.type)}</span>` : ""}${a.unit ? ` <span class="dim">(${esc(unitSymbol(a.unit))})</span>` : ""}`).join(", ");
  const levels = img.levels.map(l => {
    const scale = l.scale.map(v => Number(v.toPrecision(4))).join(" × ");
    return `<tr><td><code>${esc(l.path)}</code></td><td>${l.shape.join(" × ")}</td><td>${l.chunks.join("×")}</td><td>${scale}</td></tr>`;
  }).join("");
  const channels = img.channels.filter(c => c.sourceColor).map(c => `<li><span class="sw" style="background:${esc(c.sourceColor)}"></span>${esc(c.label)}` +
    `${c.window ? ` <span class="dim">window ${c.window.join("–")}</span>` : ""}${c.visible ? "" : ' <span class="dim">(off)</span>'}</li>`).join("");
  const labels = img.labels.length ? `<p>labels: ${img.labels.map(p => `<code>${esc(p)}</code>`).join(", ")}</p>` : "";
  return `<div class="ms"><h4>${esc(img.description)}</h4>` +
    `<p>axes: ${axes}</p><table class="levels"><tr><th>level</th><th>shape</th><th>chunks</th><th>scale</th></tr>${levels}</table>` +
    (channels ? `<p>channels:</p><ul class="chs">${channels}</ul>` : "") + labels + "</div>";
}
