// Arrays of strings, bytes, JSON values, datetimes and structured values (1-D and 2-D) show as a table of
// their values, a page of rows at a time, instead of an image. Python formats every cell
// (zarrlite.tables: ISO datetimes, NaT, bytes literals, field names); here each cell is text, never markup.

export const PAGE_ROWS = 100;

/** An element holding `text` as text. @param {string} tag @param {string} text @param {string} [cls] */
function textElement(tag, text, cls) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

/**
 * What the pager says: "rows 101–200 of 1,000", plus the columns shown when a 2-D array has more.
 * @param {{start: number, rows: any[], total: number, columns: string[], totalColumns: number}} page
 */
export function pageLabel(page) {
  const n = (/** @type {number} */ v) => v.toLocaleString("en-US");
  const rows = page.rows.length ? `rows ${n(page.start)}–${n(page.start + page.rows.length - 1)} of ${n(page.total)}`
    : `no rows of ${n(page.total)}`;
  return page.totalColumns > page.columns.length && page.columns.length > 1
    ? `${rows}; the first ${n(page.columns.length)} of ${n(page.totalColumns)} columns` : rows;
}

export class ValueTable {
  /**
   * @param {{zl: any}} app
   * @param {HTMLElement} parent the stage: the table covers it while shown
   */
  constructor(app, parent) {
    this.app = app;
    this.el = document.createElement("div");
    this.el.className = "values";
    this.el.hidden = true;
    parent.append(this.el);
    // the stage pans and zooms on these; over the table they scroll it and press its buttons
    for (const type of ["wheel", "pointerdown", "keydown", "dblclick"]) {
      this.el.addEventListener(type, e => e.stopPropagation());
    }
    /** @type {string | null} */
    this.path = null;
    /** @type {AbortController | null} */
    this.controller = null;
  }

  /**
   * Show `node` as a table when the tree says its values are not an image (`node.table`); else hide.
   * @param {any} node a tree node (web/protocol.js Node)
   * @returns {boolean} whether the table shows it
   */
  select(node) {
    const show = !!node && node.kind === "array" && node.table === true && node.shape.length <= 2;
    this.controller?.abort();
    this.el.hidden = !show;
    this.path = show ? node.path : null;
    if (show) this.load(0);
    return show;
  }

  /** Fetch and show the page of rows from `start`. @param {number} start */
  async load(start) {
    this.controller?.abort();
    const controller = this.controller = new AbortController();
    const path = this.path;
    try {
      const page = await this.app.zl.viewer("table", [path, start, PAGE_ROWS], { signal: controller.signal });
      if (!controller.signal.aborted && path === this.path) this.render(page);
    } catch (err) {
      if (!controller.signal.aborted) {
        this.el.replaceChildren(textElement("p", `The values cannot be read: ${err?.message ?? err}`, "values-error"));
      }
    }
  }

  /** @param {{start: number, rows: string[][], total: number, columns: string[], totalColumns: number}} page */
  render(page) {
    const nav = document.createElement("div");
    nav.className = "values-nav";
    const button = (/** @type {string} */ label, /** @type {number} */ to, /** @type {boolean} */ off) => {
      const b = /** @type {HTMLButtonElement} */ (textElement("button", label));
      b.disabled = off;
      b.addEventListener("click", () => this.load(to));
      return b;
    };
    const last = Math.max(0, Math.ceil(page.total / PAGE_ROWS) - 1) * PAGE_ROWS;
    nav.append(button("⏮", 0, page.start === 0), button("◀", Math.max(0, page.start - PAGE_ROWS), page.start === 0),
      textElement("span", pageLabel(page), "values-label"),
      button("▶", page.start + PAGE_ROWS, page.start + PAGE_ROWS >= page.total),
      button("⏭", last, page.start >= last));
    const table = document.createElement("table");
    table.createTHead().insertRow().append(textElement("th", "#"), ...page.columns.map(c => textElement("th", c)));
    const body = table.createTBody();
    page.rows.forEach((cells, i) => {
      body.insertRow().append(textElement("th", String(page.start + i)), ...cells.map(c => textElement("td", c)));
    });
    this.el.replaceChildren(nav, table);
  }
}
