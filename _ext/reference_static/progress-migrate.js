/* Saved progress follows a renamed exercise.
 *
 * The runner keeps records keyed by exercise label in localStorage (keys starting with
 * "linalg-nn-course:", e.g. the passed exercises as {label: date}). When an exercise is renamed,
 * the page carries the map {old label: new label} (window.COURSE_RENAMED_LABELS, written by
 * _ext/progress_labels.py); this script, loaded before the runner and the index of exercises,
 * moves each old label's entry to the new label (an entry already under the new label wins). It
 * runs once per page load, reads and writes only this browser's localStorage and sends nothing.
 */
(function () {
  "use strict";
  const PREFIX = "linalg-nn-course:";
  const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function migrateRecord(record, renamed) {
    let changed = false;
    for (let pass = 0; pass < 8; pass += 1) {  // a label renamed twice: old -> middle -> new
      let moved = false;
      for (const [old, now] of Object.entries(renamed)) {
        if (old === now || !own(record, old)) continue;
        if (!own(record, now)) record[now] = record[old];
        delete record[old];
        moved = changed = true;
      }
      if (!moved) break;
    }
    return changed;
  }

  function migrate(storage, renamed) {
    if (!storage || !renamed || !Object.keys(renamed).length) return 0;
    const keys = [];
    for (let i = 0; i < storage.length; i += 1) keys.push(storage.key(i));
    let count = 0;
    for (const key of keys) {
      if (!key || !key.startsWith(PREFIX)) continue;
      let record;
      try { record = JSON.parse(storage.getItem(key)); } catch (err) { continue; }
      if (!record || typeof record !== "object" || Array.isArray(record)) continue;
      if (migrateRecord(record, renamed)) {
        storage.setItem(key, JSON.stringify(record));
        count += 1;
      }
    }
    return count;
  }

  if (typeof window !== "undefined") {
    try { migrate(window.localStorage, window.COURSE_RENAMED_LABELS); } catch (err) { /* private mode */ }
  }
  if (typeof module !== "undefined") module.exports = { migrate, migrateRecord };
})();
