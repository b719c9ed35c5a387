// The start-up card (each stage ticked off with the time it was reached) and the bundled examples.

import { esc } from "./panels.js";

/**
 * Mark a start-up stage active or done; the stages before it are done.
 * @param {string} name a data-stage of #stages
 * @param {"active" | "done"} state
 * @param {number} t0 the page's start (performance.now())
 */
export function stageMark(name, state, t0) {
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
        t.textContent = `${((performance.now() - t0) / 1000).toFixed(1)} s`;
        el.append(t);
      }
    } else if (i === at) el.classList.add("active");
  });
}

/**
 * The site's samples (sample/samples.json, when the build has them) into the examples menu and the
 * empty page's links.
 * @param {HTMLSelectElement} select @param {HTMLElement} links
 */
export async function loadExamples(select, links) {
  try {
    const res = await fetch(new URL("../sample/samples.json", location.href));
    if (!res.ok) return;
    const list = await res.json();
    for (const s of list) {
      const href = `../sample/${s.source}`;
      select.append(new Option(s.name, href));
      const li = document.createElement("li");
      li.innerHTML = `<a href="?source=${encodeURIComponent(href)}">${esc(s.name)}</a>`;
      links.append(li);
    }
  } catch { /* no samples in this build */ }
}
