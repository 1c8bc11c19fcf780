"""Sphinx extension: learners' saved progress follows a renamed exercise.

Saved progress lives in the browser's localStorage keyed by exercise label. When an exercise is
renamed (`Exercise(..., formerly="<old label>")`), every page gets the map {old: new} of the whole
book (from `lib.exercises.renamed_labels()`, after importing every chapter's checker module) and
`progress-migrate.js`, which moves the old labels' records to the new labels on load, before the
runner or the index of exercises reads them. Loaded by `_ext/reference.py`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "reference_static"


def renamed_map() -> dict[str, str]:
    """{old label: new label} for every renamed exercise of the book."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import lib.exercises as engine

    for info in pkgutil.iter_modules(engine.__path__, "lib.exercises."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)
    return dict(sorted(engine.renamed_labels().items()))


def map_script(renamed: dict[str, str]) -> str:
    """The inline script that hands the map to progress-migrate.js ("</" escaped for an HTML page)."""
    return "window.COURSE_RENAMED_LABELS = " + json.dumps(renamed).replace("</", "<\\/") + ";"


def on_config_inited(app, config) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(STATIC)]
    app.add_js_file(None, body=map_script(renamed_map()), priority=100)  # before every other script
    app.add_js_file("progress-migrate.js", priority=101)


def setup(app):
    app.connect("config-inited", on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
