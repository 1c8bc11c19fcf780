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


def _figure_title(fig) -> str:
    """The figure's own title (suptitle, else the first axes' titles), for the image's alt text."""
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    if not title:
        title = "; ".join(t for ax in fig.axes if (t := ax.get_title()))
    return title[:200]


def _figure_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _render(obj) -> dict:
    if "matplotlib" in sys.modules:
        from matplotlib.figure import Figure

        if isinstance(obj, Figure):
            return {"type": "png", "data": _figure_png(obj), "title": _figure_title(obj)}
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


def _lock_import_names() -> set[str] | None:
    """Import names of the packages Pyodide's lock offers (None outside Pyodide)."""
    try:
        import pyodide_js  # the JS side of Pyodide, in the browser only

        return set(pyodide_js._api._import_name_to_package_name.to_py())
    except Exception:
        return None


def packages_needed(code: str) -> list[str]:
    """The packages to fetch before `code` runs: those of `modules_needed` that the lock offers.

    Standard-library modules (dataclasses, html, ...) and modules nobody offers (ipywidgets,
    imported inside a try) are left out: there is nothing to fetch for them.
    """
    offered = _lock_import_names()
    names = [m for m in modules_needed(code) if m not in sys.stdlib_module_names]
    return names if offered is None else [m for m in names if m in offered]


# ---------------------------------------------------------------- running a cell
def _flush_figures() -> None:
    """Every pyplot figure the cell left open is shown as a PNG, then closed (as inline backends do)."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt

    for number in plt.get_fignums():
        fig = plt.figure(number)
        _outputs.append({"type": "png", "data": _figure_png(fig), "title": _figure_title(fig)})
    plt.close("all")


class _PyplotHook:
    """plt.show() draws the open figures under the cell, in order (Agg would warn that it cannot
    show them): installed as soon as anything imports matplotlib.pyplot."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib.pyplot" or "matplotlib.pyplot" in sys.modules:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _quiet_show_on(module)

        class _Loader:
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                exec_and_patch(module)

        spec.loader = _Loader()
        return spec


def _quiet_show_on(module) -> None:
    if not getattr(module.show, "_course_runner", False):
        def show(*args, **kwargs) -> None:
            _flush_figures()

        show._course_runner = True
        module.show = show


sys.meta_path.insert(0, _PyplotHook())


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
