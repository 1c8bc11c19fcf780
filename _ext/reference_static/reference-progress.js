/* Index of exercises: mark the exercises this browser has passed.
 *
 * The in-page runner remembers each passed exercise in localStorage under the key below, as
 * {label: date}. This script only reads that record: it sends nothing anywhere and changes nothing.
 * Without a record (no runner, another browser, private mode) the page stays as it is.
 */
(function () {
  "use strict";
  const KEY = "linalg-nn-course:progress";

  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY)) || {}; } catch (err) { return {}; }
  }

  function mark() {
    const progress = load();
    const table = document.querySelector(".exercise-index table");  // the note goes above the first table
    if (!table) return;
    let done = 0;
    let total = 0;
    for (const row of document.querySelectorAll(".exercise-index table tbody tr")) {
      const link = row.querySelector('a[href*="#"]');
      const label = link ? decodeURIComponent(link.hash.slice(1)) : "";
      if (!label) continue;
      total += 1;
      const passed = Object.prototype.hasOwnProperty.call(progress, label);
      row.classList.toggle("exercise-passed", passed);
      row.dataset.exercise = label;
      const cell = link.closest("td");
      let tick = cell.querySelector(".exercise-tick");
      if (passed && !tick) {
        tick = document.createElement("span");
        tick.className = "exercise-tick";
        tick.textContent = "\u2713 ";
        tick.title = "passed in this browser";
        cell.prepend(tick);
      } else if (!passed && tick) {
        tick.remove();
      }
      if (passed) done += 1;
    }
    let note = document.querySelector(".exercise-index-progress");
    if (!done) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "exercise-index-progress";
      table.parentElement.insertBefore(note, table);
    }
    note.textContent = `\u2713 marks the ${done} of ${total} exercises you have passed in this browser.`;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
  window.addEventListener("storage", (event) => { if (event.key === KEY) mark(); });
})();
