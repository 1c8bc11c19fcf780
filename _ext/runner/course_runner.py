"""The Python side of the in-page runner: runs one cell at a time in a shared namespace.

Loaded by course-runner-worker.js into Pyodide as the module `course_runner`. A cell's outputs
come back as a list of dicts, in order: stdout/stderr text, rich displays (HTML reprs, PNG
figures) and the traceback of an error, like a notebook's outputs.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import io
import json
import linecache
import logging
import os
import sys
import traceback
import types
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are rendered to PNG here, no DOM in a worker
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "building the font cache" each visit

NAMESPACE: dict = {"__name__": "__main__", "__builtins__": __builtins__}
_outputs: list[dict] = []


class _Stream(io.TextIOBase):
    """stdout or stderr of a cell, appended to its outputs in order."""

    def __init__(self, name: str):
        self._name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            if _outputs and _outputs[-1]["type"] == self._name:
                _outputs[-1]["text"] += text
            else:
                _outputs.append({"type": self._name, "text": text})
        return len(text)


def _figure_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _render(obj) -> dict:
    if "matplotlib" in sys.modules:
        from matplotlib.figure import Figure

        if isinstance(obj, Figure):
            return {"type": "png", "data": _figure_png(obj)}
    if not isinstance(obj, type):
        for method, kind in (("_repr_html_", "html"), ("_repr_png_", "png")):
            fn = getattr(obj, method, None)
            if callable(fn):
                try:
                    data = fn()
                except Exception:
                    continue
                if data:
                    if kind == "png":
                        return {"type": "png", "data": base64.b64encode(data).decode("ascii")}
                    return {"type": "html", "html": data}
    return {"type": "text", "text": repr(obj)}


def display(*objs) -> None:
    """Show each object under the cell (HTML repr, figure or text), as IPython's display does."""
    for obj in objs:
        _outputs.append(_render(obj))


class HTML:
    """IPython.display.HTML: a string shown as HTML."""

    def __init__(self, data: str = ""):
        self.data = data

    def _repr_html_(self) -> str:
        return self.data


def _install_ipython_shim() -> None:
    """`from IPython.display import HTML, display` works (IPython is not in the browser)."""
    try:
        import IPython  # noqa: F401
        return
    except ImportError:
        pass
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: None
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display, ipython_display.HTML = display, HTML
    ipython.display = ipython_display
    sys.modules["IPython"], sys.modules["IPython.display"] = ipython, ipython_display


_install_ipython_shim()
NAMESPACE["display"] = display


# ---------------------------------------------------------------- which packages a cell needs
def _lib_file(module: str) -> Path | None:
    spec = importlib.util.find_spec("lib")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    parts = module.split(".")[1:]
    for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
        if parts and candidate.is_file():
            return candidate
    return base / "__init__.py" if not parts else None


def modules_needed(code: str) -> list[str]:
    """Top-level modules the cell imports, directly or through `lib`, not imported yet."""
    todo, seen, tops = [code], set(), set()
    while todo:
        try:
            tree = ast.parse(todo.pop())
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] != "lib":
                    tops.add(name.split(".")[0])
                elif name not in seen:
                    seen.add(name)
                    if (path := _lib_file(name)) is not None:
                        todo.append(path.read_text(encoding="utf-8"))
    return sorted(t for t in tops if t not in sys.modules)


# ---------------------------------------------------------------- running a cell
def _flush_figures() -> None:
    """Every pyplot figure the cell left open is shown as a PNG, then closed (as inline backends do)."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt

    for number in plt.get_fignums():
        _outputs.append({"type": "png", "data": _figure_png(plt.figure(number))})
    plt.close("all")


def _traceback(err: BaseException, filename: str) -> str:
    tb = err.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next  # drop the runner's own frames: the learner's cell comes first
    return "".join(traceback.format_exception(type(err), err, tb))


async def run_cell(code: str, filename: str = "<cell>") -> str:
    """Run `code` in the page's namespace; return its outputs as JSON."""
    from pyodide.code import eval_code_async

    _outputs.clear()
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")
    try:
        value = await eval_code_async(code, NAMESPACE, filename=filename)
        if value is not None:
            _outputs.append(_render(value))
    except BaseException as err:  # the learner's error is an output, never a crash of the runner
        _outputs.append({"type": "error", "text": _traceback(err, filename)})
    finally:
        sys.stdout, sys.stderr = saved
    try:
        _flush_figures()
    except Exception as err:
        _outputs.append({"type": "error", "text": f"could not draw the figure: {err}"})
    return json.dumps(_outputs)
