"""Every notebook, run twice in fresh kernels, gives the same outputs: its randomness is seeded.

The first run is the site build's (`make book` keeps the executed notebooks in
_build/jupyter_execute); the second runs here, with the same demo mode. Cells tagged
`machine-dependent` (timings, measured GFLOP/s) are left out of the comparison.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest
from myst_nb.core.utils import coalesce_streams
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
EXECUTED = ROOT / "_build" / "jupyter_execute" / "chapters"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _outputs(cell: nbformat.NotebookNode, *, built: bool) -> list[tuple[str, object]]:
    """What a reader sees of a cell: streams, errors and every display format (text, HTML, PNG).

    The page joins each stream's pieces into its first (`nb_merge_streams`, myst-nb's
    coalesce_streams). That function edits the first piece in place, so the build's executed copy
    holds the joined text there and still lists the later pieces, which the page does not show:
    of the build's copy the first piece is kept; the fresh run is joined the same way as the page.
    """
    outputs = [o for i, o in enumerate(cell.get("outputs", [])) if o.output_type != "stream"
               or all(p.output_type != "stream" or p.name != o.name for p in cell.outputs[:i])]
    if not built:
        outputs = coalesce_streams(copy.deepcopy(cell.get("outputs", [])))
    seen = []
    for out in outputs:
        if out.output_type == "stream":  # coalesce_streams puts a newline where a print was split in two
            seen.append((out.name, " ".join(out.text.split())))
        elif out.output_type == "error":
            seen.append(("error", out.ename + ": " + out.evalue))
        else:
            seen.append((out.output_type, dict(out.get("data", {}))))
    return seen


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_outputs_repeat(path, monkeypatch):
    built = EXECUTED / path.name
    if not built.exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI must compare against the build's execution: run `make book` first")
        pytest.skip("run `make book` first")
    monkeypatch.setenv("COURSE_DEMO_MODE", "static")  # as the site build (Makefile) runs them
    fresh = nbformat.read(path, as_version=4)
    NotebookClient(fresh, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    first = nbformat.read(built, as_version=4)
    assert len(first.cells) == len(fresh.cells), "the built copy is stale: rebuild the book"
    compared = 0
    for i, (a, b) in enumerate(zip(first.cells, fresh.cells, strict=True)):
        if b.cell_type != "code" or "machine-dependent" in b.metadata.get("tags", []):
            continue
        assert a.source == b.source, f"cell {i}: the built copy is stale: rebuild the book"
        assert _outputs(a, built=True) == _outputs(b, built=False), f"cell {i} gave different outputs in two runs:\n{b.source[:300]}"
        compared += bool(b.outputs)
    assert compared >= 5, f"only {compared} cells with outputs compared"
