/* The in-page Python, in a Web Worker so that the page stays responsive while a cell runs.
 *
 * Messages in:  {type: "init", indexURL, libWheel, runnerPy}   {type: "run", id, code, filename}
 * Messages out: {type: "progress", text, bytes}  {type: "ready", bytes}  {type: "fatal", message}
 *               {type: "result", id, outputs, loaded}
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
let lastPost = 0;

function progress(text, force) {
  if (text) label = text;
  const now = Date.now();
  if (force || now - lastPost > 100) {
    lastPost = now;
    postMessage({type: "progress", text: label, bytes: fetched});
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
  progress("Python (Pyodide)", true);
  importScripts(msg.indexURL + "pyodide.js");
  // indexURL is the site's own copy: loadPyodide's compiled-in default is a CDN.
  pyodide = await self.loadPyodide({indexURL: msg.indexURL, lockFileURL: msg.indexURL + "pyodide-lock.json"});
  lap("python");
  progress("NumPy and the course library", true);
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

async function run(msg) {
  const needed = runner.modules_needed(msg.code).toJs();
  if (needed.length) {
    const before = fetched;
    progress("loading " + needed.join(", "), true);
    await pyodide.loadPackagesFromImports(needed.map((name) => "import " + name).join("\n"),
                                          {messageCallback: () => {}});
    if (fetched > before) progress("loaded " + needed.join(", "), true);
  }
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
    } catch (err) {
      const message = String(err && err.message ? err.message : err);
      if (msg.type === "init") postMessage({type: "fatal", message});
      else postMessage({type: "result", id: msg.id, outputs: [{type: "error", text: message}], bytes: loadedBytes()});
    }
  });
};
