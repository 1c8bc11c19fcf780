"""Sphinx extension: make the built site self-contained, so it loads nothing from the internet.

- MathJax 3.2.2 comes from the pinned PyPI package `django-static-mathjax` (a copy of the npm
  package's files). The parts the pages use are copied into `_static/vendor/mathjax/`, kept out of
  the book's `_static/` folder because Jupyter Book links every .js and .css found there into
  every page; `mathjax_path` in `_config.yml` points at the copy.
- sphinx-thebe, which Jupyter Book 1 always loads, adds a script declaring `THEBE_JS_URL` (a CDN
  address) on every pass over the documents, so pages can declare it twice and throw. The site
  runs no live kernel (Binder and Colab buttons do that), so its listener is disconnected.
- myst-nb's widget scripts come from CDNs; `nb_ipywidgets_js` is emptied in `_config.yml`
  because the site shows every demo as a kernel-free player (`lib.widgets`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

# tex-chtml.js already contains the menu (ui/ is never requested). The menu's accessibility
# explorer loads input/mml.js, a11y/ and the speech rules (English only, with their base).
MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "a11y", "input/mml.js",
                 "sre/mathmaps/base.json", "sre/mathmaps/en.json")


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax package

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = _mathjax_source(), Path(app.outdir) / "_static" / "vendor" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def drop_thebe(app) -> None:
    for listener in list(app.events.listeners.get("env-before-read-docs", [])):
        if getattr(listener.handler, "__name__", "") == "init_thebe_core":
            app.disconnect(listener.id)


def setup(app):
    app.connect("builder-inited", drop_thebe)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
