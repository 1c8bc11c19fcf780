/* The in-page Python, in a Web Worker so that the page stays responsive while a cell runs.
 *
 * Messages in:  {type: "init", indexURL, libWheel, runnerPy, interrupt}   {type: "run", id, code, filename}
 *               {type: "preload", id, code}  (the packages the page's cells import, fetched ahead)
 * Messages out: {type: "progress", stage, text, bytes}  {type: "ready", bytes}  {type: "fatal", message}
 *               {type: "result", id, outputs, bytes}   {type: "result", id, loaded, bytes} (preload)
 * `interrupt` is an Int8Array on a SharedArrayBuffer when the page is cross-origin isolated:
 * the page writes 2 (SIGINT) into it and the running cell gets a KeyboardInterrupt.
 * Everything is fetched from the URLs the page gives (the site itself); `bytes` counts what
 * this worker has fetched so far.
 */
"use strict";

// A worker's console is not the page's: errors are passed on, so the page's console shows them.
const workerError = console.error.bind(console);
console.error = (...args) => {
  workerError(...args);
  postMessage({type: "console-error", text: args.map(String).join(" ")});
};

let pyodide = null;
let runner = null;
let fetched = 0;
let label = "";
let stage = "";
let lastPost = 0;

function progress(text, force, name) {
  if (text) label = text;
  if (name) stage = name;
  const now = Date.now();
  if (force || now - lastPost > 100) {
    lastPost = now;
    postMessage({type: "progress", stage, text: label, bytes: fetched});
  }
}

// Bytes of everything this worker has loaded (importScripts included), by the browser's own count.
function loadedBytes() {
  const entries = performance.getEntriesByType("resource");
  return Math.max(fetched, entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0));
}

// Count the bytes of every response as they arrive, for the progress indicator, on a clone:
// the page's code gets the original response (its URL lets the browser cache compiled wasm).
const realFetch = self.fetch.bind(self);
self.fetch = async function (input, init) {
  const response = await realFetch(input, init);
  if (response.body) {
    const reader = response.clone().body.getReader();
    (async () => {
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        fetched += value.byteLength;
        progress();
      }
    })().catch(() => {});
  }
  return response;
};

const stages = {};
async function init(msg) {
  const t0 = performance.now();
  const lap = (name) => { stages[name] = Math.round(performance.now() - t0); };
  progress("Python (Pyodide)", true, "python");
  importScripts(msg.indexURL + "pyodide.js");
  // indexURL is the site's own copy: loadPyodide's compiled-in default is a CDN.
  pyodide = await self.loadPyodide({indexURL: msg.indexURL, lockFileURL: msg.indexURL + "pyodide-lock.json"});
  if (msg.interrupt) pyodide.setInterruptBuffer(msg.interrupt);
  lap("python");
  progress("NumPy and the course", true, "numpy");
  await pyodide.loadPackage(["numpy", msg.libWheel], {messageCallback: () => {}});
  lap("numpy_and_lib");
  const source = await (await fetch(msg.runnerPy)).text();
  runner = pyodide.runPython(
    "import sys, types\nm = types.ModuleType('course_runner')\nsys.modules['course_runner'] = m\nm");
  pyodide.runPython(source, {globals: runner.__dict__});
  pyodide.runPython("import numpy, lib");
  lap("imported");
  postMessage({type: "ready", bytes: loadedBytes(), stages});
}

// The packages of the lock that `code` imports (directly or through lib) and that are not loaded yet.
async function loadFor(code) {
  const needed = runner.packages_needed(code).toJs();
  if (needed.length) {
    progress(needed.includes("matplotlib") ? "matplotlib" : needed.join(", "), true, "packages");
    await pyodide.loadPackagesFromImports(needed.map((name) => "import " + name).join("\n"),
                                          {messageCallback: () => {}});
  }
  return needed;
}

async function preload(msg) {
  const loaded = await loadFor(msg.code);
  postMessage({type: "result", id: msg.id, loaded, bytes: loadedBytes()});
}

async function run(msg) {
  await loadFor(msg.code);
  const outputs = JSON.parse(await runner.run_cell(msg.code, msg.filename));
  postMessage({type: "result", id: msg.id, outputs, bytes: loadedBytes()});
}

let queue = Promise.resolve();
self.onmessage = (event) => {
  const msg = event.data;
  queue = queue.then(async () => {
    try {
      if (msg.type === "init") await init(msg);
      else if (msg.type === "run") await run(msg);
      else if (msg.type === "preload") await preload(msg);
    } catch (err) {
      const message = String(err && err.message ? err.message : err);
      if (msg.type === "init") postMessage({type: "fatal", message});
      else postMessage({type: "result", id: msg.id, outputs: [{type: "error", text: message}], bytes: loadedBytes()});
    }
  });
};
