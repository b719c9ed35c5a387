// The dataset view: a group holding an xarray dataset (the tree's summaries say `dataset`, computed by
// zarrlite.dataset) lists its data variables (dimensions, shape, units, long name), its coordinates
// and its global attributes over the stage; choosing a variable selects it in the tree, which shows it.
// Every name and value is the data's own text, put on the page as text.

/**
 * @typedef {{name: string, path: string, dims: (string | null)[], shape: number[], dtype: string,
 *   units: string | null, longName: string | null, image: boolean}} Variable
 * @typedef {{path: string, variables: Variable[], coordinates: Variable[], attrs: Record<string, any>,
 *   truncated: boolean}} Dataset
 */

/** @param {string} tag @param {string} [text] @param {string} [cls] */
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** "time: 1460 × lat: 36 × lon: 72" @param {Variable} v */
export const dimsText = v => v.shape.map((n, d) => `${v.dims[d] ?? `dim_${d}`}: ${n}`).join(" × ");

export class DatasetView {
  /**
   * @param {{zl: any, generation: number}} app
   * @param {HTMLElement} parent the stage: the view covers it while shown
   */
  constructor(app, parent) {
    this.app = app;
    this.el = el("div", undefined, "dataset");
    this.el.hidden = true;
    parent.append(this.el);
    for (const type of ["wheel", "pointerdown", "keydown", "dblclick"]) this.el.addEventListener(type, e => e.stopPropagation());
    /** @type {Dataset | null} what is shown (tests read it) */
    this.shown = null;
    this.path = /** @type {string | null} */ (null);
  }

  /**
   * Show the group at `path` as a dataset when its summary says it is one; else hide.
   * @param {string} path @param {{dataset?: boolean} | undefined} summary
   * @returns {boolean} whether it shows
   */
  select(path, summary) {
    const show = !!summary?.dataset;
    this.el.hidden = !show;
    this.path = show ? path : null;
    this.shown = null;
    if (show) {
      this.el.replaceChildren(el("p", "reading the dataset…", "dim"));
      this.app.zl.viewer("dataset", [path]).then((/** @type {Dataset | null} */ ds) => {
        if (this.path === path && ds) this.render(ds);
      }, (/** @type {any} */ err) => { if (this.path === path) this.el.replaceChildren(el("p", String(err?.message ?? err), "err")); });
    }
    return show;
  }

  /** @param {Dataset} ds */
  render(ds) {
    const head = el("h2", `Dataset /${ds.path}`);
    const parts = [head, this.table("Data variables", ds.variables, true), this.table("Coordinates", ds.coordinates, false)];
    if (ds.truncated) parts.push(el("p", "Only the first 1000 members are listed.", "dim"));
    const attrs = Object.entries(ds.attrs);
    if (attrs.length) {
      parts.push(el("h3", "Global attributes"));
      const t = el("table", undefined, "kv");
      for (const [k, v] of attrs) {
        const tr = el("tr");
        tr.append(el("th", k), el("td", typeof v === "string" ? v : JSON.stringify(v)));
        t.append(tr);
      }
      parts.push(t);
    }
    this.el.replaceChildren(...parts);
    this.shown = ds;
  }

  /**
   * @param {string} title @param {Variable[]} rows @param {boolean} pick rows open the variable
   */
  table(title, rows, pick) {
    const box = el("section");
    box.append(el("h3", title));
    const t = el("table", undefined, "vars");
    const hr = el("tr");
    for (const h of ["name", "dimensions", "dtype", "units", "long name"]) hr.append(el("th", h));
    t.append(hr);
    for (const v of rows) {
      const tr = el("tr");
      const name = el("td");
      if (pick && v.image) {
        const b = el("button", v.name, "link");
        b.dataset.path = v.path;
        b.addEventListener("click", () => this.open(v.path));
        name.append(b);
      } else name.textContent = v.name;
      tr.append(name, el("td", dimsText(v)), el("td", v.dtype), el("td", v.units ?? ""), el("td", v.longName ?? ""));
      t.append(tr);
    }
    box.append(t);
    return box;
  }

  /** Select a variable as a click on its tree entry would. @param {string} path */
  open(path) {
    const b = /** @type {HTMLElement | null} */ ([...document.querySelectorAll("#tree button.node")].find(n => /** @type {HTMLElement} */ (n).dataset.path === path) ?? null);
    b?.click();
  }

  hide() { this.el.hidden = true; this.path = null; }
}
