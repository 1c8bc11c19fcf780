"""What the course costs, measured in one run: `make bench`. Exits 1 when a budget is missed.

Works on a copy of the committed tree (so a clean checkout, and the real one is never touched):
cold site build, no-change rebuild, rebuild after changing one notebook, each notebook's execution
time, the whole `make test`, every demo's update step (in place vs a new figure each step), the
bytes each chapter page loads, and the size and install time of the environment Binder builds.
Ratios matter more than seconds: the machines are shared and noisy.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
failures: list[str] = []


def budget(ok: bool, what: str) -> str:
    if not ok:
        failures.append(what)
    return "ok" if ok else "MISSED"


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return elapsed, proc.stdout + proc.stderr


def clean_copy() -> Path:
    """The committed tree (git archive of HEAD) in a temporary folder, sharing .venv."""
    tmp = Path(tempfile.mkdtemp(prefix="course-bench-"))
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    (tmp / ".venv").symlink_to(ROOT / ".venv")
    return tmp


def build(tree: Path) -> tuple[float, str]:
    return run(["make", "-o", ".venv/.installed", "book"], tree)  # the environment is shared, never rebuilt


def bench_build(tree: Path) -> None:
    cold, log = build(tree)
    same, log2 = build(tree)
    nb = sorted((tree / "chapters").glob("*.ipynb"))[0]
    data = json.loads(nb.read_text())
    cell = next(c for c in data["cells"] if c["cell_type"] == "code" and "google.colab" not in "".join(c["source"]))
    cell["source"] = "".join(cell["source"]) + "\n# changed by the benchmark"
    nb.write_text(json.dumps(data, indent=1))
    one, log3 = build(tree)
    executed_again = len(re.findall(r"Executed notebook in", log2))
    print("\n## Site build")
    print(f"cold build (every notebook executed)   {cold:7.1f} s")
    print(f"rebuild, nothing changed               {same:7.1f} s  {same / cold:6.1%} of cold  "
          f"{budget(same / cold < 0.10, 'no-change rebuild < 10% of cold')} (notebooks re-executed: {executed_again})")
    print(f"rebuild after changing {nb.name:<16}{one:7.1f} s  {one / cold:6.1%} of cold  "
          f"{budget(one / cold < 0.25, 'one-notebook rebuild < 25% of cold')}")
    times = sorted(((float(s), Path(p).name) for p, s in re.findall(r"(\S+\.ipynb): Executed notebook in ([\d.]+) seconds", log)), reverse=True)
    print("\n## Notebook execution (cold build), slowest first")
    for seconds, name in times:
        print(f"{name:<28}{seconds:7.1f} s  {budget(seconds < 20, f'{name} executes in < 20 s')}")
    total = sum(s for s, _ in times)
    print(f"{'all notebooks':<28}{total:7.1f} s  {budget(total < 120, 'whole book executes in < 2 min')}")


class Loads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.files: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        url = a.get("src") if tag in ("script", "img") else a.get("href") if tag == "link" and a.get("rel") == "stylesheet" else None
        if url and not url.startswith(("data:", "http:", "https:")):
            self.files.append(url.split("?")[0].split("#")[0])


def bench_downloads(tree: Path) -> None:
    """The PDF and the offline zip that `make book` made in the clean copy."""
    manifest = json.loads((tree / "_build" / "pdf" / "book.json").read_text())
    zipped = next((tree / "_build" / "dist").glob("*.zip")).stat().st_size
    print(f"the book as a PDF                      {manifest['bytes'] / 1e6:7.1f} MB, {manifest['pages']} pages  "
          f"{budget(manifest['bytes'] < 40e6, 'PDF < 40 MB')}")
    print(f"the offline edition (zip)              {zipped / 1e6:7.1f} MB  {budget(zipped < 60e6, 'offline zip < 60 MB')}")


def bench_pages(tree: Path) -> None:
    html = tree / "_build" / "html"
    total = sum(f.stat().st_size for f in html.rglob("*") if f.is_file())
    pages = sorted((html / "chapters").glob("*.html"))
    loads = {}
    for page in pages:
        parser = Loads()
        parser.feed(page.read_text())
        loads[page] = {(page.parent / f).resolve() for f in parser.files if (page.parent / f).is_file()}
    shared = set.intersection(*loads.values())  # the theme, MathJax, search: fetched once, then cached
    shared_bytes = sum(f.stat().st_size for f in shared)
    print("\n## Built site")
    print(f"total size                             {total / 1e6:7.1f} MB")
    print(f"assets every page shares (theme, MathJax, search; cached after the first page) {shared_bytes / 1e6:.2f} MB")
    print("bytes each chapter page loads of its own (HTML with embedded demo frames + its images and scripts):")
    for page in pages:
        own = page.stat().st_size + sum(f.stat().st_size for f in loads[page] - shared)
        print(f"  {page.name:<26}{own / 1e6:7.2f} MB  (first visit with the shared assets {(own + shared_bytes) / 1e6:.2f} MB)  "
              f"{budget(own < 3e6, f'{page.name} under 3 MB')}")


class StaticHost:
    """Serves a folder as a static host such as GitHub Pages does: text gzipped when asked for."""

    TEXT = (".html", ".js", ".css", ".json", ".svg", ".txt", ".ipynb", ".map")

    def __init__(self, folder: Path, compress: bool = True):
        import functools
        import gzip
        import http.server
        import threading

        text = self.TEXT

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = Path(self.translate_path(self.path.split("?")[0]))
                if path.is_dir():
                    path = path / "index.html"
                if not path.is_file():
                    return self.send_error(404)
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(str(path)))
                if compress and path.suffix in text and "gzip" in self.headers.get("Accept-Encoding", ""):
                    body = gzip.compress(body, 6)
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


def cold_visit(browser, url: str) -> tuple[int, int]:
    """Bytes over the wire and requests of one visit with an empty cache (a fresh browser context),
    until the page has loaded and MathJax has typeset it."""
    sys.path.insert(0, str(ROOT))
    from tests.site.chromium import Tab

    context = browser.send("Target.createBrowserContext")["browserContextId"]
    target = browser.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    tab = Tab(browser, session, target, lambda u: True, 1366, 900)
    received: dict[str, int] = {}
    on_event = browser._listeners[session]

    def listen(message: dict) -> None:
        if message.get("method") == "Network.loadingFinished":
            received[message["params"]["requestId"]] = message["params"]["encodedDataLength"]
        on_event(message)

    browser._listeners[session] = listen
    tab.send("Network.enable")
    tab.goto(url)
    tab.js("new Promise(ok => { (function poll() { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
           " MathJax.startup.promise.then(() => setTimeout(ok, 300)); else setTimeout(poll, 50); })(); })")
    tab.close()
    browser.send("Target.disposeBrowserContext", {"browserContextId": context})
    return sum(received.values()), len(received)


def bench_cold_visits(tree: Path) -> None:
    """Every chapter of the toc, visited cold in headless Chromium, served as a static host would."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("\n## Cold chapter visits: skipped (no chromium)")
        return
    sys.path.insert(0, str(ROOT))
    from tests.site.chromium import Chromium
    from tests.site.test_site import toc_files

    host, plain = StaticHost(tree / "_build" / "html"), StaticHost(tree / "_build" / "html", compress=False)
    print("\n## A cold visit to each chapter (empty cache; text gzipped as a static host serves it)")
    print(f"  {'chapter':<26}{'served':>10}  {'requests':>8}  {'uncompressed':>12}")
    try:
        with Chromium(chromium) as browser:
            for page in [f for f in toc_files() if f.startswith("chapters/")]:
                nbytes, requests = cold_visit(browser, f"{host.url}/{page}.html")
                raw, _ = cold_visit(browser, f"{plain.url}/{page}.html")
                print(f"  {Path(page).name:<26}{nbytes / 1e6:7.2f} MB  {requests:8d}  {raw / 1e6:9.2f} MB  "
                      f"{budget(nbytes < 2e6, f'{page} cold visit < 2 MB')}")
    finally:
        host.close()
        plain.close()


def all_demos():
    import lib.demos
    from lib.widgets import Demo

    for info in pkgutil.iter_modules(lib.demos.__path__):
        module = importlib.import_module(f"lib.demos.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.endswith("_demo") and fn.__module__ == module.__name__:
                demo = fn()
                if isinstance(demo, Demo):
                    yield f"demos.{info.name}.{name}", demo


def bench_demos() -> None:
    print("\n## Demo update step: median of 30 (Python callback + redraw to PNG)")
    print(f"{'demo':<44}{'in place':>10}{'naive':>10}{'speed-up':>10}")
    for name, demo in all_demos():
        t = demo.time_update(30)
        ratio = t["naive_ms"] / t["in_place_ms"]
        verdict = budget(t["in_place_ms"] < 50 and ratio >= 3, f"{name}: < 50 ms and >= 3x naive")
        print(f"{name:<44}{t['in_place_ms']:8.1f}ms{t['naive_ms']:8.1f}ms{ratio:9.1f}x  {verdict}")


def bench_runner(tree: Path) -> None:
    """The in-page runner on loopback: bytes and seconds from the click to the first NumPy result."""
    import functools
    import http.server
    import threading
    from urllib.parse import urlparse

    sys.path.insert(0, str(ROOT))
    from tests.site.chromium import Chromium

    html = tree / "_build" / "html"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    print("\n## Run the code in your browser (Pyodide, loopback, headless Chromium)")
    if not chromium or not (html / "_static" / "course-runner.js").exists():
        print("skipped: needs chromium and a site built with the runner")
        failures.append("runner bench could not run")
        return

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    page = f"{site}/chapters/{sorted((html / 'chapters').glob('*.html'))[0].name}"
    first_result = ("(async () => { const t0 = performance.now(); const ready = await courseRunner.start();"
                    " const r = await courseRunner.runCode('import numpy as np\\nnp.linalg.svd(np.arange(12.0).reshape(3, 4), compute_uv=False)');"
                    " return {seconds: (performance.now() - t0) / 1000, bytes: r.bytes, ok: !r.outputs.some(o => o.type === 'error'), stages: ready.stages}; })()")
    requests: list[str] = []

    def local(url: str) -> bool:
        return url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == "127.0.0.1"

    def allow(url: str) -> bool:
        requests.append(url)
        return local(url)

    def fetched_bytes(urls: list[str]) -> int:  # the server sends files as they are (no compression)
        files = {html / urlparse(u).path.lstrip("/") for u in urls if local(u) and not u.startswith(("data:", "blob:", "about:"))}
        return sum(f.stat().st_size for f in files if f.is_file())

    python = re.compile(r"/_static/(vendor/pyodide/|course-runner/|course-runner-worker|course_runner)")
    try:
        with Chromium(chromium, timeout=120) as browser:
            tab = browser.new_tab(allow=allow)
            tab.send("Network.clearBrowserCache")
            tab.goto(page)
            time.sleep(2)
            before = [u for u in requests if python.search(u)]
            print(f"chapter page without the click: Python files fetched {len(before)}  "
                  f"{budget(not before, 'a page without the click fetches no Python')}")
            clicked = len(requests)
            cold = tab.js(first_result)
            cold["bytes"] = fetched_bytes(requests[clicked:])
            mpl_early = [u for u in requests if "matplotlib-" in u]
            print(f"first NumPy result, cold cache       {cold['seconds']:7.1f} s  {budget(cold['ok'] and cold['seconds'] <= 5, 'runner cold <= 5 s')}")
            print(f"  of which (ms since the click): {cold['stages']}")
            print(f"bytes fetched before it               {cold['bytes'] / 1e6:7.1f} MB  {budget(cold['bytes'] <= 18e6, 'runner <= 18 MB before the first result')}")
            print(f"matplotlib fetched before it          {'yes' if mpl_early else 'no':>7}    {budget(not mpl_early, 'matplotlib only when a cell needs it')}")
            t0 = time.perf_counter()
            plot = tab.js("courseRunner.runCode('import matplotlib.pyplot as plt\\nplt.plot([1, 2, 3]);').then(r => r)")
            png = any(o["type"] == "png" for o in plot["outputs"])
            print(f"then a matplotlib cell to its PNG     {time.perf_counter() - t0:7.1f} s, {fetched_bytes(requests[clicked:]) / 1e6:.1f} MB in all"
                  f"  {budget(png, 'a matplotlib cell shows its figure')}")
            tab.goto(page)
            warm = tab.js(first_result)
            print(f"first NumPy result, warm HTTP cache   {warm['seconds']:7.1f} s  {budget(warm['ok'] and warm['seconds'] <= 3, 'runner warm <= 3 s')}")
            outside = [u for u in requests if not local(u)]
            print(f"requests off 127.0.0.1                {len(outside):7d}    {budget(not outside, 'runner fetches nothing from outside')}")
            tab.close()
    finally:
        server.shutdown()


def bench_make_test(tree: Path) -> None:
    seconds, _ = run(["make", "-o", ".venv/.installed", "test"], tree, {"CI": ""})
    print("\n## Tests")
    print(f"make test (warm environment)           {seconds / 60:7.1f} min  {budget(seconds < 600, 'make test < 10 min')}")


def tree_bytes(folder: Path) -> tuple[int, int]:
    """Bytes of the regular files under `folder`: all of them, and without bytecode caches."""
    files = [f for f in folder.rglob("*") if f.is_file() and not f.is_symlink()]
    return sum(f.stat().st_size for f in files), sum(f.stat().st_size for f in files if "__pycache__" not in f.parts)


def bench_binder_env() -> None:
    """What `requirements.txt` alone adds to a fresh venv (Binder's image brings Python, pip and JupyterLab)."""
    with tempfile.TemporaryDirectory(prefix="binder-env-") as tmp:
        venv = Path(tmp) / "venv"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        empty, empty_code = tree_bytes(venv)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-r", "requirements.txt"], cwd=ROOT, check=True,
                       capture_output=True)
        seconds = time.perf_counter() - t0
        full, code = tree_bytes(venv)
    added, added_code = full - empty, code - empty_code
    print("\n## The environment Binder builds (requirements.txt alone, in a fresh venv)")
    print(f"install time                           {seconds:7.1f} s")
    print(f"installed packages                     {added_code / 1e6:7.0f} MB  {budget(added_code < 250e6, 'Binder packages < 250 MB')}")
    print(f"  with the bytecode pip compiles       {added / 1e6:7.0f} MB")


def _best_of(fn, repeats: int = 5) -> float:
    """The fastest of `repeats` calls, in seconds (the least disturbed by other programs)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _bare_lora(X, Y, W0, r, rng, alpha, lr, steps):
    """lib.lora.train_lora's loop on bare NumPy: no checks, no function calls of lib."""
    A, B = rng.standard_normal((W0.shape[0], r)) / np.sqrt(W0.shape[0]), np.zeros((r, W0.shape[1]))
    s, base = alpha / r, X @ W0
    for _ in range(steps):
        H = X @ A
        diff = base + s * (H @ B) - Y
        dY = 2 * diff / diff.size
        dB, dH = s * (H.T @ dY), s * (dY @ B.T)
        A, B = A - lr * (X.T @ dH), B - lr * dB
    return A, B


def _bare_mlp(X, labels, layers, lr, steps):
    """lib.nn.train_mlp's loop (full-batch gradient descent on cross-entropy) on bare NumPy."""
    n = len(X)
    for _ in range(steps):
        acts, Z = [X], None
        for k, (W, b) in enumerate(layers):
            Z = acts[-1] @ W + b
            acts.append(np.maximum(Z, 0) if k < len(layers) - 1 else Z)
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(n), labels] -= 1
        dA, grads = P / n, []
        for k in reversed(range(len(layers))):
            W, _ = layers[k]
            grads.append((acts[k].T @ dA, dA.sum(axis=0)))
            dA = (dA @ W.T) * (acts[k] > 0) if k else None
        layers = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(layers, grads[::-1], strict=True)]
    return layers


def bench_training_loops() -> None:
    """Each training loop of lib against the same loop on bare NumPy (lora, nn) or against calling the
    public, checked functions at every step (the tiny GPT): checks happen once, at the edge."""
    from lib import data, lora, nn, train, transformer
    from lib.lora import init_model_lora

    print("\n## Training loops: lib against the same loop without per-step checks (best of 5)")
    print(f"{'loop':<44}{'lib':>10}{'reference':>11}{'ratio':>8}")
    task = data.lowrank_finetune_task(np.random.default_rng(0))
    t_lib = _best_of(lambda: lora.train_lora(task.X, task.Y, task.W0, 4, np.random.default_rng(0), steps=300))
    t_ref = _best_of(lambda: _bare_lora(task.X, task.Y, task.W0, 4, np.random.default_rng(0), 4.0, 1.0, 300))
    print(f"{'lora.train_lora, 300 steps / bare NumPy':<44}{t_lib * 1e3:8.1f}ms{t_ref * 1e3:9.1f}ms{t_lib / t_ref:7.2f}x  "
          f"{budget(t_lib / t_ref < 1.5, 'train_lora within 1.5x of bare NumPy')}")
    rng = np.random.default_rng(0)
    X, labels = data.make_spirals(100, rng)
    layers = nn.init_mlp([2, 32, 32, 3], np.random.default_rng(0))
    t_lib = _best_of(lambda: nn.train_mlp(X, labels, [2, 32, 32, 3], steps=200, lr=0.5))
    t_ref = _best_of(lambda: _bare_mlp(X, labels, layers, 0.5, 200))
    print(f"{'nn.train_mlp, 200 steps / bare NumPy':<44}{t_lib * 1e3:8.1f}ms{t_ref * 1e3:9.1f}ms{t_lib / t_ref:7.2f}x  "
          f"{budget(t_lib / t_ref < 1.5, 'train_mlp within 1.5x of bare NumPy')}")
    cfg = transformer.Config(block_size=10)
    Xd, Yd = data.digit_task("reverse", 2000, 5, seed=0)
    tok, tgt = data.to_sequences(Xd, Yd)

    def checked(steps=50, lora_ad=None):  # the public loss_and_grads and adam_update at every step
        params = transformer.init_params(cfg, 0)
        ad = None if lora_ad is None else init_model_lora(params, 8, seed=1)
        trained = params if ad is None else ad
        m = {k: np.zeros_like(a) for k, a in trained.items()}
        v = {k: np.zeros_like(a) for k, a in trained.items()}
        pick = np.random.default_rng(0)
        with train.one_blas_thread():
            for t in range(1, steps + 1):
                idx = pick.choice(len(tok), size=32, replace=False)
                _, g, lg = transformer.loss_and_grads(params, tok[idx], tgt[idx], cfg, lora=ad, alpha=8.0)
                g = g if ad is None else lg
                for k in trained:
                    trained[k], m[k], v[k] = train.adam_update(trained[k], g[k], m[k], v[k], t, 0.01)

    def lib_loop(steps=50, lora_ad=None):
        params = transformer.init_params(cfg, 0)
        ad = None if lora_ad is None else init_model_lora(params, 8, seed=1)
        train.train(params, Xd, Yd, cfg, steps=steps, batch=32, seed=0, lora=ad, alpha=8.0)

    for label, ad in (("train.train, 50 steps", None), ("train.train with LoRA, 50 steps", True)):
        t_lib = _best_of(lambda ad=ad: lib_loop(lora_ad=ad), 3)
        t_ref = _best_of(lambda ad=ad: checked(lora_ad=ad), 3)
        print(f"{label + ' / checked per step':<44}{t_lib * 1e3:8.1f}ms{t_ref * 1e3:9.1f}ms{t_lib / t_ref:7.2f}x  "
              f"{budget(t_lib <= 1.05 * t_ref, label + ' no slower than the checked loop')}")


def main() -> None:
    if sys.argv[1:] == ["--runner"]:  # only the in-page runner, against the site already built here
        bench_runner(ROOT)
        raise SystemExit(1 if failures else 0)
    if sys.argv[1:] == ["--loops"]:  # only the training loops
        bench_training_loops()
        raise SystemExit(1 if failures else 0)
    print(f"# Course benchmark  {time.strftime('%Y-%m-%d')}  ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    tree = clean_copy()
    try:
        bench_build(tree)
        bench_downloads(tree)
        bench_pages(tree)
        bench_cold_visits(tree)
        bench_demos()
        bench_training_loops()
        bench_runner(tree)
        bench_make_test(tree)
        bench_binder_env()
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    print("\n" + ("all budgets met" if not failures else "MISSED: " + "; ".join(failures)))
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
