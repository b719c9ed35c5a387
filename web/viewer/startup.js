// The viewer's start: the zarrlite runtime, started when this module is evaluated, the start-up card
// (each stage ticked off with the time it was reached) and the bundled examples.
//
// The runtime starts as viewer.js's modules are evaluated, just before its own body runs. A page could
// start it sooner by loading this module on its own ahead of viewer.js (its graph is only zarrlite.js,
// rpc.js and protocol.js): the worker is then created ~0.17 s earlier (cold) while the viewer's other
// modules still arrive. Measured here under load 8-20 (alternating pairs, sample, first image), that was
// later warm in 13 of 18 pairs, and cold earlier in 7 of 10 and later in 6 of 8: no gain shown, so the page
// does not do it.

import { Zarrlite } from "../zarrlite.js";

/** @typedef {{stage: string, loaded: number, total: number, ms: number}} Progress */

/** @type {{last: Progress | null, listener: ((p: Progress) => void) | null}} */
const progress = { last: null, listener: null };

/** The runtime, started at once; viewer.js sets its `onRestart`. */
export const runtime = Zarrlite.create({
  onProgress: p => { progress.last = p; progress.listener?.(p); },
});
runtime.catch(() => {});   // viewer.js awaits it and shows the error

/**
 * Hear the runtime's start-up progress: the latest stage reached so far at once (earlier ones are not
 * repeated: the card marks the stages before a stage done by itself), then each one as it comes.
 * @param {(p: Progress) => void} listener
 */
export function onStartupProgress(listener) {
  progress.listener = listener;
  if (progress.last) listener(progress.last);
}

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
      const a = document.createElement("a");
      a.href = `?source=${encodeURIComponent(href)}`;
      a.textContent = s.name;
      const li = document.createElement("li");
      li.append(a);
      links.append(li);
    }
  } catch { /* no samples in this build */ }
}
