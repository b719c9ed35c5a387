// What the page tells a person: the error panel (what failed, in one line, and what to do about it) and
// the note card on the stage (why there is no image). Always as text: messages come from data and servers.

import { explain } from "./errors.js";
import { esc } from "./panels.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Show `err` in the error panel.
 * @param {any} err
 * @param {{tile?: boolean, source?: string, restarted?: boolean, reopened?: boolean}} [context] `tile`: a
 *   failed tile (the title counts `failures` so far)
 * @param {number} [failures]
 */
export function showError(err, context = {}, failures = 0) {
  console.warn("zarrlite viewer:", err);
  const e = explain(err, context);
  $("error").hidden = false;
  $("error").dataset.kind = e.kind;
  $("error-title").textContent = context.tile ? `${e.title} (${failures} failed so far)` : e.title;
  $("error-message").textContent = e.message;
  $("error-advice").innerHTML = e.advice.map(a => `<li>${a}</li>`).join("");
  $("startup").hidden = true;
  /** @type {any} */ (window).lastError = { name: err?.name, message: err?.message, kind: e.kind };
}

export function hideError() { $("error").hidden = true; }

/** The note card on the stage (`text` null: hidden). @param {HTMLElement} stage @param {string | null} text */
export function showNote(stage, text) {
  let note = /** @type {HTMLElement | null} */ (stage.querySelector(".card.note"));
  if (!note) {
    note = document.createElement("div");
    note.className = "card note";
    stage.append(note);
  }
  note.hidden = !text;
  if (text) note.innerHTML = `<p>${esc(text)}</p>`;
}
