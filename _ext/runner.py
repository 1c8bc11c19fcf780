"""Sphinx extension: "Run the code in your browser" on every chapter page, offline.

On each chapter page a small control (`_ext/runner/course-runner.js`, a few kB) waits for the
learner's click. Only then does it start a Web Worker that loads Pyodide from the site itself
(`_static/vendor/pyodide/`, written by `scripts/vendor_pyodide.py`, every file verified), NumPy
and the course's `lib` (a pure-Python wheel built here from the tree), and turns the code cells
into editable cells that share one Python, as in a notebook. matplotlib is loaded only when a
cell needs it. Passed exercises are remembered in the browser's localStorage; the intro page
shows the course's progress. Nothing is sent anywhere.

COURSE_NO_RUNNER=1 builds the site without it (no vendored Python needed).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "runner"
VENDOR = ROOT / "_build" / "vendor" / "pyodide"
WHEEL_NAME = "linalg_nn_course-0.1.0-py3-none-any.whl"
FIRST_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
def enabled() -> bool:
    return not os.environ.get("COURSE_NO_RUNNER")


# ---------------------------------------------------------------- the course library as a wheel
def lib_wheel() -> bytes:
    """A pure-Python wheel of `lib/` (every .py file and the shipped configs/*.json), reproducible byte for byte."""
    files = sorted(p for p in (ROOT / "lib").rglob("*") if p.suffix in (".py", ".json") and "__pycache__" not in p.parts)
    dist = "linalg_nn_course-0.1.0.dist-info"
    meta = {
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: linalg-nn-course\nVersion: 0.1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: _ext/runner.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/top_level.txt": "lib\n",
    }
    entries = [(p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in files]
    entries += [(name, text.encode()) for name, text in meta.items()]
    record = "".join(f"{name},,\n" for name, _ in entries) + f"{dist}/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in [*entries, (f"{dist}/RECORD", record.encode())]:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, data)
    return buf.getvalue()


# ---------------------------------------------------------------- which exercises a page has
def page_exercises(app, docname: str) -> list[str]:
    """Labels of the exercises a notebook imports and checks (`lib.exercises.checked_in`)."""
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return []
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    from lib.exercises import checked_in  # the book's one scan of a notebook's exercises

    return [exercise.label for _, exercise in checked_in(code)]


def page_draws(app, docname: str) -> bool:
    """Whether a notebook's cells import matplotlib (directly, or through lib.demos)."""
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return False
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return bool(re.search(r"\bmatplotlib\b|\blib\.demos\b|from lib import [^\n]*\bdemos\b", code))


def _closure(lock: dict, names: list[str]) -> set[str]:
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name not in seen and name in lock["packages"]:
            seen.add(name)
            todo += lock["packages"][name].get("depends", [])
    return seen


def toc_order(app) -> list[str]:
    """Every document in the order of the table of contents."""
    order: list[str] = []

    def walk(doc: str) -> None:
        if doc not in order:
            order.append(doc)
            for child in app.env.toctree_includes.get(doc, []):
                walk(child)

    walk(app.config.root_doc)
    return order


def course_map(app) -> list[dict]:
    if not hasattr(app, "_course_map"):
        app._course_map = [
            {"doc": doc, "title": app.env.titles[doc].astext() if doc in app.env.titles else doc,
             "exercises": labels}
            for doc in toc_order(app) if (labels := page_exercises(app, doc))
        ]
    return app._course_map


# ---------------------------------------------------------------- the pages
def add_controls(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    if not enabled() or doctree is None or "body" not in context:
        return
    pathto = context["pathto"]
    if pagename.startswith("chapters/"):
        labels = page_exercises(app, pagename)
        attrs = {
            "data-index-url": pathto("_static/vendor/pyodide/", 1),
            "data-lib-wheel": pathto(f"_static/course-runner/lib-{app._lib_hash}/{WHEEL_NAME}", 1),
            "data-worker": pathto("_static/course-runner-worker.js", 1),
            "data-runner-py": pathto("_static/course_runner.py", 1),
            "data-exercises": json.dumps(labels),
            "data-course-home": pathto(app.config.root_doc),
            "data-page": pagename,
            "data-first-bytes": str(app._first_bytes),
        }
        draws = page_draws(app, pagename)
        attr_text = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
        control = (
            f'<div class="course-runner" {attr_text}>'
            '<button type="button" class="course-runner-start">&#9654; Run the code in your browser</button>'
            '<span class="course-runner-status" aria-live="polite"></span>'
            '<p class="course-runner-note">One click loads Python with NumPy into this page '
            f"(about {app._first_bytes / 1e6:.0f} MB, from this site; nothing is sent anywhere)"
            + (f", then matplotlib for this page's figures (about {app._mpl_bytes / 1e6:.0f} MB more) in the background"
               if draws else "")
            + ". Every code cell then becomes editable: Run (or Shift+Enter) runs it, Stop stops it, and the "
            "exercises' <code>check()</code>, <code>hint()</code> and <code>solution()</code> answer here. "
            "Your code is kept in this browser as you type. In an editor, Tab indents; Esc then Tab leaves it.</p>"
            '<p class="course-progress" aria-live="polite"></p></div>'
        )
        context["body"] = control + context["body"]
    elif pagename == app.config.root_doc:
        chapters = [{**c, "href": pathto(c["doc"])} for c in course_map(app)]
        summary = (f'<div class="course-progress-summary" data-chapters="{html.escape(json.dumps(chapters))}">'
                   "</div>")
        marker = '<div class="course-progress-summary"></div>'
        body = context["body"]
        context["body"] = body.replace(marker, summary) if marker in body else body + summary


# ---------------------------------------------------------------- setup and output
def prepare(app) -> None:
    if not enabled():
        return
    if not (VENDOR / "vendor-manifest.json").exists():
        raise ExtensionError(
            f"the in-browser runner needs the vendored Pyodide in {VENDOR}: run "
            "`python scripts/vendor_pyodide.py` (make book does), or build without the runner "
            "with COURSE_NO_RUNNER=1.")
    app._lib_wheel = lib_wheel()
    app._lib_hash = hashlib.sha256(app._lib_wheel).hexdigest()[:12]
    lock = json.loads((VENDOR / "pyodide-lock.json").read_text())
    numpy = _closure(lock, ["numpy"])
    first = [*FIRST_FILES, *(lock["packages"][p]["file_name"] for p in numpy)]  # what the click loads first
    app._first_bytes = sum((VENDOR / f).stat().st_size for f in first) + len(app._lib_wheel)
    app._mpl_bytes = sum((VENDOR / lock["packages"][p]["file_name"]).stat().st_size
                         for p in _closure(lock, ["matplotlib"]) - numpy)
    app.config.html_static_path.append(str(STATIC))
    app.add_js_file("course-runner.js", defer="defer")
    app.add_css_file("course-runner.css")


def copy_runtime(app, exception) -> None:
    if exception is not None or app.builder.format != "html" or not enabled():
        return
    static = Path(app.outdir) / "_static"
    target = static / "vendor" / "pyodide"
    manifest = json.loads((VENDOR / "vendor-manifest.json").read_text())
    target.mkdir(parents=True, exist_ok=True)
    for name in [*manifest["files"], "pyodide-lock.json"]:
        src, dst = VENDOR / name, target / name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size or dst.stat().st_mtime < src.stat().st_mtime:
            shutil.copy2(src, dst)
    wheels = static / "course-runner"
    shutil.rmtree(wheels, ignore_errors=True)  # drop the wheels of older versions of lib
    (wheels / f"lib-{app._lib_hash}").mkdir(parents=True)
    (wheels / f"lib-{app._lib_hash}" / WHEEL_NAME).write_bytes(app._lib_wheel)


def assets_digest() -> str:
    """Changes with the runner's own files and the vendored Python: then every page is rewritten."""
    digest = hashlib.sha256()
    for path in [*sorted(STATIC.iterdir()), VENDOR / "vendor-manifest.json"]:
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def setup(app):
    app.add_config_value("course_runner_assets", assets_digest() if enabled() else "", "html")
    app.connect("builder-inited", prepare)
    app.connect("html-page-context", add_controls)
    app.connect("build-finished", copy_runtime)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
