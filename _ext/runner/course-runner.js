/* "Run the code in your browser" (chapter pages) and the course's progress (intro page).
 *
 * Nothing is fetched until the learner clicks the control: then a Web Worker loads Python
 * (Pyodide, NumPy and the course's `lib`) from this site, and every code cell becomes an
 * editor with a Run button (Shift+Enter runs it too). The cells share one Python, like a
 * notebook. A passed exercise (a check result marked data-status="correct") is remembered in
 * localStorage; nothing is sent anywhere.
 */
(function () {
  "use strict";

  const KEY = "linalg-nn-course:progress";

  // ------------------------------------------------------------ progress (localStorage only)
  function loadProgress() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (err) { return {}; }
  }
  function saveProgress(progress) {
    try { localStorage.setItem(KEY, JSON.stringify(progress)); } catch (err) { /* private mode */ }
  }
  function markDone(label) {
    const progress = loadProgress();
    if (!progress[label]) {
      progress[label] = new Date().toISOString();
      saveProgress(progress);
    }
  }
  function resetProgress() {
    try { localStorage.removeItem(KEY); } catch (err) { /* nothing to reset */ }
    renderAllProgress();
  }
  function countDone(labels) {
    const progress = loadProgress();
    return labels.filter((label) => progress[label]).length;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function renderChapterProgress(root) {
    const el = root.querySelector(".course-progress");
    const labels = JSON.parse(root.dataset.exercises || "[]");
    if (!el || !labels.length) return;
    const done = countDone(labels);
    el.innerHTML = "";
    el.append(`${done} of ${plural(labels.length, "exercise")} done on this page `);
    const link = document.createElement("a");
    link.href = root.dataset.courseHome + "#course-progress";
    link.textContent = "(the whole course)";
    el.append(link);
    el.dataset.done = String(done);
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
      if (window.confirm("Forget every exercise you have passed?")) resetProgress();
    });
    const note = document.createElement("p");
    note.className = "course-runner-note";
    note.append("Kept in this browser only (localStorage); nothing is sent anywhere. ", reset);
    el.append(note);
  }

  function renderAllProgress() {
    document.querySelectorAll(".course-runner").forEach(renderChapterProgress);
    document.querySelectorAll(".course-progress-summary").forEach(renderSummary);
  }

  // ------------------------------------------------------------ the worker
  let worker = null;
  let nextId = 0;
  const waiting = new Map();
  let onProgress = () => {};

  function startWorker(root) {
    const abs = (url) => new URL(url, document.baseURI).href;
    return new Promise((resolve, reject) => {
      worker = new Worker(abs(root.dataset.worker));
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
                          runnerPy: abs(root.dataset.runnerPy)});
    });
  }

  function runCode(code, filename) {
    const id = ++nextId;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      worker.postMessage({type: "run", id, code, filename});
    });
  }

  const mb = (bytes) => (bytes / 1e6).toFixed(1) + " MB";

  // ------------------------------------------------------------ cells
  const cells = [];

  function isDemo(cellEl) { return !!cellEl.querySelector(".cell_output .course-demo"); }

  function renderOutputs(cell, outputs) {
    const box = document.createElement("div");
    box.className = "course-cell-outputs";
    for (const out of outputs) {
      let el;
      if (out.type === "html") {
        el = document.createElement("div");
        el.className = "course-out-html";
        el.innerHTML = out.html;
        el.querySelectorAll("script").forEach((old) => {  // e.g. a demo player shown by a cell
          const script = document.createElement("script");
          script.type = old.type || "text/javascript";
          script.textContent = old.textContent;
          old.replaceWith(script);
        });
      } else if (out.type === "png") {
        el = document.createElement("img");
        el.className = "course-out-png";
        el.alt = "figure drawn by this cell";
        el.src = "data:image/png;base64," + out.data;
      } else {
        el = document.createElement("pre");
        el.className = "course-out-" + out.type;
        el.textContent = out.text;
      }
      box.append(el);
    }
    let shown = box;
    const foldsItself = box.querySelector(":scope > .course-out-html > details");  // e.g. a solution
    if (cell.hideOutput && outputs.length && !foldsItself) {
      shown = document.createElement("details");
      shown.className = "course-cell-folded";
      const summary = document.createElement("summary");
      summary.textContent = "Show code cell output";
      shown.append(summary, box);
    }
    cell.output.replaceChildren(shown);
    if (cell.original) cell.original.hidden = true;  // the build's output gives way to the new one
    box.querySelectorAll("[data-exercise][data-status]").forEach((result) => {
      if (result.dataset.status === "correct") markDone(result.dataset.exercise);
    });
    renderAllProgress();
  }

  let busy = Promise.resolve();

  function run(cell) {
    const code = cell.editor.value;
    cell.status.textContent = "waiting…";
    busy = busy.then(async () => {
      cell.status.textContent = "running…";
      cell.root.classList.add("course-cell-running");
      onProgress = (msg) => { cell.status.textContent = `${msg.text}… ${mb(msg.bytes)}`; };
      const t0 = performance.now();
      const reply = await runCode(code, `<cell ${cell.index + 1}>`);
      cell.root.classList.remove("course-cell-running");
      cell.runs += 1;
      renderOutputs(cell, reply.outputs);
      const failed = reply.outputs.some((o) => o.type === "error");
      const notRun = cells.filter((c) => c.editor && c.index < cell.index && !c.runs).length;
      if (notRun && reply.outputs.some((o) => o.type === "error" && /NameError|ModuleNotFoundError/.test(o.text))) {
        const hint = document.createElement("p");
        hint.className = "course-cell-hint";
        hint.textContent = `${plural(notRun, "cell")} above this one ${notRun === 1 ? "has" : "have"} not run yet in this page: ` +
          "run them first, in order (each exercise cell has a \"Run all above\" button).";
        cell.output.append(hint);
      }
      cell.status.textContent = `${failed ? "error" : "done"} (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
      cell.root.dataset.state = failed ? "error" : "done";
    });
    return busy;
  }

  function runAllAbove(cell) {
    cells.filter((c) => c.index < cell.index && c.editor).forEach(run);
    return busy;
  }

  function autosize(editor) {
    editor.style.height = "auto";
    editor.style.height = editor.scrollHeight + 2 + "px";
  }

  function makeCell(cellEl, index) {
    const input = cellEl.querySelector(".cell_input");
    const pre = input && input.querySelector("pre");
    if (!pre) return null;
    const cell = {index, root: cellEl, runs: 0, original: cellEl.querySelector(":scope > details.below-input, :scope > .cell_output"),
                  hideOutput: cellEl.classList.contains("tag_hide-output")};
    const bar = document.createElement("div");
    bar.className = "course-cell-bar";
    cell.status = document.createElement("span");
    cell.status.className = "course-cell-status";
    cell.status.setAttribute("aria-live", "polite");
    if (isDemo(cellEl)) {
      cell.status.textContent = "This demo is live already: move its controls (it needs no Python).";
      bar.append(cell.status);
      input.after(bar);
      return cell;
    }
    const code = pre.textContent.replace(/\n$/, "");
    const editor = document.createElement("textarea");
    editor.className = "course-cell-editor";
    editor.value = code;
    editor.spellcheck = false;
    editor.setAttribute("autocapitalize", "off");
    editor.setAttribute("aria-label", `code cell ${index + 1}`);
    editor.addEventListener("input", () => autosize(editor));
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.shiftKey) { event.preventDefault(); run(cell); }
      else if (event.key === "Tab" && !event.shiftKey) {  // indent instead of leaving the editor
        event.preventDefault();
        editor.setRangeText("    ", editor.selectionStart, editor.selectionEnd, "end");
      }
    });
    cell.editor = editor;
    const runButton = document.createElement("button");
    runButton.type = "button";
    runButton.className = "course-cell-run";
    runButton.textContent = "▶ Run";
    runButton.title = "Run this cell (Shift+Enter)";
    runButton.addEventListener("click", () => run(cell));
    bar.append(runButton);
    if (/\bex\d+\.check\(/.test(code)) {
      const above = document.createElement("button");
      above.type = "button";
      above.className = "course-cell-run-above";
      above.textContent = "Run all above";
      above.title = "Run every cell above this one, in order";
      above.addEventListener("click", () => runAllAbove(cell));
      bar.append(above);
    }
    bar.append(cell.status);
    if (cellEl.classList.contains("tag_machine-dependent")) {  // a timing: the browser is slower
      cell.status.textContent = "This cell times the computer it runs on; in the browser, Python and NumPy run " +
        "on one thread, so it can take far longer than in Jupyter.";
    }
    cell.output = document.createElement("div");
    cell.output.className = "course-cell-output";
    const highlight = input.firstElementChild;
    highlight.hidden = true;
    input.append(editor, bar);
    cellEl.append(cell.output);
    cellEl.classList.add("course-cell");
    autosize(editor);
    return cell;
  }

  // ------------------------------------------------------------ the control
  let started = null;

  function start(root) {
    if (started) return started;
    const button = root.querySelector(".course-runner-start");
    const status = root.querySelector(".course-runner-status");
    button.disabled = true;
    const t0 = performance.now();
    onProgress = (msg) => { status.textContent = `Loading ${msg.text}… ${mb(msg.bytes)}`; };
    started = startWorker(root).then((ready) => {
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      status.textContent = `Python is ready (${mb(ready.bytes)} in ${seconds} s). Edit any cell, then Run it or press Shift+Enter.`;
      button.textContent = "↻ Restart Python";
      button.title = "Stops a cell that never ends and forgets every variable; run the cells again afterwards";
      button.disabled = false;
      root.classList.add("course-runner-ready");
      if (!cells.length) {
        const article = document.querySelector("article") || document.body;
        article.querySelectorAll("div.cell").forEach((el) => {
          const cell = makeCell(el, cells.length);
          if (cell) cells.push(cell);
        });
      }
      return ready;
    }, (err) => {
      status.textContent = `Python could not start: ${err.message}`;
      button.disabled = false;
      started = null;
      throw err;
    });
    return started;
  }

  function restart(root) {
    worker.terminate();
    for (const resolve of waiting.values()) {
      resolve({outputs: [{type: "error", text: "Python was restarted before this cell finished."}]});
    }
    waiting.clear();
    busy = Promise.resolve();
    started = null;
    root.classList.remove("course-runner-ready");
    cells.forEach((cell) => { if (cell.editor) { cell.status.textContent = ""; delete cell.root.dataset.state; } });
    return start(root);
  }

  // For the tests and the benchmark (tests/test_runner.py, scripts/bench.py).
  window.courseRunner = {
    start: () => start(document.querySelector(".course-runner")),
    cells,
    run: (i) => run(cells[i]),
    runAllAbove: (i) => runAllAbove(cells[i]),
    runCode: (code) => runCode(code, "<bench>"),
    restart: () => restart(document.querySelector(".course-runner")),
    progress: loadProgress,
  };

  function init() {
    document.querySelectorAll(".course-runner").forEach((root) => {
      root.querySelector(".course-runner-start").addEventListener("click", () => {
        const ready = root.classList.contains("course-runner-ready");
        (ready ? restart(root) : start(root)).catch(() => {});
      });
    });
    renderAllProgress();
    window.addEventListener("storage", (event) => { if (event.key === KEY) renderAllProgress(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
