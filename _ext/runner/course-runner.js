/* "Run the code in your browser" (chapter pages) and the course's progress (every page).
 *
 * Nothing is fetched until the learner clicks the control: then a Web Worker loads Python
 * (Pyodide, NumPy and the course's `lib`) from this site, and every code cell becomes an
 * editor with Run and Stop (Shift+Enter runs it and moves on, Ctrl+Enter runs it and stays;
 * Esc then Tab leaves the editor). The cells share one Python, like a notebook.
 *
 * Kept in localStorage, never sent anywhere:
 *   linalg-nn-course:progress   {label: ISO time of the first pass}
 *   linalg-nn-course:attempts   {label: number of checked answers (any verdict)}
 *   linalg-nn-course:code:<page> {cell number: {orig: hash of the cell's code in the book, code}}
 * A saved cell is restored only while the book's cell is unchanged (same hash): a new edition of
 * a notebook never gets stale code over its new cells. Export/import writes all of it as one JSON.
 *
 * On every page: a solution (a <details data-exercise>) opens only after one checked attempt of
 * its exercise or a confirmation; a cell tagged reveal-after-<label> stays folded until <label>
 * has been checked (or the learner asks to see it anyway).
 */
(function () {
  "use strict";

  const KEY = "linalg-nn-course:progress";
  const ATTEMPTS = "linalg-nn-course:attempts";
  const CODE = "linalg-nn-course:code:";
  const FORMAT = "linalg-nn-course-progress";

  // ------------------------------------------------------------ localStorage
  function load(key) {
    try { return JSON.parse(localStorage.getItem(key)) || {}; } catch (err) { return {}; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (err) { /* private mode, or full */ }
  }
  const loadProgress = () => load(KEY);
  function markDone(label) {
    const progress = loadProgress();
    if (!progress[label]) {
      progress[label] = new Date().toISOString();
      save(KEY, progress);
    }
  }
  function markAttempt(label) {
    const attempts = load(ATTEMPTS);
    attempts[label] = (attempts[label] || 0) + 1;
    save(ATTEMPTS, attempts);
  }
  const attempted = (label) => !!(load(ATTEMPTS)[label] || loadProgress()[label]);
  function resetProgress() {
    try { localStorage.removeItem(KEY); localStorage.removeItem(ATTEMPTS); } catch (err) { /* nothing to reset */ }
    renderAllProgress();
  }
  function countDone(labels) {
    const progress = loadProgress();
    return labels.filter((label) => progress[label]).length;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // A short, stable fingerprint of a cell's code in the book (FNV-1a, 32 bits, hex).
  function hash(text) {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h.toString(16);
  }

  // ------------------------------------------------------------ export and import (one JSON file)
  function exportAll() {
    const data = {format: FORMAT, version: 1, exported: new Date().toISOString(),
                  progress: loadProgress(), attempts: load(ATTEMPTS), code: {}};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key.startsWith(CODE)) data.code[key.slice(CODE.length)] = load(key);
    }
    return data;
  }
  function importAll(data) {
    if (!data || data.format !== FORMAT) throw new Error("this file is not an export of the course's progress");
    const progress = loadProgress();
    for (const [label, when] of Object.entries(data.progress || {})) if (!progress[label]) progress[label] = when;
    save(KEY, progress);
    const attempts = load(ATTEMPTS);
    for (const [label, n] of Object.entries(data.attempts || {})) attempts[label] = Math.max(attempts[label] || 0, Number(n) || 0);
    save(ATTEMPTS, attempts);
    for (const [page, saved] of Object.entries(data.code || {})) save(CODE + page, {...load(CODE + page), ...saved});
    renderAllProgress();
    cells.forEach(restoreCode);
  }
  function transferControls() {
    const span = document.createElement("span");
    span.className = "course-transfer";
    const out = document.createElement("button");
    out.type = "button";
    out.className = "course-progress-export";
    out.textContent = "Export progress and code";
    out.title = "Save your progress and your code in every chapter as one JSON file";
    out.addEventListener("click", () => {
      const blob = new Blob([JSON.stringify(exportAll(), null, 1)], {type: "application/json"});
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "linalg-nn-course-progress.json";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    });
    const file = document.createElement("input");
    file.type = "file";
    file.accept = "application/json,.json";
    file.hidden = true;
    file.className = "course-progress-file";
    const inp = document.createElement("button");
    inp.type = "button";
    inp.className = "course-progress-import";
    inp.textContent = "Import…";
    inp.title = "Add the progress and the code of an exported JSON file to this browser's";
    const said = document.createElement("span");
    said.className = "course-transfer-status";
    said.setAttribute("role", "status");
    inp.addEventListener("click", () => file.click());
    file.addEventListener("change", async () => {
      try {
        importAll(JSON.parse(await file.files[0].text()));
        said.textContent = " Imported.";
      } catch (err) {
        said.textContent = ` Could not import: ${err.message}.`;
      }
      file.value = "";
    });
    span.append(out, " ", inp, file, said);
    return span;
  }

  function renderChapterProgress(root) {
    const el = root.querySelector(".course-progress");
    const labels = JSON.parse(root.dataset.exercises || "[]");
    if (!el) return;
    el.innerHTML = "";
    if (labels.length) {
      const done = countDone(labels);
      el.append(`${done} of ${plural(labels.length, "exercise")} done on this page `);
      const link = document.createElement("a");
      link.href = root.dataset.courseHome + "#course-progress";
      link.textContent = "(the whole course)";
      el.append(link, ". ");
      el.dataset.done = String(done);
    }
    el.append(transferControls());
  }

  function renderSummary(el) {
    const chapters = JSON.parse(el.dataset.chapters || "[]");
    const total = chapters.reduce((n, c) => n + c.exercises.length, 0);
    const done = chapters.reduce((n, c) => n + countDone(c.exercises), 0);
    el.id = "course-progress";
    el.innerHTML = "";
    const head = document.createElement("p");
    head.className = "course-progress-total";
    head.innerHTML = "<strong>Your progress:</strong> ";
    head.append(`${done} of ${plural(total, "exercise")} done. `);
    head.dataset.done = String(done);
    el.append(head);
    const list = document.createElement("ul");
    for (const chapter of chapters) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = chapter.href;
      link.textContent = chapter.title;
      item.append(link, `: ${countDone(chapter.exercises)} of ${chapter.exercises.length} done`);
      list.append(item);
    }
    el.append(list);
    const reset = document.createElement("button");
    reset.type = "button";
    reset.className = "course-progress-reset";
    reset.textContent = "Reset my progress";
    reset.addEventListener("click", () => {
      if (window.confirm("Forget every exercise you have passed? (Your code in the chapters is kept.)")) resetProgress();
    });
    const note = document.createElement("p");
    note.className = "course-runner-note";
    note.append("Kept in this browser only (localStorage); nothing is sent anywhere. ", reset, " ", transferControls());
    el.append(note);
  }

  function renderAllProgress() {
    document.querySelectorAll(".course-runner").forEach(renderChapterProgress);
    document.querySelectorAll(".course-progress-summary").forEach(renderSummary);
    revealCells();
  }

  // ------------------------------------------------------------ solutions and reveal-after cells
  // A solution opens after one checked attempt, or once the learner confirms.
  document.addEventListener("click", (event) => {
    const summary = event.target.closest && event.target.closest("summary");
    const details = summary && summary.parentElement;
    if (!details || details.tagName !== "DETAILS" || details.open || !details.dataset.exercise) return;
    if (attempted(details.dataset.exercise) || details.dataset.confirmed) return;
    event.preventDefault();
    if (window.confirm("You have not checked an answer to this exercise yet. Show the solution anyway?")) {
      details.dataset.confirmed = "1";
      details.open = true;
    }
  }, true);

  function revealCells() {
    document.querySelectorAll("div.cell[class*='tag_reveal-after-']").forEach((cellEl) => {
      const label = [...cellEl.classList].find((c) => c.startsWith("tag_reveal-after-")).slice("tag_reveal-after-".length);
      let fold = cellEl.querySelector(":scope > .course-reveal");
      if (!fold) {
        fold = document.createElement("div");
        fold.className = "course-reveal";
        const text = document.createElement("p");
        const target = document.getElementById(label);
        text.append("This cell reveals the answer to the prediction of ");
        const link = document.createElement(target ? "a" : "span");
        if (target) link.href = "#" + label;
        link.textContent = `exercise ${label}`;
        text.append(link, ": check your prediction first, and it opens. ");
        const show = document.createElement("button");
        show.type = "button";
        show.className = "course-reveal-anyway";
        show.textContent = "Show it anyway";
        show.addEventListener("click", () => { cellEl.dataset.revealed = "1"; revealCells(); });
        text.append(show);
        fold.append(text);
        cellEl.prepend(fold);
      }
      const open = attempted(label) || !!cellEl.dataset.revealed;
      fold.hidden = open;
      cellEl.classList.toggle("course-folded", !open);
    });
  }

  // ------------------------------------------------------------ the worker
  let worker = null;
  let nextId = 0;
  const waiting = new Map();
  let onProgress = () => {};
  let interrupt = null;  // Int8Array on a SharedArrayBuffer when the page is cross-origin isolated

  const FROM_DISK = "Python cannot start on a page opened from disk (file://): browsers refuse to run its worker " +
    "there. Serve the folder instead: in the course's folder run  python3 -m http.server -d _build/html  (or  make serve ) " +
    "and open http://127.0.0.1:8000/ (in the offline edition: python3 serve.py in its folder); or open this chapter in " +
    "Binder or Colab (the rocket button at the top of the page).";

  function startWorker(root) {
    const abs = (url) => new URL(url, document.baseURI).href;
    return new Promise((resolve, reject) => {
      if (location.protocol === "file:") { reject(new Error(FROM_DISK)); return; }
      try {
        worker = new Worker(abs(root.dataset.worker));
      } catch (err) {
        reject(new Error("this browser refused to start the Python worker (" + err.message + ")"));
        return;
      }
      interrupt = (self.crossOriginIsolated && typeof SharedArrayBuffer === "function")
        ? new Int8Array(new SharedArrayBuffer(1)) : null;
      worker.onmessage = (event) => {
        const msg = event.data;
        if (msg.type === "progress") onProgress(msg);
        else if (msg.type === "ready") resolve(msg);
        else if (msg.type === "fatal") reject(new Error(msg.message));
        else if (msg.type === "console-error") console.error("[Python worker]", msg.text);
        else if (msg.type === "result" && waiting.has(msg.id)) {
          waiting.get(msg.id)(msg);
          waiting.delete(msg.id);
        }
      };
      worker.onerror = (event) => reject(new Error(event.message || "the Python worker failed to start"));
      worker.postMessage({type: "init", indexURL: abs(root.dataset.indexUrl), libWheel: abs(root.dataset.libWheel),
                          runnerPy: abs(root.dataset.runnerPy), interrupt});
    });
  }

  function post(msg) {
    const id = ++nextId;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      worker.postMessage({...msg, id});
    });
  }
  const runCode = (code, filename) => post({type: "run", code, filename});

  const mb = (bytes) => (bytes / 1e6).toFixed(1) + " MB";

  // ------------------------------------------------------------ cells
  const cells = [];
  let executed = 0;     // the execution counter shown as [n], as in Jupyter
  let generation = 0;   // bumped by a restart: queued runs of an older Python are cancelled

  function isDemo(cellEl) { return !!cellEl.querySelector(".cell_output .course-demo"); }
  const isTiming = (cell) => cell.root.classList.contains("tag_machine-dependent");
  let uid = 0;

  // A demo (or any HTML) shown again by a cell: give its ids fresh names, in its scripts too, so
  // its controls drive this copy and not the page's.
  function freshIds(el) {
    const scripts = [...el.querySelectorAll("script")];
    el.querySelectorAll("[id]").forEach((node) => {
      const old = node.id;
      const renamed = `${old}-run${++uid}`;
      node.id = renamed;
      scripts.forEach((s) => { s.textContent = s.textContent.split(old).join(renamed); });
      el.querySelectorAll(`[for="${CSS.escape(old)}"]`).forEach((l) => l.setAttribute("for", renamed));
    });
  }

  function renderOutputs(cell, outputs) {
    const box = document.createElement("div");
    box.className = "course-cell-outputs";
    let figures = 0;
    for (const out of outputs) {
      let el;
      if (out.type === "html") {
        el = document.createElement("div");
        el.className = "course-out-html";
        el.innerHTML = out.html;
        freshIds(el);
        el.querySelectorAll("script").forEach((old) => {  // e.g. a demo player shown by a cell
          const script = document.createElement("script");  // a fresh <script> runs; its attributes kept
          for (const attr of old.attributes) script.setAttribute(attr.name, attr.value);
          script.textContent = old.textContent;
          old.replaceWith(script);
        });
      } else if (out.type === "png") {
        el = document.createElement("img");
        el.className = "course-out-png";
        el.alt = out.title ? `figure ${++figures} of cell ${cell.index + 1}: ${out.title}` : `figure ${++figures} drawn by cell ${cell.index + 1}`;
        el.src = "data:image/png;base64," + out.data;
      } else {
        el = document.createElement("pre");
        el.className = "course-out-" + out.type;
        el.textContent = out.text;
        el.tabIndex = 0;  // a long output scrolls in its own box: reachable by keyboard
        el.setAttribute("aria-label", `${out.type === "error" ? "error" : "output"} of cell ${cell.index + 1}`);
      }
      box.append(el);
    }
    let shown = box;
    const foldsItself = box.querySelector(":scope > .course-out-html > details");  // e.g. a solution
    if (cell.hideOutput && outputs.length && !foldsItself && !cell.isHint) {
      shown = document.createElement("details");
      shown.className = "course-cell-folded";
      const summary = document.createElement("summary");
      summary.textContent = `Show the output of cell ${cell.index + 1}`;
      shown.append(summary, box);
    }
    cell.output.replaceChildren(shown);
    if (cell.original) cell.original.hidden = true;  // the build's output gives way to the new one
    let verdict = "";
    box.querySelectorAll("[data-exercise][data-status]").forEach((result) => {
      const {exercise, status} = result.dataset;
      if (status !== "not attempted") markAttempt(exercise);
      if (status === "correct") markDone(exercise);
      const badge = result.querySelector(".exercise-status");
      verdict = badge ? badge.textContent : status;
    });
    renderAllProgress();
    return verdict;
  }

  function setState(cell, state, text) {
    cell.status.textContent = text;
    if (state) cell.root.dataset.state = state; else delete cell.root.dataset.state;
    cell.stop.hidden = state !== "running";
    cell.root.classList.toggle("course-cell-running", state === "running");
    cell.output.classList.toggle("course-cell-stale", state === "running" || state === "waiting");
  }

  let busy = Promise.resolve();

  function run(cell) {
    const code = cell.editor.value;
    const gen = generation;
    setState(cell, "waiting", "waiting…");
    const job = busy.then(async () => {
      if (gen !== generation) return;  // cancelled by a restart: the status already says so
      setState(cell, "running", "running…");
      onProgress = (msg) => { cell.status.textContent = `running… (loading ${msg.text}, ${mb(msg.bytes)})`; };
      const t0 = performance.now();
      cell.running = true;
      const reply = await runCode(code, `<cell ${cell.index + 1}>`);
      cell.running = false;
      if (reply.cancelled) return;
      cell.runs += 1;
      cell.counter.textContent = `[${++executed}]`;
      cell.counter.title = `cell ${cell.index + 1} was the ${executed}th run since Python started`;
      const verdict = renderOutputs(cell, reply.outputs);
      const failed = reply.outputs.some((o) => o.type === "error");
      const stopped = reply.outputs.some((o) => o.type === "error" && /KeyboardInterrupt/.test(o.text));
      const notRun = cells.filter((c) => c.editor && c.index < cell.index && !c.runs && !isTiming(c)).length;
      const missing = (o) => /NameError|ModuleNotFoundError|not defined/.test(o.text || o.html || "");
      if (notRun && reply.outputs.some(missing)) {
        const hint = document.createElement("p");
        hint.className = "course-cell-hint";
        hint.textContent = `${plural(notRun, "cell")} above this one ${notRun === 1 ? "has" : "have"} not run yet in this page: ` +
          "run them first, in order (each exercise cell has a \"Run all above\" button).";
        cell.output.append(hint);
      }
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      setState(cell, failed ? "error" : "done", `${stopped ? "stopped" : failed ? "error" : "done"}${verdict ? ": " + verdict : ""} (${seconds} s)`);
    });
    busy = job.catch(() => {});
    return job;
  }

  function runAllAbove(cell) {
    const skipped = [];
    cells.filter((c) => c.index < cell.index && c.editor).forEach((c) => {
      if (isTiming(c)) skipped.push(c.index + 1); else run(c);
    });
    if (skipped.length) {
      cell.status.textContent = `Running the cells above; skipping the timing ${skipped.length === 1 ? "cell" : "cells"} ` +
        `${skipped.join(", ")} (timings are for Jupyter).`;
    }
    return busy;
  }

  // Stop: interrupt Python (KeyboardInterrupt) where the page is cross-origin isolated; otherwise
  // the only way is to end the worker, which restarts Python.
  function stop(cell) {
    if (interrupt) {
      interrupt[0] = 2;  // SIGINT: Pyodide raises KeyboardInterrupt in the running cell
      cell.status.textContent = "stopping…";
      return Promise.resolve();
    }
    return restart(document.querySelector(".course-runner"),
      `Stopped: this server does not let the page interrupt Python (no cross-origin isolation), so Python ` +
      "was restarted and has forgotten every variable; run the cells above again (make serve interrupts without a restart).",
      cell);
  }

  // ------------------------------------------------------------ the editor (a textarea)
  function autosize(editor) {
    editor.style.height = "auto";
    editor.style.height = editor.scrollHeight + 2 + "px";
  }
  function lineNumbers(cell) {
    const n = cell.editor.value.split("\n").length;
    if (cell.gutter.childElementCount === n) return;
    cell.gutter.textContent = Array.from({length: n}, (_, i) => i + 1).join("\n");
  }
  // Replace [from, to) by text through the browser's editing commands, so that undo restores it.
  function replaceRange(editor, from, to, text, selectFrom, selectTo) {
    editor.focus();
    editor.setSelectionRange(from, to);
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      editor.setRangeText(text, from, to, "end");
      editor.dispatchEvent(new Event("input"));
    }
    if (selectFrom !== undefined) editor.setSelectionRange(selectFrom, selectTo);
  }
  function indentLines(editor, dedent) {
    const {value, selectionStart: s, selectionEnd: e} = editor;
    const from = value.lastIndexOf("\n", s - 1) + 1;
    const endAt = e > s && value[e - 1] === "\n" ? e - 1 : e;
    let to = value.indexOf("\n", endAt);
    if (to < 0) to = value.length;
    const lines = value.slice(from, to).split("\n");
    const changed = lines.map((line) => dedent ? line.replace(/^( {1,4}|\t)/, "") : "    " + line);
    const text = changed.join("\n");
    if (text === value.slice(from, to)) return;
    replaceRange(editor, from, to, text, from, from + text.length);
  }
  function onKey(cell, event) {
    const editor = cell.editor;
    if (event.key === "Escape") { cell.escaped = true; return; }
    const escaped = cell.escaped;
    cell.escaped = false;
    if (event.key === "Enter" && (event.shiftKey || event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run(cell);
      if (event.shiftKey) {  // as in Jupyter: run, then go on to the next cell
        const next = cells.find((c) => c.index > cell.index && c.editor);
        if (next) { next.editor.focus(); next.editor.scrollIntoView({block: "nearest"}); }
      }
    } else if (event.key === "Tab" && !escaped) {  // Esc then Tab leaves the editor
      event.preventDefault();
      const {value, selectionStart: s, selectionEnd: e} = editor;
      if (event.shiftKey || value.slice(s, e).includes("\n")) indentLines(editor, event.shiftKey);
      else replaceRange(editor, s, e, " ".repeat(4 - ((s - value.lastIndexOf("\n", s - 1) - 1) % 4)));
    } else if (event.key === "Enter" && !event.altKey) {  // keep the indentation, one more after ':'
      const {value, selectionStart: s, selectionEnd: e} = editor;
      const line = value.slice(value.lastIndexOf("\n", s - 1) + 1, s);
      let indent = line.match(/^ */)[0];
      if (/:\s*(#.*)?$/.test(line)) indent += "    ";
      if (indent) { event.preventDefault(); replaceRange(editor, s, e, "\n" + indent); }
    }
  }

  function savedCode(cell) {
    return load(CODE + pageKey())[cell.index + 1];
  }
  function pageKey() {
    const root = document.querySelector(".course-runner");
    return (root && root.dataset.page) || location.pathname;
  }
  function saveCode(cell) {
    const all = load(CODE + pageKey());
    const key = cell.index + 1;
    if (cell.editor.value === cell.code) delete all[key];
    else all[key] = {orig: hash(cell.code), code: cell.editor.value, saved: new Date().toISOString()};
    if (Object.keys(all).length) save(CODE + pageKey(), all);
    else try { localStorage.removeItem(CODE + pageKey()); } catch (err) { /* */ }
    cell.reset.hidden = cell.editor.value === cell.code;
  }
  function restoreCode(cell) {
    if (!cell.editor) return;
    const saved = savedCode(cell);
    if (saved && saved.orig === hash(cell.code) && typeof saved.code === "string") cell.editor.value = saved.code;
    cell.reset.hidden = cell.editor.value === cell.code;
    autosize(cell.editor);
    lineNumbers(cell);
  }
  function resetCell(cell) {
    cell.editor.value = cell.code;
    saveCode(cell);
    autosize(cell.editor);
    lineNumbers(cell);
    cell.editor.focus();
  }

  function button(className, text, label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function makeCell(cellEl, index) {
    const input = cellEl.querySelector(".cell_input");
    const pre = input && input.querySelector("pre");
    if (!pre) return null;
    const n = index + 1;
    const cell = {index, root: cellEl, runs: 0, original: cellEl.querySelector(":scope > details.below-input, :scope > .cell_output"),
                  hideOutput: cellEl.classList.contains("tag_hide-output")};
    const bar = document.createElement("div");
    bar.className = "course-cell-bar";
    cell.status = document.createElement("span");
    cell.status.className = "course-cell-status";
    cell.status.setAttribute("aria-live", "polite");
    // A hide-input cell keeps its code in a closed fold: its bar goes after the fold, reachable.
    const fold = input.closest("details");
    const anchor = fold && cellEl.contains(fold) ? fold : input;
    if (isDemo(cellEl)) {
      cell.status.textContent = "This demo is live already: move its controls (it needs no Python). Shown again from a " +
        "cell, a demo draws every frame in the page's Python first, which takes a while.";
      bar.append(cell.status);
      anchor.after(bar);
      return cell;
    }
    cell.code = pre.textContent.replace(/\n$/, "");
    cell.isHint = /\.hint\(/.test(cell.code);
    const wrap = document.createElement("div");
    wrap.className = "course-cell-editor-wrap";
    cell.gutter = document.createElement("pre");
    cell.gutter.className = "course-cell-gutter";
    cell.gutter.setAttribute("aria-hidden", "true");
    const editor = document.createElement("textarea");
    editor.className = "course-cell-editor";
    editor.value = cell.code;
    editor.spellcheck = false;
    editor.wrap = "off";
    editor.setAttribute("autocapitalize", "off");
    editor.setAttribute("autocomplete", "off");
    editor.setAttribute("aria-label", `code of cell ${n} (Shift+Enter runs it; Esc then Tab leaves the editor)`);
    cell.editor = editor;
    let timer = null;
    editor.addEventListener("input", () => {
      autosize(editor);
      lineNumbers(cell);
      clearTimeout(timer);
      timer = setTimeout(() => saveCode(cell), 250);
    });
    editor.addEventListener("blur", () => { clearTimeout(timer); saveCode(cell); });
    editor.addEventListener("keydown", (event) => onKey(cell, event));
    wrap.append(cell.gutter, editor);
    const label = document.createElement("span");
    label.className = "course-cell-label";
    label.textContent = `cell ${n}`;
    cell.counter = document.createElement("span");
    cell.counter.className = "course-cell-counter";
    cell.counter.textContent = "[ ]";
    const runButton = button("course-cell-run", "Run", `Run cell ${n}`, () => run(cell));
    runButton.title = "Run this cell (Shift+Enter: run and go to the next cell; Ctrl+Enter: run and stay)";
    cell.stop = button("course-cell-stop", "Stop", `Stop cell ${n}`, () => stop(cell));
    cell.stop.hidden = true;
    cell.reset = button("course-cell-reset", "Reset", `Reset cell ${n} to the book's code`, () => {
      if (window.confirm(`Put the book's code back into cell ${n}? Your version of it is forgotten.`)) resetCell(cell);
    });
    cell.reset.title = "Put the book's code back into this cell";
    bar.append(label, cell.counter, runButton, cell.stop);
    if (/\bex\w*\.check\(/.test(cell.code)) {
      bar.append(button("course-cell-run-above", "Run all above", `Run all above cell ${n}`,
                        () => runAllAbove(cell)));
    }
    bar.append(cell.reset, cell.status);
    if (isTiming(cell)) {  // a timing: the browser is much slower, and has one thread
      const note = document.createElement("p");
      note.className = "course-cell-note";
      note.textContent = "Timings are meant for Jupyter: in the browser, Python and NumPy run on one thread, so this cell " +
        "can take minutes and measures the browser, not your machine. \"Run all above\" skips it; Run it if you want to see.";
      cell.note = note;
    }
    cell.output = document.createElement("div");
    cell.output.className = "course-cell-output";
    const highlight = input.firstElementChild;
    highlight.hidden = true;
    input.append(wrap);
    anchor.after(bar);
    if (fold) fold.addEventListener("toggle", () => { autosize(editor); });
    if (cell.note) bar.after(cell.note);
    cellEl.append(cell.output);
    cellEl.classList.add("course-cell");
    restoreCode(cell);
    return cell;
  }

  // ------------------------------------------------------------ the control
  let started = null;
  let restarting = false;  // the loading stages then say "Restarting Python…" first

  function stageText(root, msg, t0) {
    const seconds = Math.round((performance.now() - t0) / 1000);
    const total = Number(root.dataset.firstBytes || 0);
    const of = total ? ` of about ${mb(total)}` : "";
    const step = msg.stage === "python" ? "Step 1 of 2: Python (Pyodide)" :
      msg.stage === "numpy" ? "Step 2 of 2: NumPy and the course" : msg.text;
    const compiling = msg.stage === "python" && total && msg.bytes >= 0.6 * total ?
      ", starting it (the longest step, often 10 s)" : "";
    return `${restarting ? "Restarting Python… " : ""}${step}… ${mb(msg.bytes)}${of} fetched${compiling}, ${seconds} s`;
  }

  function start(root) {
    if (started) return started;
    const button = root.querySelector(".course-runner-start");
    const status = root.querySelector(".course-runner-status");
    button.disabled = true;
    const t0 = performance.now();
    let last = {stage: "python", text: "Python (Pyodide)", bytes: 0};
    const tick = setInterval(() => { status.textContent = stageText(root, last, t0); }, 1000);
    onProgress = (msg) => { last = msg; status.textContent = stageText(root, msg, t0); };
    status.textContent = stageText(root, last, t0);
    started = startWorker(root).then((ready) => {
      clearInterval(tick);
      restarting = false;
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      status.textContent = `Python is ready (${mb(ready.bytes)} in ${seconds} s). Edit any cell, then Run it ` +
        "(Shift+Enter runs it and goes to the next cell). Your code is kept in this browser as you type.";
      button.textContent = "Restart Python";
      button.title = "Forgets every variable and starts a fresh Python; run the cells again afterwards";
      button.disabled = false;
      root.classList.add("course-runner-ready");
      if (!cells.length) {
        const article = document.querySelector("article") || document.body;
        article.querySelectorAll("div.cell").forEach((el) => {
          const cell = makeCell(el, cells.length);
          if (cell) cells.push(cell);
        });
      }
      // a second after "ready", behind any cell already asked for: the first result never waits for it
      setTimeout(() => preload(root, status), 1000);
      return ready;
    }, (err) => {
      clearInterval(tick);
      restarting = false;
      status.textContent = location.protocol === "file:" ? err.message : `Python could not start: ${err.message}`;
      root.classList.toggle("course-runner-from-disk", location.protocol === "file:");
      button.disabled = false;
      started = null;
      if (worker) worker.terminate();
      throw err;
    });
    return started;
  }

  // The packages this page's cells import (matplotlib, for the figures), fetched in the background
  // once Python is ready: a cell asked for later waits for them (it would need them anyway).
  function preload(root, status) {
    if (!started || !worker) return;
    const code = cells.filter((c) => c.editor).map((c) => c.code).join("\n");
    const before = status.textContent;
    const gen = generation;
    busy = busy.then(async () => {
      onProgress = (msg) => { if (gen === generation) status.textContent = `${before} Loading ${msg.text} in the background… ${mb(msg.bytes)}`; };
      const reply = await post({type: "preload", code});
      if (gen === generation && reply.loaded && reply.loaded.length) {
        status.textContent = `${before} ${reply.loaded.join(", ")} loaded too (${mb(reply.bytes)} in all).`;
      }
    });
  }

  function restart(root, why, stoppedCell) {
    generation += 1;
    if (worker) worker.terminate();
    for (const [id, resolve] of waiting) {
      const running = cells.find((c) => c.running);
      if (running) {
        running.running = false;
        running.runs += 1;
        const text = running === stoppedCell ? why : "Python was restarted before this cell finished.";
        renderOutputs(running, [{type: "error", text}]);
        setState(running, "error", running === stoppedCell ? "stopped" : "stopped by the restart");
      }
      resolve({cancelled: true, id});
    }
    waiting.clear();
    busy = Promise.resolve();
    started = null;
    executed = 0;
    cells.forEach((cell) => {
      if (!cell.editor) return;
      cell.runs = 0;  // nothing has run in the new Python
      cell.counter.textContent = "[ ]";
      if (cell.root.dataset.state === "waiting") setState(cell, "", "cancelled: Python was restarted");
      else if (cell.root.dataset.state !== "error") setState(cell, "", "");
    });
    root.classList.remove("course-runner-ready");
    restarting = true;
    return start(root);
  }

  // For the tests and the benchmark (tests/test_runner.py, scripts/bench.py).
  window.courseRunner = {
    start: () => start(document.querySelector(".course-runner")),
    cells,
    run: (i) => run(cells[i]),
    stop: (i) => stop(cells[i]),
    runAllAbove: (i) => runAllAbove(cells[i]),
    runCode: (code) => runCode(code, "<bench>"),
    restart: () => restart(document.querySelector(".course-runner")),
    isolated: () => !!interrupt,
    progress: loadProgress,
    renderProgress: renderAllProgress,
    exportAll,
    importAll,
  };

  function init() {
    document.querySelectorAll(".course-runner").forEach((root) => {
      if (location.protocol === "file:") {
        root.querySelector(".course-runner-note").textContent = FROM_DISK;
        root.classList.add("course-runner-from-disk");
      }
      const edited = Object.keys(load(CODE + pageKey())).length;
      if (edited) {
        root.querySelector(".course-runner-status").textContent = `You have edited ${plural(edited, "cell")} of this ` +
          "page: your code comes back into them when you start Python.";
      }
      root.querySelector(".course-runner-start").addEventListener("click", () => {
        const ready = root.classList.contains("course-runner-ready");
        if (ready && !window.confirm("Restart Python? It forgets every variable; your code stays in the cells.")) return;
        (ready ? restart(root) : start(root)).catch(() => {});
      });
    });
    renderAllProgress();
    window.addEventListener("storage", (event) => {
      if (event.key === KEY || event.key === ATTEMPTS) renderAllProgress();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
