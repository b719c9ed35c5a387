// The zarrlite viewer page: opens a source with the public JS API (Zarrlite.create/open/read), shows a
// 2-D plane of an N-D array from chunk-aligned tiles of the pyramid level that suits the zoom (coarse
// first, then refined), colours them on the main thread (colors.js, the same numbers as zarrlite.render),
// and keeps the view in the URL. Python extras (chunk map, expressions) go through zl.viewer().

import { Zarrlite } from "../zarrlite.js";
import { COLORMAPS, composite, histogram, lut, NAMED_COLORS, percentiles, setColormaps, swatch } from "./colors.js";
import { paintChunkMap } from "./chunkmap.js";
import { explain } from "./errors.js";
import { buildImage, defaultNode, findNode, formatLength, isLength, parentPath, unitSymbol } from "./image.js";
import { dtypeName, esc, formatBytes, looksMultiscale, markSelected, renderMeta, renderTree } from "./panels.js";
import { folderLabel, fromDrop, pickDirectory } from "./sources.js";
import { applyState, stateQuery, valuesChannel } from "./state.js";
import { TileLoader, tileSize, tilesIn } from "./tiles.js";
import { Viewport } from "./viewport.js";

const $ = id => document.getElementById(id);
const canvas = /** @type {HTMLCanvasElement} */ ($("canvas"));
const overlay = /** @type {HTMLCanvasElement} */ ($("overlay"));
const stage = $("stage");
const ctx = canvas.getContext("2d");
const URL_HINT = $("url").placeholder;
const octx = overlay.getContext("2d");

/** Everything the page shows; `image` is the model of the selected node (image.js). */
const app = {
  zl: /** @type {Zarrlite | null} */ (null),
  tree: null, source: null, label: "", infos: new Map(),
  image: /** @type {import("./image.js").ImageModel | null} */ (null),
  index: /** @type {number[]} */ ([]),          // level-0 index along every dimension
  selected: 0,                                  // channel whose contrast is edited
  invert: false, expr: "", chunkMap: false,
  chunkInfo: null, tileErrors: new Map(), failures: 0,
  generation: 0,
};
window.viewer = app;   // for tests and the bench: app state, timings, loader counters
/** True when nothing is loading, queued or waiting to be drawn (tests and the bench poll it). */
app.idle = () => !!app.image && !frame && !loader.loading && !loader.queued && !chunkTimer;
const timings = app.timings = { t0: performance.now() };

const loader = new TileLoader({
  onLoad: e => { onTileLoaded(e); requestDraw(); },
  onError: e => { app.tileErrors.set(e.key, e); app.failures++; showError(e.error, { tile: true }); requestDraw(); },
});
app.loader = loader;
/** Coloured tiles: key -> {canvas, version}. */
const painted = new Map();

const viewport = new Viewport(stage, () => { requestDraw(); scheduleState(); });
app.viewport = viewport;

// -- start-up ------------------------------------------------------------------------------------------
function stageMark(name, state) {
  const li = document.querySelector(`#stages li[data-stage="${name}"]`);
  if (!li) return;
  const order = [...document.querySelectorAll("#stages li")];
  const at = order.indexOf(li);
  order.forEach((el, i) => {
    if (i < at || (i === at && state === "done")) {
      if (!el.classList.contains("done")) {
        el.classList.add("done");
        el.classList.remove("active");
        const t = document.createElement("span");
        t.className = "t";
        t.textContent = `${((performance.now() - timings.t0) / 1000).toFixed(1)} s`;
        el.append(t);
      }
    } else if (i === at) el.classList.add("active");
  });
}

async function boot() {
  resize();
  new ResizeObserver(() => { resize(); requestDraw(); }).observe(stage);
  bindUI();
  stageMark("pyodide", "active");
  setStatus("starting Python…");
  try {
    app.zl = await Zarrlite.create({
      onProgress: p => {
        const next = { pyodide: "pyodide", packages: "packages", codecs: "codecs", ready: "open" }[p.stage];
        if (next) stageMark(next, "active");
        setStatus(`starting: ${p.stage}`);
      },
    });
  } catch (err) {
    showError(err);
    setStatus("failed to start");
    return;
  }
  timings.runtime = performance.now() - timings.t0;
  try { setColormaps(await app.zl.viewer("colormaps")); } catch (err) { console.warn("colormaps:", err); }
  loadExamples();
  const params = new URLSearchParams(location.search);
  const source = params.get("source");
  document.body.dataset.ready = "1";
  if (source) {
    $("url").value = source;
    await openSource(source, source, params);
  } else {
    $("startup").hidden = true;
    $("empty").hidden = false;
    setStatus(`ready in ${(timings.runtime / 1000).toFixed(1)} s`);
  }
}

async function loadExamples() {
  try {
    const res = await fetch(new URL("../sample/samples.json", location.href));
    if (!res.ok) return;
    const list = await res.json();
    const sel = $("examples"), links = $("example-links");
    for (const s of list) {
      const href = `../sample/${s.source}`;
      sel.append(new Option(s.name, href));
      const li = document.createElement("li");
      li.innerHTML = `<a href="?source=${encodeURIComponent(href)}">${esc(s.name)}</a>`;
      links.append(li);
    }
  } catch { /* no samples in this build */ }
}

// -- opening ------------------------------------------------------------------------------------------
/**
 * Open a source (URL string, FileList/File[], directory handle, .zip File) and show its default image.
 * @param {any} source
 * @param {string} label
 * @param {URLSearchParams} [params] a saved view to restore
 */
async function openSource(source, label, params) {
  const gen = ++app.generation;
  hideError();
  $("empty").hidden = true;
  $("startup").hidden = false;
  stageMark("open", "active");
  setStatus(`opening ${label}…`);
  loader.clear();
  painted.clear();
  app.tileErrors.clear();
  app.failures = 0;
  app.image = null; app.tree = null; app.infos.clear(); app.chunkInfo = null;
  app.source = typeof source === "string" ? source : null;
  app.label = label;
  $("url").value = app.source ?? "";
  $("url").placeholder = app.source ? URL_HINT : `local: ${label} (local files are not put in the page URL)`;
  document.title = `${label.split("/").filter(Boolean).pop() || label} — zarrlite viewer`;
  showPanels(false);
  requestDraw();
  const t = performance.now();
  let tree;
  try {
    tree = await app.zl.open(source);
  } catch (err) {
    if (gen !== app.generation) return;
    $("startup").hidden = true;
    showError(err, { source: label });
    $("tree").innerHTML = `<p class="dim">Could not open ${esc(label)}.</p>`;
    setStatus("open failed");
    bumpOpened();
    return;
  }
  if (gen !== app.generation) return;
  timings.open = performance.now() - t;
  app.tree = tree;
  tree.label = label.split("/").filter(Boolean).pop() || label;
  $("source-label").textContent = "";
  renderTree($("tree"), tree, path => selectNode(path).catch(err => showError(err)));
  stageMark("open", "done");
  const want = params?.get("path");
  if (want && !findNode(tree, want)) await adopt(tree, want);
  const node = (want !== null && want !== undefined && findNode(tree, want)) || defaultNode(tree, looksMultiscale) || tree;
  await selectNode(node.path, params);
  bumpOpened();
}

/** A path the listing did not reach (plain HTTP cannot list): ask for it and add it to the tree. */
async function adopt(tree, path) {
  try {
    const info = await describe(path);
    if (!info.node) return;
    const parent = findNode(tree, parentPath(path)) ?? tree;
    (parent.children ??= []).push(info.node);
    renderTree($("tree"), tree, p => selectNode(p).catch(err => showError(err)));
  } catch (err) {
    showError(err, { source: `${app.label} → ${path}` });
  }
}

function bumpOpened() {
  document.body.dataset.opened = String(Number(document.body.dataset.opened || 0) + 1);
}

async function describe(path) {
  if (!app.infos.has(path)) app.infos.set(path, app.zl.viewer("describe", [path]));
  return app.infos.get(path);
}

/**
 * Show a node: its metadata, and its image when it has one.
 * @param {string} path
 * @param {URLSearchParams} [params]
 */
async function selectNode(path, params) {
  const gen = app.generation;
  const node = findNode(app.tree, path);
  if (!node) return;
  markSelected($("tree"), path);
  renderMeta($("meta"), app.tree, node, null);
  let info, parentInfo = null;
  try {
    info = await describe(path);
    if (node.kind === "array" && path) parentInfo = await describe(parentPath(path)).catch(() => null);
  } catch (err) {
    showError(err, { source: app.label });
    return;
  }
  if (gen !== app.generation) return;
  renderMeta($("meta"), app.tree, node, info);
  let image;
  try {
    image = buildImage(app.tree, node, info, parentInfo);
  } catch (err) {
    app.image = null;
    showPanels(false);
    $("startup").hidden = true;
    showNote(err.message);
    requestDraw();
    scheduleState();
    return;
  }
  showNote(null);
  hideError();
  loader.clear();
  painted.clear();
  app.tileErrors.clear();
  app.chunkInfo = null;
  app.image = image;
  app.selected = Math.max(0, image.channels.findIndex(c => c.visible));
  app.index = image.levels[0].shape.map((n, d) => {
    const ax = image.axes[d];
    return ax.type === "time" || d === image.cDim ? 0 : Math.floor((n - 1) / 2);
  });
  if (image.multiscale?.version && image.multiscale.version !== "n5") {
    const attrs = findNode(app.tree, image.path)?.attrs ?? {};
    const z = (attrs.ome ?? attrs).omero?.rdefs?.defaultZ;
    const zDim = image.axes.findIndex(a => a.name === "z");
    if (Number.isInteger(z) && zDim >= 0) app.index[zDim] = Math.min(z, image.levels[0].shape[zDim] - 1);
  }
  app.expr = ""; $("expr").value = ""; $("expr-status").textContent = "";
  if (params) restoreState(params);
  const [H, W] = planeSize(0);
  viewport.setImage(W, H);
  if (params && params.get("zoom")) {
    viewport.zoom = Number(params.get("zoom")) || 1;
    viewport.cx = Number(params.get("x") ?? W / 2);
    viewport.cy = Number(params.get("y") ?? H / 2);
  } else viewport.fit();
  showPanels(true);
  buildDims();
  buildChannels();
  syncContrast();
  $("chunkmap").checked = app.chunkMap;
  $("invert").checked = app.invert;
  if (app.expr) applyExpression(app.expr);
  stageMark("image", "active");
  requestDraw();
  scheduleState();
}

function showPanels(on) {
  for (const id of ["dims-box", "channels-box", "contrast-box", "expr-box", "chunks-box", "view-box"]) $(id).hidden = !on;
}

let noteEl = null;
function showNote(text) {
  if (!noteEl) {
    noteEl = document.createElement("div");
    noteEl.className = "card";
    stage.append(noteEl);
  }
  noteEl.hidden = !text;
  if (text) noteEl.innerHTML = `<p>${esc(text)}</p>`;
}

// -- geometry --------------------------------------------------------------------------------------------
/** [H, W] of the displayed plane at a level. */
function planeSize(lv) {
  const img = app.image, s = img.levels[lv].shape;
  return [s[img.yDim], s[img.xDim]];
}

/** Factor of a level along the displayed dimensions (level-0 pixels per level pixel). */
function factors(lv) {
  const img = app.image, f = img.levels[lv].factor;
  return [f[img.yDim], f[img.xDim]];
}

/** The index along every dimension at a level (pyramids may downsample z too). */
function levelIndex(lv) {
  const img = app.image, L = img.levels[lv];
  return app.index.map((i, d) => Math.min(L.shape[d] - 1, Math.floor(i / (L.factor[d] || 1))));
}

/** The level whose pixels are closest to (and not smaller than) screen pixels at the current zoom. */
function chooseLevel() {
  const img = app.image, dpr = window.devicePixelRatio || 1;
  let best = 0;
  img.levels.forEach((L, lv) => { if (factors(lv)[1] <= 1.01 / (viewport.zoom * dpr)) best = lv; });
  return best;
}

function tileShape(lv) {
  const img = app.image, L = img.levels[lv];
  return [tileSize(L.chunks[img.yDim], L.shape[img.yDim]), tileSize(L.chunks[img.xDim], L.shape[img.xDim])];
}

function planeKey(lv) {
  const img = app.image;
  return levelIndex(lv).map((v, d) => (d === img.yDim || d === img.xDim || d === img.cDim ? "_" : v)).join(",");
}

function visibleChannels() {
  const img = app.image;
  return img.channels.filter(c => c.visible);
}

/** The raw tile request for one channel of one tile of a level. */
function tileRequest(lv, t, ch) {
  const img = app.image, L = img.levels[lv];
  const idx = levelIndex(lv);
  const sel = idx.map((v, d) => d === img.yDim ? [t.y0, t.y1] : d === img.xDim ? [t.x0, t.x1] : d === img.cDim ? ch.index : v);
  const key = `${lv}|${planeKey(lv)}|${ch.index}|${t.ty}|${t.tx}`;
  const zl = app.zl;
  return {
    key, meta: { lv, t, ch: ch.index },
    load: async () => {
      try {
        const r = await zl.read(L.path, sel);
        return { data: numeric(r.data), shape: r.shape };
      } catch (err) {
        return readByChunk(L, sel, t, err);
      }
    },
  };
}

/**
 * A tile whose read failed, read again chunk by chunk: the good chunks are kept (a corrupt chunk must not
 * blank its neighbours), the bad ones stay 0 and are listed in `bad` (drawn crossed out).
 */
async function readByChunk(L, sel, t, err) {
  const img = app.image, zl = app.zl;
  const ch = L.chunks[img.yDim], cw = L.chunks[img.xDim];
  const parts = [];
  for (let y = t.y0; y < t.y1; y = (Math.floor(y / ch) + 1) * ch) {
    for (let x = t.x0; x < t.x1; x = (Math.floor(x / cw) + 1) * cw) {
      parts.push({ y0: y, x0: x, y1: Math.min((Math.floor(y / ch) + 1) * ch, t.y1), x1: Math.min((Math.floor(x / cw) + 1) * cw, t.x1) });
    }
  }
  if (parts.length <= 1) throw err;
  const swap = img.yDim > img.xDim;
  const h = t.y1 - t.y0, w = t.x1 - t.x0;
  const [A, B] = swap ? [w, h] : [h, w];             // the tile in dimension order
  let out = null;
  const bad = [];
  for (const p of parts) {
    const s = sel.map((v, d) => (d === img.yDim ? [p.y0, p.y1] : d === img.xDim ? [p.x0, p.x1] : v));
    try {
      const r = await zl.read(L.path, s);
      const data = numeric(r.data);
      out ??= new data.constructor(A * B);
      const [a0, b0] = swap ? [p.x0 - t.x0, p.y0 - t.y0] : [p.y0 - t.y0, p.x0 - t.x0];
      const [pa, pb] = swap ? [p.x1 - p.x0, p.y1 - p.y0] : [p.y1 - p.y0, p.x1 - p.x0];
      for (let i = 0; i < pa; i++) out.set(data.subarray(i * pb, (i + 1) * pb), (a0 + i) * B + b0);
    } catch (e) {
      bad.push({ rect: p, error: e });
    }
  }
  if (!out) throw err;
  app.failures += bad.length;
  showError(bad[0].error, { tile: true });
  return { data: out, shape: [A, B], bad };
}

/** BigInt arrays become Float64 (colouring and statistics need numbers). */
function numeric(data) {
  return (data instanceof BigInt64Array || data instanceof BigUint64Array) ? Float64Array.from(data, Number) : data;
}

// -- expressions ----------------------------------------------------------------------------------------
/** The level an expression is evaluated at: the current one, or coarser until the plane has <= 4 Mpx. */
function exprLevel() {
  const img = app.image;
  let lv = chooseLevel();
  while (lv < img.levels.length - 1 && planeSize(lv)[0] * planeSize(lv)[1] > 4 << 20) lv++;
  return lv;
}

function exprRequest(lv, ch) {
  const img = app.image, L = img.levels[lv];
  const idx = levelIndex(lv);
  const sel = idx.map((v, d) => (d === img.yDim || d === img.xDim ? ":" : d === img.cDim ? ch.index : v)).join(",");
  const key = `expr|${app.expr}|${lv}|${planeKey(lv)}|${ch.index}`;
  const expr = app.expr, zl = app.zl;
  return {
    key, meta: { lv, ch: ch.index, expr: true },
    load: async () => {
      const r = await zl.viewer("evaluate", [L.path, sel, expr]);
      return { data: numeric(r.data), shape: r.shape };
    },
  };
}

function applyExpression(text) {
  app.expr = text.trim();
  $("expr-status").className = "dim";
  $("expr-status").textContent = app.expr ? "evaluating…" : "";
  for (const c of app.image?.channels ?? []) c.exprWindow = null;
  painted.clear();
  requestDraw();
  scheduleState();
}

// -- drawing --------------------------------------------------------------------------------------------
let frame = 0;
let overlayDirty = true;   // the chunk map / failed-tile layer has something on it
app.drawMs = [];       // the cost of the last frames (bench/viewer_bench.py reads it)
function requestDraw() {
  if (!frame) frame = requestAnimationFrame(() => {
    frame = 0;
    const t = performance.now();
    draw();
    app.drawMs.push(performance.now() - t);
    if (app.drawMs.length > 600) app.drawMs.splice(0, 300);
  });
}

function resize() {
  const dpr = window.devicePixelRatio || 1;
  const w = stage.clientWidth, h = stage.clientHeight;
  for (const c of [canvas, overlay]) { c.width = Math.max(1, Math.round(w * dpr)); c.height = Math.max(1, Math.round(h * dpr)); }
  viewport.resize(w, h);
}

/** The visible tiles of a level, as tile rectangles in level pixels. */
function visibleTiles(lv) {
  const [fy, fx] = factors(lv);
  const r = viewport.worldRect();
  return tilesIn(tileShape(lv), planeSize(lv), { y0: r.y0 / fy, y1: r.y1 / fy, x0: r.x0 / fx, x1: r.x1 / fx });
}

function draw() {
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#0b0c0f";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  octx.setTransform(1, 0, 0, 1, 0, 0);
  if (overlayDirty) octx.clearRect(0, 0, overlay.width, overlay.height);   // an untouched layer costs nothing
  overlayDirty = false;
  const img = app.image;
  if (!img) { updateOverlays(null); return; }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const chans = visibleChannels();
  const L = chooseLevel();
  const coarsest = img.levels.length - 1;
  let complete = true;
  if (app.expr) {
    const lv = exprLevel();
    loader.want(chans.map(ch => exprRequest(lv, ch)));
    const [H, W] = planeSize(lv), [fy, fx] = factors(lv);
    const t = { ty: 0, tx: 0, y0: 0, x0: 0, y1: H, x1: W };
    const canvasTile = paintTile(`expr|${app.expr}|${lv}|${planeKey(lv)}`, chans.map(ch => loader.get(exprRequest(lv, ch).key)), t, true);
    if (canvasTile) blit(canvasTile, 0, 0, W * fx, H * fy, fx * viewport.zoom);
    else complete = false;
    const failed = chans.map(ch => loader.get(exprRequest(lv, ch).key)).find(e => e?.state === "error");
    if (failed) { $("expr-status").className = "err"; setText($("expr-status"), failed.error.message); }
    else if (canvasTile) { $("expr-status").className = "dim"; setText($("expr-status"), `x: level ${lv} plane, ${H} × ${W}`); }
  } else {
    // Ask for the coarsest level (a quick first picture) and the level that suits the zoom.
    const requests = [];
    for (const lv of coarsest === L ? [L] : [coarsest, L]) {
      const tiles = visibleTiles(lv);
      const [fy, fx] = factors(lv);
      const [cy, cx] = [viewport.cy / fy, viewport.cx / fx];
      tiles.sort((a, b) => Math.hypot((a.y0 + a.y1) / 2 - cy, (a.x0 + a.x1) / 2 - cx) - Math.hypot((b.y0 + b.y1) / 2 - cy, (b.x0 + b.x1) / 2 - cx));
      for (const t of tiles) for (const ch of chans) requests.push(tileRequest(lv, t, ch));
    }
    loader.want(requests);
    // Paint coarse to fine: finer tiles cover coarser ones as they arrive. Once every tile of the
    // level in use is loaded, only that level is painted (one full-view blit per frame, not one per level).
    const target = visibleTiles(L);
    const allReady = target.every(t => chans.every(ch => ["ready", "error"].includes(loader.get(tileRequest(L, t, ch).key)?.state)));
    for (let lv = allReady ? L : coarsest; lv >= L; lv--) {
      const [fy, fx] = factors(lv);
      const smooth = fx * viewport.zoom < 0.999;
      for (const t of visibleTiles(lv)) {
        const entries = chans.map(ch => loader.get(tileRequest(lv, t, ch).key));
        const c = paintTile(`${lv}|${planeKey(lv)}|${t.ty}|${t.tx}`, entries, t, false);
        if (c) blit(c, t.x0 * fx, t.y0 * fy, (t.x1 - t.x0) * fx, (t.y1 - t.y0) * fy, smooth ? 0.5 : 2);
        if (lv === L && entries.some(e => e?.state === "error")) crossOut(t.x0 * fx, t.y0 * fy, (t.x1 - t.x0) * fx, (t.y1 - t.y0) * fy);
        for (const e of entries) for (const b of e?.extra?.bad ?? []) crossOut(b.rect.x0 * fx, b.rect.y0 * fy, (b.rect.x1 - b.rect.x0) * fx, (b.rect.y1 - b.rect.y0) * fy);
        // done when every tile is loaded or has failed (a failed one is crossed out, not waited for)
        if (lv === L && entries.some(e => e?.state !== "ready" && e?.state !== "error")) complete = false;
      }
    }
  }
  if (complete && timings.firstImage === undefined && chans.length) {
    timings.firstImage = performance.now() - timings.t0;
    stageMark("image", "done");
    $("startup").hidden = true;
    document.body.dataset.shown = "1";
  } else if (!complete || loader.loading) {
    if (timings.firstImage === undefined && [...loader.entries.values()].some(e => e.state === "ready")) $("startup").hidden = true;
  }
  if (app.chunkMap) drawChunkMap(app.expr ? exprLevel() : L);
  updateOverlays(L);
  scheduleHistogram();
}

/** drawImage of a tile at world rect (level-0 px), edges snapped to device pixels so tiles meet. */
function blit(c, wx, wy, ww, wh, pixelScale) {
  const [sx0, sy0] = viewport.toScreen(wx, wy), [sx1, sy1] = viewport.toScreen(wx + ww, wy + wh);
  const dpr = window.devicePixelRatio || 1;
  const r = v => Math.round(v * dpr) / dpr;
  ctx.imageSmoothingEnabled = pixelScale < 1;
  ctx.imageSmoothingQuality = "medium";
  ctx.drawImage(c, r(sx0), r(sy0), r(sx1) - r(sx0), r(sy1) - r(sy0));
}

function crossOut(wx, wy, ww, wh) {
  overlayDirty = true;
  const [x0, y0] = viewport.toScreen(wx, wy), [x1, y1] = viewport.toScreen(wx + ww, wy + wh);
  octx.strokeStyle = "#ff5555";
  octx.lineWidth = 2;
  octx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  octx.beginPath(); octx.moveTo(x0, y0); octx.lineTo(x1, y1); octx.moveTo(x1, y0); octx.lineTo(x0, y1); octx.stroke();
}

/** The coloured canvas of one tile (all visible channels composited), re-coloured when settings change. */
function paintTile(key, entries, t, isExpr) {
  const ready = entries.map(e => (e && e.state === "ready" ? e : null));
  if (!ready.some(Boolean)) return null;
  const chans = visibleChannels();
  const version = JSON.stringify([app.invert, chans.map((c, i) => [c.index, c.color, isExpr ? c.exprWindow : c.window, !!ready[i], ready[i]?.key])]);
  const old = painted.get(key);
  if (old && old.version === version) { painted.delete(key); painted.set(key, old); return old.canvas; }
  const first = ready.find(Boolean);
  const [h, w] = tileDims(first);
  const layers = [];
  chans.forEach((c, i) => {
    const e = ready[i];
    if (!e) return;
    const win = (isExpr ? c.exprWindow : c.window) ?? autoWindow(c, isExpr);
    layers.push({ data: e.data, window: win, color: c.color, invert: app.invert, transposed: app.image.yDim > app.image.xDim });
  });
  const rgba = composite(layers, w, h);
  const c = old?.canvas ?? document.createElement("canvas");
  c.width = w; c.height = h;
  c.getContext("2d").putImageData(new ImageData(rgba, w, h), 0, 0);
  painted.delete(key);
  painted.set(key, { canvas: c, version });
  while (painted.size > 600) painted.delete(painted.keys().next().value);
  return c;
}

/** [h, w] of a tile's data as displayed (the data is in dimension order: transposed when rows > columns). */
function tileDims(e) {
  const s = e.shape;
  if (s.length !== 2) return [1, e.data.length];
  return app.image.yDim > app.image.xDim ? [s[1], s[0]] : [s[0], s[1]];
}

/** A window from the data at hand when none is set (first view of a channel): 0.1 / 99.9 percentiles. */
function autoWindow(ch, isExpr) {
  const arrays = [...loader.entries.values()].filter(e => e.state === "ready" && e.meta?.ch === ch.index && !!e.meta.expr === isExpr).map(e => e.data);
  const [lo, hi] = percentiles(arrays, [0.1, 99.9]);
  const win = [lo, hi > lo ? hi : lo + 1];
  if (isExpr) ch.exprWindow = win; else ch.window = win;
  syncContrast();
  buildChannels();
  return win;
}

function onTileLoaded(e) {
  if (timings.firstTile === undefined) timings.firstTile = performance.now() - timings.t0;
}

// -- overlays: level, scale bar, value under the cursor ---------------------------------------------
let pointer = null;

function updateOverlays(L) {
  const img = app.image;
  if ($("busy").hidden !== !loader.loading) $("busy").hidden = !loader.loading;
  const inflight = loader.loading, queued = loader.queued;
  const cached = [...loader.entries.values()].filter(e => e.state === "ready").length;
  if (app.zl && img) setStatus(`${inflight ? `${inflight} chunk read${inflight > 1 ? "s" : ""} in flight${queued ? `, ${queued} queued` : ""} · ` : ""}${cached} tiles cached (${formatBytes(loader.bytes)})`);
  if (!img) { $("scalebar").hidden = $("level-info").hidden = $("readout").hidden = true; return; }
  const lv = app.expr ? exprLevel() : L;
  const Ls = img.levels[lv];
  $("level-info").hidden = false;
  setText($("level-info"), `level ${lv}/${img.levels.length - 1} · ${Ls.shape[img.yDim]}×${Ls.shape[img.xDim]} · ${dtypeName(Ls.dtype)}${app.expr ? ` → ${app.expr}` : ""}`);
  setText($("zoom-label"), `${viewport.zoom >= 1 ? Math.round(viewport.zoom * 100) : (viewport.zoom * 100).toPrecision(2)}%`);
  // scale bar
  const ax = img.axes[img.xDim];
  if (ax.unit && isLength(ax.unit)) {
    const perPx = ax.scale / viewport.zoom;          // physical units per CSS pixel
    const target = 120 * perPx;
    const p = Math.pow(10, Math.floor(Math.log10(target)));
    const nice = [1, 2, 5, 10].map(k => k * p).filter(v => v <= target).pop() ?? p;
    $("scalebar").hidden = false;
    $("scalebar").querySelector(".bar").style.width = `${nice / perPx}px`;
    setText($("scalebar").querySelector("span"), formatLength(nice, ax.unit));
  } else $("scalebar").hidden = true;
  updateReadout();
}

function updateReadout() {
  const img = app.image;
  if (!img || !pointer) { $("readout").hidden = true; return; }
  const [wx, wy] = viewport.toWorld(pointer.x, pointer.y);
  const [H, W] = planeSize(0);
  const x = Math.floor(wx), y = Math.floor(wy);
  if (x < 0 || y < 0 || x >= W || y >= H) { $("readout").hidden = true; return; }
  const parts = [`${img.axes[img.xDim].name} ${x}`, `${img.axes[img.yDim].name} ${y}`];
  img.axes.forEach((a, d) => { if (d !== img.yDim && d !== img.xDim && d !== img.cDim) parts.push(`${a.name} ${app.index[d]}`); });
  let text = parts.join("  ");
  const ay = img.axes[img.yDim], axx = img.axes[img.xDim];
  if (axx.unit && isLength(axx.unit)) text += `  (${formatLength((x + 0.5) * axx.scale, axx.unit)}, ${formatLength((y + 0.5) * ay.scale, ay.unit)})`;
  const values = valuesAt(x, y);
  if (values.length) text += "  │  " + values.map(v => `${img.channels.length > 1 ? v.label + " " : ""}${v.value}${v.level ? ` (level ${v.level})` : ""}`).join("  ");
  $("readout").hidden = false;
  setText($("readout"), text);
  app.readout = { x, y, values };
}

/** Values of the visible channels at level-0 pixel (x, y), from the finest level whose tile is loaded. */
function valuesAt(x, y) {
  const img = app.image, out = [];
  const fmt = v => (Number.isInteger(v) ? String(v) : Number(v).toPrecision(5));
  for (const ch of visibleChannels()) {
    if (app.expr) {
      const lv = exprLevel();
      const e = loader.get(exprRequest(lv, ch).key);
      if (e?.state !== "ready") continue;
      const [H, W] = planeSize(0), [h, w] = tileDims(e);
      const r = Math.min(h - 1, Math.floor(y * h / H)), c = Math.min(w - 1, Math.floor(x * w / W));
      out.push({ label: ch.label, value: fmt(e.data[img.yDim > img.xDim ? c * h + r : r * w + c]), level: lv, channel: ch.index });
      continue;
    }
    for (let lv = chooseLevel(); lv < img.levels.length; lv++) {
      const [fy, fx] = factors(lv);
      const ly = Math.floor(y / fy), lx = Math.floor(x / fx);
      const [th, tw] = tileShape(lv);
      const [H, W] = planeSize(lv);
      if (ly >= H || lx >= W) continue;
      const ty = Math.floor(ly / th), tx = Math.floor(lx / tw);
      const t = { ty, tx, y0: ty * th, x0: tx * tw, y1: Math.min((ty + 1) * th, H), x1: Math.min((tx + 1) * tw, W) };
      const e = loader.get(tileRequest(lv, t, ch).key);
      if (e?.state !== "ready") continue;
      const r = ly - t.y0, c = lx - t.x0, w = t.x1 - t.x0, h = t.y1 - t.y0;
      const v = img.yDim > img.xDim ? e.data[c * h + r] : e.data[r * w + c];
      out.push({ label: ch.label, value: fmt(v), level: lv, channel: ch.index, raw: Number(v) });
      break;
    }
  }
  return out;
}

// -- histogram and contrast -------------------------------------------------------------------------
let histTimer = 0;
function scheduleHistogram() {
  // after the view rests: statistics over every visible pixel are not worth a dropped frame
  clearTimeout(histTimer);
  histTimer = setTimeout(() => { histTimer = 0; drawHistogram(); }, 200);
}

/** Raw data of the selected channel on screen (current level; a coarser one while it loads). */
function visibleData(chIndex) {
  const img = app.image;
  if (!img) return [];
  const ch = img.channels[chIndex];
  if (app.expr) {
    const e = loader.get(exprRequest(exprLevel(), ch).key);
    return e?.state === "ready" ? [e.data] : [];
  }
  for (let lv = chooseLevel(); lv < img.levels.length; lv++) {
    const arrays = visibleTiles(lv).map(t => loader.get(tileRequest(lv, t, ch).key)).filter(e => e?.state === "ready").map(e => e.data);
    if (arrays.length) return arrays;
  }
  return [];
}

function currentWindow(ch) { return (app.expr ? ch.exprWindow : ch.window) ?? [0, 1]; }

function drawHistogram() {
  const img = app.image;
  const hc = /** @type {HTMLCanvasElement} */ ($("histogram"));
  const g = hc.getContext("2d");
  g.clearRect(0, 0, hc.width, hc.height);
  if (!img) return;
  const ch = img.channels[app.selected];
  const arrays = visibleData(app.selected);
  const win = currentWindow(ch);
  const h = histogram(arrays, 128);
  const lo = Math.min(h.min, win[0]), hi = Math.max(h.max, win[1]);
  const X = v => ((v - lo) / (hi - lo || 1)) * hc.width;
  const max = Math.log1p(Math.max(1, ...h.counts));
  const table = lut(ch.color);
  const bw = (X(h.max) - X(h.min)) / h.counts.length;
  h.counts.forEach((n, i) => {
    if (!n) return;
    const v = h.min + (i + 0.5) * (h.max - h.min) / h.counts.length;
    const k = Math.max(0, Math.min(255, Math.round((v - win[0]) / (win[1] - win[0] || 1) * 255)));
    g.fillStyle = `rgb(${Math.max(90, table[3 * k])},${Math.max(90, table[3 * k + 1])},${Math.max(90, table[3 * k + 2])})`;
    const bh = (Math.log1p(n) / max) * (hc.height - 14);
    g.fillRect(X(h.min) + i * bw, hc.height - 12 - bh, Math.max(1, bw - 0.5), bh);
  });
  g.strokeStyle = "#59c2ff"; g.lineWidth = 1.5;
  g.beginPath();
  g.moveTo(X(win[0]), hc.height - 12); g.lineTo(X(win[1]), 2);
  g.stroke();
  for (const v of win) { g.fillStyle = "#59c2ff"; g.fillRect(X(v) - 1, 0, 2, hc.height - 12); }
  g.fillStyle = "#8a92a3"; g.font = "10px system-ui";
  g.fillText(fmtNum(lo), 2, hc.height - 2);
  const t = fmtNum(hi); g.fillText(t, hc.width - g.measureText(t).width - 2, hc.height - 2);
  hc._range = [lo, hi];
  $("contrast-label").textContent = `${ch.label}${arrays.length ? "" : " (no data on screen yet)"}`;
}

const fmtNum = v => (Number.isInteger(v) ? String(v) : Number(v).toPrecision(4));

function syncContrast() {
  const img = app.image;
  if (!img) return;
  const ch = img.channels[app.selected];
  $("contrast-box").hidden = ch.color === "labels" && !app.expr;    // ids have no contrast
  const w = app.expr ? ch.exprWindow : ch.window;
  if (document.activeElement !== $("win-lo")) $("win-lo").value = w ? fmtNum(w[0]) : "";
  if (document.activeElement !== $("win-hi")) $("win-hi").value = w ? fmtNum(w[1]) : "";
  scheduleHistogram();
}

function setWindow(chIndex, win) {
  const ch = app.image.channels[chIndex];
  if (app.expr) ch.exprWindow = win; else ch.window = win;
  syncContrast();
  buildChannels();
  requestDraw();
  scheduleState();
}

function autoContrast(chIndex) {
  const arrays = visibleData(chIndex);
  if (!arrays.length) return;
  const [lo, hi] = percentiles(arrays, [0.1, 99.9]);
  setWindow(chIndex, [lo, hi > lo ? hi : lo + 1]);
}

// -- side panels: dimensions, channels ---------------------------------------------------------------
function buildDims() {
  const img = app.image, box = $("dims"), pick = $("axes-pick");
  const names = img.axes.map((a, d) => `${a.name} (${img.levels[0].shape[d]})`);
  const options = sel => names.map((n, d) => `<option value="${d}"${d === sel ? " selected" : ""}>${esc(n)}</option>`).join("");
  pick.innerHTML = `<label>rows <select id="ydim">${options(img.yDim)}</select></label><label>columns <select id="xdim">${options(img.xDim)}</select></label>`;
  const change = () => {
    const y = Number($("ydim").value), x = Number($("xdim").value);
    if (y === x) return;
    img.yDim = y; img.xDim = x;
    if (img.cDim === y || img.cDim === x) { img.cDim = -1; img.channels = valuesChannel(); app.selected = 0; }
    loader.clear(); painted.clear();
    const [H, W] = planeSize(0);
    viewport.setImage(W, H); viewport.fit();
    buildDims(); buildChannels(); syncContrast(); scheduleState();
  };
  $("ydim").onchange = change; $("xdim").onchange = change;
  box.innerHTML = "";
  img.axes.forEach((a, d) => {
    if (d === img.yDim || d === img.xDim || d === img.cDim) return;
    const n = img.levels[0].shape[d];
    const row = document.createElement("div");
    row.className = "dimrow";
    const unit = a.unit ? unitSymbol(a.unit) : "";
    row.innerHTML = `<span class="n" title="${esc(a.name)}${a.type ? ` (${esc(a.type)})` : ""}">${esc(a.name)}</span>` +
      `<input type="range" min="0" max="${n - 1}" value="${app.index[d]}" data-dim="${d}" aria-label="${esc(a.name)}" ${n === 1 ? "disabled" : ""}>` +
      `<input type="number" min="0" max="${n - 1}" value="${app.index[d]}" data-dim="${d}" aria-label="${esc(a.name)} index">`;
    if (unit) row.title = `${a.name} = ${formatLength(app.index[d] * a.scale, a.unit)}`;
    box.append(row);
    row.querySelectorAll("input").forEach(inp => inp.addEventListener("input", () => setIndex(d, Number(inp.value))));
  });
  if (!box.children.length) box.innerHTML = `<p class="dim">A 2-D array: no other dimensions.</p>`;
}

function setIndex(d, v) {
  const n = app.image.levels[0].shape[d];
  v = Math.max(0, Math.min(n - 1, Math.round(v) || 0));
  app.index[d] = v;
  document.querySelectorAll(`#dims input[data-dim="${d}"]`).forEach(i => { if (Number(i.value) !== v) i.value = String(v); });
  app.chunkInfo = null;
  requestDraw();
  scheduleState();
}

function colorChoices(ch) {
  const opts = [];
  const ome = app.image.multiscale?.channels?.[ch.index]?.color;
  if (ome) opts.push([`#${ome.toLowerCase()}`, `OME #${ome}`]);
  for (const m of COLORMAPS) opts.push([m, m]);
  for (const [n, hex] of Object.entries(NAMED_COLORS)) opts.push([hex, n]);
  if (!opts.some(([v]) => v === ch.color)) opts.unshift([ch.color, ch.color]);
  return opts.filter(([v], i) => opts.findIndex(([w]) => w === v) === i);
}

function buildChannels() {
  const img = app.image, box = $("channels");
  if (!img) return;
  box.innerHTML = "";
  img.channels.forEach((ch, i) => {
    const row = document.createElement("div");
    row.className = "ch" + (i === app.selected ? " selected" : "");
    row.dataset.channel = String(i);
    const win = app.expr ? ch.exprWindow : ch.window;
    row.innerHTML = `<input type="checkbox" ${ch.visible ? "checked" : ""} aria-label="show ${esc(ch.label)}">` +
      `<span class="lbl" title="${esc(ch.label)}">${esc(ch.label)}</span>` +
      `<select aria-label="colour of ${esc(ch.label)}">${colorChoices(ch).map(([v, n]) => `<option value="${esc(v)}"${v === ch.color ? " selected" : ""}>${esc(n)}</option>`).join("")}</select>` +
      `<div class="ramp" style="background:${swatch(ch.color)}"></div>` +
      `<div class="win">${win ? `${fmtNum(win[0])} – ${fmtNum(win[1])}` : "auto"}</div>`;
    row.addEventListener("click", e => {
      if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
      app.selected = i; buildChannels(); syncContrast();
    });
    row.querySelector("input").addEventListener("change", e => {
      ch.visible = e.target.checked;
      if (ch.visible) app.selected = i;
      buildChannels(); syncContrast(); requestDraw(); scheduleState();
    });
    row.querySelector("select").addEventListener("change", e => {
      ch.color = e.target.value;
      app.selected = i;
      buildChannels(); requestDraw(); scheduleState(); scheduleHistogram();
    });
    box.append(row);
  });
}

// -- chunk map ---------------------------------------------------------------------------------------
let chunkTimer = 0;
let chunkStatsHTML = "";

function drawChunkMap(lv) {
  overlayDirty = true;
  const img = app.image, Ls = img.levels[lv];
  const [fy, fx] = factors(lv);
  const [H, W] = planeSize(lv);
  const r = viewport.worldRect();
  const region = [Math.max(0, Math.floor(r.y0 / fy)), Math.min(H, Math.ceil(r.y1 / fy)), Math.max(0, Math.floor(r.x0 / fx)), Math.min(W, Math.ceil(r.x1 / fx))];
  const idx = levelIndex(lv);
  const chIdx = img.channels[app.selected]?.index ?? 0;
  const plane = idx.map((v, d) => (d === img.yDim || d === img.xDim ? null : d === img.cDim ? chIdx : v));
  const key = JSON.stringify([Ls.path, plane]);
  const info = app.chunkInfo;
  const covers = info && info.key === key && info.region[0] <= region[0] && info.region[1] >= region[1] && info.region[2] <= region[2] && info.region[3] >= region[3];
  if (!covers && !chunkTimer) {
    chunkTimer = setTimeout(async () => {
      chunkTimer = 0;
      // ask for a margin around the view so small pans need no new request
      const [ch, cw] = [Ls.chunks[img.yDim], Ls.chunks[img.xDim]];
      const m = [Math.max(0, region[0] - ch), Math.min(H, region[1] + ch), Math.max(0, region[2] - cw), Math.min(W, region[3] + cw)];
      try {
        const res = await app.zl.viewer("chunk_map", [Ls.path, plane, m]);
        app.chunkInfo = { key, region: m, lv, res };
      } catch (err) {
        app.chunkInfo = { key, region: m, lv, res: null, error: err };
        $("chunk-stats").textContent = `chunk map failed: ${err.message}`;
      }
      requestDraw();
    }, 150);
  }
  const answer = info?.key === key ? info.res : null;
  const html = paintChunkMap(octx, viewport, {
    lv, path: Ls.path, fy, fx, H, W, region, res: answer,
    chunk: [Ls.chunks[img.yDim], Ls.chunks[img.xDim]],
    shard: Ls.shards ? [Ls.shards[img.yDim], Ls.shards[img.xDim]] : null,
  });
  if (html !== null && html !== chunkStatsHTML) $("chunk-stats").innerHTML = chunkStatsHTML = html;
}

// -- errors ------------------------------------------------------------------------------------------
function showError(err, context = {}) {
  console.warn("zarrlite viewer:", err);
  const e = explain(err, { source: context.source });
  $("error").hidden = false;
  $("error").dataset.kind = e.kind;
  $("error-title").textContent = context.tile ? `${e.title} (${app.failures} failed so far)` : e.title;
  $("error-message").textContent = e.message;
  $("error-advice").innerHTML = e.advice.map(a => `<li>${a}</li>`).join("");
  $("startup").hidden = true;
  window.lastError = { name: err?.name, message: err?.message, kind: e.kind };
}

function hideError() { $("error").hidden = true; }

function setStatus(text) { setText($("status"), text); }

/** Change text only when it differs: an unchanged label must not cost a layout per frame. */
function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

// -- state in the URL ---------------------------------------------------------------------------------
let stateTimer = 0;
function scheduleState() {
  clearTimeout(stateTimer);
  stateTimer = setTimeout(writeState, 250);
}

function writeState() {
  const q = stateQuery({ source: app.source, image: app.image, index: app.index, zoom: viewport.zoom, cx: viewport.cx,
    cy: viewport.cy, invert: app.invert, expr: app.expr, chunkMap: app.chunkMap });
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

function restoreState(p) {
  Object.assign(app, applyState(p, app.image, app.index));
  $("expr").value = app.expr;
}

// -- wiring -------------------------------------------------------------------------------------------
function bindUI() {
  $("open-form").addEventListener("submit", e => {
    e.preventDefault();
    const url = $("url").value.trim();
    if (url && app.zl) openSource(url, url);
  });
  $("examples").addEventListener("change", e => {
    const v = e.target.value;
    e.target.value = "";
    if (v && app.zl) { $("url").value = v; openSource(v, v); }
  });
  $("pick-folder").addEventListener("click", async () => {
    const handle = await pickDirectory();
    if (handle === undefined) return;
    if (handle) openSource(handle, handle.name);
    else $("folder").click();
  });
  $("pick-zip").addEventListener("click", () => $("zip").click());
  $("folder").addEventListener("change", e => { const f = e.target.files; if (f?.length) openSource(f, folderLabel(f)); e.target.value = ""; });
  $("zip").addEventListener("change", e => { const f = e.target.files?.[0]; if (f) openSource(f, f.name); e.target.value = ""; });
  $("error-close").addEventListener("click", hideError);
  // drag and drop anywhere on the page
  let depth = 0;
  document.addEventListener("dragenter", e => { if (e.dataTransfer?.types?.includes("Files")) { depth++; $("drop-hint").hidden = false; e.preventDefault(); } });
  document.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) $("drop-hint").hidden = true; });
  document.addEventListener("dragover", e => e.preventDefault());
  document.addEventListener("drop", async e => {
    e.preventDefault();
    depth = 0; $("drop-hint").hidden = true;
    try {
      const got = await fromDrop(e.dataTransfer);
      if (!got) throw new Error("Drop one Zarr/N5 folder or one .zip");
      openSource(got.source, got.label);
    } catch (err) { showError(err); }
  });
  // pointer readout
  stage.addEventListener("pointermove", e => {
    const r = stage.getBoundingClientRect();
    pointer = { x: e.clientX - r.left, y: e.clientY - r.top };
    updateReadout();
  });
  stage.addEventListener("pointerleave", () => { pointer = null; updateReadout(); });
  stage.addEventListener("keydown", e => {
    if (e.key === "[" || e.key === "]" || e.key === "PageUp" || e.key === "PageDown") {
      const img = app.image;
      if (!img) return;
      const d = img.axes.findIndex((a, i) => i !== img.yDim && i !== img.xDim && i !== img.cDim && img.levels[0].shape[i] > 1);
      if (d >= 0) { e.preventDefault(); setIndex(d, app.index[d] + (e.key === "]" || e.key === "PageDown" ? 1 : -1)); }
    }
  });
  // contrast
  const readWin = () => {
    const lo = Number($("win-lo").value), hi = Number($("win-hi").value);
    if (Number.isFinite(lo) && Number.isFinite(hi) && $("win-lo").value !== "" && $("win-hi").value !== "") setWindow(app.selected, [lo, hi]);
  };
  $("win-lo").addEventListener("change", readWin);
  $("win-hi").addEventListener("change", readWin);
  $("auto").addEventListener("click", () => autoContrast(app.selected));
  $("invert").addEventListener("change", e => { app.invert = e.target.checked; requestDraw(); scheduleState(); });
  const hc = $("histogram");
  let dragging = null;
  const histValue = e => {
    const r = hc.getBoundingClientRect(), [lo, hi] = hc._range ?? [0, 1];
    return lo + ((e.clientX - r.left) / r.width) * (hi - lo);
  };
  hc.addEventListener("pointerdown", e => {
    if (!app.image) return;
    const v = histValue(e), w = currentWindow(app.image.channels[app.selected]);
    dragging = Math.abs(v - w[0]) <= Math.abs(v - w[1]) ? 0 : 1;
    hc.setPointerCapture(e.pointerId);
  });
  hc.addEventListener("pointermove", e => {
    if (dragging === null) return;
    const w = [...currentWindow(app.image.channels[app.selected])];
    const raw = histValue(e);
    w[dragging] = Number.isInteger(w[1 - dragging]) && app.image.dtype.match(/[iu]/) ? Math.round(raw) : raw;
    if (w[0] < w[1]) setWindow(app.selected, w);
  });
  hc.addEventListener("pointerup", () => { dragging = null; });
  // expression
  $("expr-form").addEventListener("submit", e => { e.preventDefault(); if (app.image) applyExpression($("expr").value); });
  $("expr-clear").addEventListener("click", () => { $("expr").value = ""; if (app.image) applyExpression(""); });
  // chunk map
  $("chunkmap").addEventListener("change", e => {
    app.chunkMap = e.target.checked;
    if (!app.chunkMap) { $("chunk-stats").textContent = "Chunk and shard grid, which chunks are stored, their stored size."; chunkStatsHTML = ""; }
    requestDraw(); scheduleState();
  });
  // view buttons
  $("zoom-in").addEventListener("click", () => viewport.zoomAt(1.5));
  $("zoom-out").addEventListener("click", () => viewport.zoomAt(1 / 1.5));
  $("fit").addEventListener("click", () => viewport.fit());
  $("one").addEventListener("click", () => viewport.zoomAt(1 / viewport.zoom));
}

boot();
