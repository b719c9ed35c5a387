// The zarrlite viewer page: opens a source with the public JS API (Zarrlite.create/open/read), shows a
// 2-D plane of an N-D array from chunk-aligned tiles of the pyramid level that suits the zoom (coarse
// first, then refined), colours them on the main thread (colors.js, the same numbers as zarrlite.render),
// and keeps the view in the URL. Python extras (chunk map, expressions) go through zl.viewer().
//
// This module only wires the parts: geometry.js (pure), requests.js and tiles.js (I/O), scene.js and
// paint.js (painting), controls.js, contrast.js, chunkmap.js and overlays.js (panels), state.js (URL).

import { Zarrlite } from "../zarrlite.js";
import { debounced, dpr } from "./app.js";
import { setColormaps } from "./colors.js";
import { ChunkMapLayer } from "./chunkmap.js";
import { Contrast } from "./contrast.js";
import { bindPlaneKeys, buildChannels as channelsPanel, buildDims as dimsPanel, setIndex as clampIndex } from "./controls.js";
import { planeSize } from "./geometry.js";
import { bindReadout, setText, showForbidden, updateOverlays } from "./overlays.js";
import { hideError, showError as showErrorPanel, showNote as showStageNote } from "./notices.js";
import { Screen } from "./paint.js";
import { defaultNode, esc, findNode, groupPaths, markSelected, parentPath, renderMeta, renderTree } from "./panels.js";
import { Prefetcher } from "./prefetch.js";
import { Scene } from "./scene.js";
import { LabelLayer } from "./labels.js";
import { PlateView } from "./plate.js";
import { OrthoViews } from "./ortho.js";
import { ValueTable } from "./table.js";
import { bindLocalOpeners, linkOptions } from "./sources.js";
import { loadExamples, onStartupProgress, runtime, stageMark as markStage } from "./startup.js";
import { applyState, replaceLink } from "./state.js";
import { SETTLE_MS, TileLoader, VIEW_LOADS } from "./tiles.js";
import { Viewport } from "./viewport.js";

// the page's own elements, by id (index.html holds every one)
const $ = id => /** @type {any} */ (document.getElementById(id));
const stage = $("stage");
const URL_HINT = $("url").placeholder;

/** Everything the page shows; `image` is the model of the selected node (image.js). The loader,
 * viewport and timings are added below. @type {import("./app.js").App & Record<string, any>} */
const app = /** @type {any} */ ({
  zl: /** @type {Zarrlite | null} */ (null),
  tree: null, source: null, label: "", infos: new Map(), summaries: {},
  image: /** @type {import("./image.js").ImageModel | null} */ (null),
  index: /** @type {number[]} */ ([]),          // level-0 index along every dimension
  selected: 0,                                  // channel whose contrast is edited
  invert: false, expr: "", linkExpr: "", chunkMap: false,
  chunkInfo: null, tileErrors: new Map(), failures: 0,
  generation: 0,
  exprWindows: new Map(), frame: 0, pointer: null, readout: null,
});
/** @type {any} */ (window).viewer = app;   // for tests and the bench: app state, timings, loader counters
/** True when nothing is loading, queued or waiting to be drawn (tests and the bench poll it). */
app.idle = () => !!app.image && !app.frame && !loader.loading && !loader.queued && !chunkLayer.pending;
/** @type {Record<string, number>} */
const timings = app.timings = { t0: performance.now() };
app.drawMs = [];       // the cost of the last frames (bench/viewer_bench.py reads it)
const loader = app.loader = new TileLoader({ rested: VIEW_LOADS, settle: SETTLE_MS, onIdle: () => prefetch.schedule(),
  onLoad: e => { onTileLoaded(e); requestDraw(); },
  onError: e => { app.tileErrors.set(e.key, e); app.failures++; showError(e.error, { tile: true }); requestDraw(); },
});
const viewport = app.viewport = new Viewport(stage, () => { requestDraw(); scheduleState(); });
const screen = new Screen(/** @type {HTMLCanvasElement} */ ($("canvas")), /** @type {HTMLCanvasElement} */ ($("overlay")), viewport);
const scene = new Scene(app, screen, () => { syncContrast(); buildChannels(); }), prefetch = app.prefetch = new Prefetcher(app, scene);
const contrast = new Contrast(app, scene, { windowChanged: () => { buildChannels(); requestDraw(); scheduleState(); } });
const chunkLayer = new ChunkMapLayer(app, $("chunk-stats"), () => requestDraw());
const labels = app.labels = new LabelLayer(app, screen, stage, $("labels-box"), () => requestDraw());
const plates = app.plates = new PlateView(app, $("plate"), { open: async p => { if (!findNode(app.tree, p)) await adopt(app.tree, p); await selectNode(p); } });
const tables = new ValueTable(app, stage);   // strings, dates, structured values (table.js)
/** What the panels call back. @type {import("./app.js").Hooks & {axesChanged: () => void, selected: () => void}} */
const hooks = {
  requestDraw: () => requestDraw(),
  scheduleState: () => scheduleState(),
  changed: () => { requestDraw(); scheduleState(); contrast.schedule(); },
  setIndex: (d, v) => setIndex(d, v),
  selected: () => syncContrast(),
  axesChanged: () => {
    loader.clear(); scene.colours.clear();
    const [H, W] = planeSize(/** @type {any} */ (app.image), 0);
    viewport.setImage(W, H); viewport.fit();
    buildDims(); buildChannels(); syncContrast(); scheduleState();
  },
};
const ortho = app.ortho = new OrthoViews(app, $("ortho"), $("ortho-box"), hooks);   // XY, XZ, YZ and projections

// -- start-up ------------------------------------------------------------------------------------------
const stageMark = (name, state) => markStage(name, state, timings.t0);
/** Settles once the colormap tables are set (or failed to come): asked for once the first source has
 * opened, beside its summaries, which import the same Python module (viewer_api: ~0.1 s cold) - asked
 * for before the open, they held it up by that long. @type {Promise<void> | null} */
let colormaps = null;

async function boot() {
  resize();
  new ResizeObserver(() => { resize(); requestDraw(); }).observe(stage);
  bindUI();
  stageMark("pyodide", "active");
  setStatus("starting Python…");
  onStartupProgress(p => {   // the runtime started before this module ran (startup.js)
    const next = { pyodide: "pyodide", packages: "packages", codecs: "codecs", ready: "open" }[p.stage];
    if (next) stageMark(next, "active");
    setStatus(`starting: ${p.stage}`);
  });
  try {
    app.zl = await runtime;
  } catch (err) {
    showError(err);
    setStatus("failed to start");
    return;
  }
  // the reader's worker died (its reads failed) and a new one started with the source open again
  app.zl.onRestart = r => {
    if (r.stage === "restarting") return setStatus("the reader stopped: restarting…");
    showError(r.cause, { restarted: r.stage === "restarted", reopened: r.reopened });
    if (r.stage === "restarted") { app.tileErrors.clear(); loader.clear(); requestDraw(); }
  };
  timings.runtime = performance.now() - timings.t0;
  const params = new URLSearchParams(location.search);
  const source = params.get("source");
  const opened = source ? openSource(source, source, params) : null;   // the first call to the worker
  loadExamples($("examples"), $("example-links"));
  document.body.dataset.ready = "1";
  if (opened) {
    await opened;
  } else {
    $("startup").hidden = true;
    $("empty").hidden = false;
    setStatus(`ready in ${(timings.runtime / 1000).toFixed(1)} s`);
  }
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
  showForbidden(null);
  $("empty").hidden = true;
  $("startup").hidden = false;
  stageMark("open", "active");
  setStatus(`opening ${label}…`);
  loader.clear();
  scene.colours.clear();
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
    tree = await app.zl.open(source, linkOptions(source));
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
  const summaries = app.zl.viewer("summaries", [groupPaths(tree)]).catch(err => (console.warn("summaries:", err), {}));
  colormaps ??= app.zl.viewer("colormaps").then(setColormaps, err => console.warn("colormaps:", err));
  app.summaries = await summaries;
  await colormaps;   // nothing is drawn before the tables are in
  if (gen !== app.generation) return;
  renderTree($("tree"), tree, path => selectNode(path).catch(err => showError(err)), app.summaries);
  stageMark("open", "done");
  const want = params?.get("path");
  if (want && !findNode(tree, want)) await adopt(tree, want);
  const node = (want !== null && want !== undefined && findNode(tree, want)) || defaultNode(tree, n => !!(app.summaries[n.path]?.multiscale || app.summaries[n.path]?.plate)) || tree;
  await selectNode(node.path, params);
  bumpOpened();
}

/** A path the listing did not reach (plain HTTP cannot list): ask for it and add it to the tree. */
async function adopt(tree, path) {
  try {
    const node = (await describe(path)).node ?? await app.zl.viewer("tree_node", [path]);   // a group: its entry
    const parent = findNode(tree, parentPath(path)) ?? tree;
    (parent.children ??= []).push(node);
    renderTree($("tree"), tree, p => selectNode(p).catch(err => showError(err)), app.summaries);
  } catch (err) {
    showError(err, { source: `${app.label} → ${path}` });
  }
}

const bumpOpened = () => { document.body.dataset.opened = String(Number(document.body.dataset.opened || 0) + 1); };

const describe = path => app.infos.get(path) ?? app.infos.set(path, app.zl.viewer("describe", [path])).get(path);

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
  renderMeta($("meta"), node, null);
  if ([app.datasets.select(path, app.summaries[path]), tables.select(node)].some(Boolean)) { app.image = null; showPanels(false); showNote(null); $("startup").hidden = true; requestDraw(); return; }
  if (plates.select(path, app.summaries[path])) { app.image = null; showPanels(false); $("startup").hidden = true; setStatus("plate"); requestDraw(); return; }
  if (node.kind === "error") {   // a member that could not be opened: its error, and nothing drawn
    app.image = null;
    showPanels(false);
    showNote(null);
    showError(node.error, { source: `${app.label} → ${path}` });
    requestDraw();
    scheduleState();
    return;
  }
  let info, image = null;
  /** @type {any} */
  let imageError = null;
  try {
    [info, image] = await Promise.all([describe(path),
      app.zl.viewer("image", [path]).catch(err => { imageError = err; return null; })]);
  } catch (err) {
    showError(err, { source: app.label });
    return;
  }
  if (gen !== app.generation) return;
  renderMeta($("meta"), node, info, image);
  if (!image) {   // not an image (a plain group, a 1-D array): say why
    app.image = null;
    showPanels(false);
    $("startup").hidden = true;
    showNote(imageError?.message ?? String(imageError));
    requestDraw();
    scheduleState();
    return;
  }
  showNote(null);
  hideError();
  loader.clear();
  scene.colours.clear();
  app.tileErrors.clear();
  app.chunkInfo = null;
  app.image = image;
  app.selected = Math.max(0, image.channels.findIndex(c => c.visible));
  app.index = [...image.defaultIndex];
  app.expr = app.linkExpr = ""; $("expr").value = ""; $("expr-status").textContent = "";
  if (params) restoreState(params);
  const [H, W] = planeSize(image, 0);
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
  stageMark("image", "active");
  requestDraw();
  scheduleState();
}

const showPanels = on => { for (const id of ["dims-box", "channels-box", "contrast-box", "expr-box", "chunks-box", "view-box"]) $(id).hidden = !on; };

const showNote = text => showStageNote(stage, text);

const buildDims = () => dimsPanel(app, hooks), buildChannels = () => channelsPanel(app, hooks), syncContrast = () => contrast.sync();

function setIndex(d, v) {
  clampIndex(app, d, v);
  app.chunkInfo = null;
  requestDraw();
  scheduleState();
}

// -- expressions ----------------------------------------------------------------------------------------
function applyExpression(text) {
  app.expr = text.trim();
  app.linkExpr = "";
  $("expr-status").className = "dim";
  $("expr-status").textContent = app.expr ? "evaluating…" : "";
  app.exprWindows.clear();
  scene.colours.clear();
  requestDraw();
  scheduleState();
}

// -- drawing --------------------------------------------------------------------------------------------
function requestDraw() {
  if (!app.frame) app.frame = requestAnimationFrame(() => {
    app.frame = 0;
    const t = performance.now();
    draw();
    app.drawMs.push(performance.now() - t);
    if (app.drawMs.length > 600) app.drawMs.splice(0, 300);
  });
}

function resize() { screen.resize(stage.clientWidth, stage.clientHeight, dpr()); }

function draw() {
  if (ortho.draw()) return;   // the three views are shown instead of the plane
  const drawn = scene.draw();
  labels.draw();   // over the image, under the overlay canvas
  if (!app.image) { updateOverlays(app, scene, null); return; }
  if (app.expr) {
    const status = $("expr-status");
    if (drawn.exprError) { status.className = "err"; setText(status, drawn.exprError.message); }
    else if (drawn.exprShown) { status.className = "dim"; setText(status, drawn.exprShown); }
  }
  if (drawn.complete && timings.firstImage === undefined && app.image.channels.some(c => c.visible)) {
    timings.firstImage = performance.now() - timings.t0;
    stageMark("image", "done");
    $("startup").hidden = true;
    document.body.dataset.shown = "1";
  } else if (!drawn.complete || loader.loading) {
    if (timings.firstImage === undefined && [...loader.entries.values()].some(e => e.state === "ready")) $("startup").hidden = true;
  }
  if (app.chunkMap) chunkLayer.draw(screen, drawn.level);
  updateOverlays(app, scene, drawn.level);
  contrast.schedule();
}

/** A tile arrived; one read chunk by chunk also lists the chunks that failed (they are crossed out). */
function onTileLoaded(e) {
  checkForbidden();
  if (timings.firstTile === undefined) timings.firstTile = performance.now() - timings.t0;
  const bad = e.extra?.bad ?? [];
  if (bad.length) { app.failures += bad.length; showError(bad[0].error, { tile: true }); }
}

/** After tiles arrive, ask the worker how many chunks were refused with 403 (once the reads settle). */
const checkForbidden = debounced(() => app.zl?.stats().then(st => showForbidden(st?.forbidden), () => {}), 300);

// -- errors ------------------------------------------------------------------------------------------
const showError = (err, context = {}) => showErrorPanel(err, context, app.failures);

function setStatus(text) { setText($("status"), text); }

// -- state in the URL ---------------------------------------------------------------------------------
const scheduleState = debounced(() => replaceLink({ source: app.source, image: app.image, index: app.index, zoom: viewport.zoom,
  cx: viewport.cx, cy: viewport.cy, invert: app.invert, expr: app.expr || app.linkExpr, chunkMap: app.chunkMap,
  sourceOptions: linkOptions(app.source) }), 250);

function restoreState(p) {
  Object.assign(app, applyState(p, /** @type {import("./image.js").ImageModel} */ (app.image), app.index));
  $("expr").value = app.linkExpr;
  // a link is anyone's text: show its expression, run it only when the person presses Apply
  if (app.linkExpr) setText($("expr-status"), "From the link: not run yet. Read it, then press Apply to run it.");
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
  bindLocalOpeners(openSource, err => showError(err));
  $("error-close").addEventListener("click", hideError);
  bindReadout(stage, app, scene, hooks);   // and coordinates, ticks, the line plot
  bindPlaneKeys(stage, app, hooks);   // ] [ PageDown PageUp step the plane
  // contrast (the rest is bound by Contrast)
  $("invert").addEventListener("change", e => { app.invert = /** @type {HTMLInputElement} */ (e.target).checked; requestDraw(); scheduleState(); });
  // expression
  $("expr-form").addEventListener("submit", e => { e.preventDefault(); if (app.image) applyExpression($("expr").value); });
  $("expr-clear").addEventListener("click", () => { $("expr").value = ""; if (app.image) applyExpression(""); });
  // chunk map
  $("chunkmap").addEventListener("change", e => {
    app.chunkMap = e.target.checked;
    if (!app.chunkMap) chunkLayer.reset();
    requestDraw(); scheduleState();
  });
  viewport.bindButtons({ zoomIn: $("zoom-in"), zoomOut: $("zoom-out"), fit: $("fit"), one: $("one") });
}

boot();
