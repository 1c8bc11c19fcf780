"""Book-wide guards: no stderr on a page, no figure shown as text, learner-facing words only.

Each guard is proven by planting the defect it looks for: a tiny book whose cell writes to
stderr must fail to build with the project's own settings, and a figure displayed without an
image must be caught by the same detector that scans the built site.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
needs_site = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="run `make book` first")


def book_pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts and p.name not in ("genindex.html", "search.html"))


def markdown_sources() -> dict[str, str]:
    """Every learner-facing markdown text of the book: notebook markdown cells and .md pages."""
    texts = {}
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        texts[nb.name] = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for md in sorted(ROOT.glob("*.md")) + sorted((ROOT / "chapters").glob("*.md")):
        if md.name != "README.md":
            texts[md.name] = md.read_text()
    return texts


# ---------------------------------------------------------------- stderr fails the build
def test_the_build_treats_stderr_as_an_error():
    assert CONFIG["execute"]["stderr_output"] in ("warn", "error", "severe")


def test_a_cell_writing_to_stderr_fails_the_build(tmp_path):
    """Plant the defect: a one-page book with the project's execute settings and a stderr cell."""
    config = {"title": "stderr guard", "only_build_toc_files": True,
              "execute": {**CONFIG["execute"], "execute_notebooks": "force"}}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A page"),
        nbformat.v4.new_code_cell("import sys\nprint('a warning a learner should never see', file=sys.stderr)"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "page.ipynb")
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jb), "build", str(tmp_path), "--warningiserror", "--keep-going"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0, run.stdout[-2000:]
    assert "stderr" in (run.stdout + run.stderr)


def test_matplotlib_cache_is_the_builds_own():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^export MPLCONFIGDIR\s*:?=\s*\$\(CURDIR\)/_build/", makefile, re.M)


# ---------------------------------------------------------------- figures shown as text
FIGURE_AS_TEXT = re.compile(r"(&lt;|<)(Figure size [\d.]+x[\d.]+ with \d+ Axes|matplotlib\.[\w.]+ (object )?at 0x|Axes: )")


def figure_outputs_as_text(outputs: list[dict]) -> list[str]:
    """The text of every output that shows a matplotlib object as text instead of an image."""
    found = []
    for out in outputs:
        data = out.get("data", {})
        text = "".join(data.get("text/plain", "")) + "".join(out.get("text", ""))
        if FIGURE_AS_TEXT.search(text) and not any(k.startswith("image/") for k in data):
            found.append(text)
    return found


def test_a_figure_displayed_without_pyplot_is_caught(tmp_path):
    """Plant the defect: display() a Figure made without pyplot and run the detector on it."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from matplotlib.figure import Figure\n"
        "fig = Figure(figsize=(5, 2.8))\n"
        "fig.add_subplot().plot([0, 1])\n"
        "display(fig)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    caught = figure_outputs_as_text(outputs)
    if caught:  # IPython shows such a figure as text: the detector names it
        assert "Figure size 500x280 with 1 Axes" in caught[0]
    else:  # a newer IPython renders it: then the output must carry an image
        assert any(k.startswith("image/") for o in outputs for k in o.get("data", {}))
    assert figure_outputs_as_text([{"output_type": "display_data",
                                    "data": {"text/plain": "<Figure size 360x201.6 with 1 Axes>"}}])
    assert FIGURE_AS_TEXT.search("<pre>&lt;Figure size 360x201.6 with 1 Axes&gt;</pre>")


@needs_site
@pytest.mark.parametrize("page", book_pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_no_page_shows_a_figure_as_text(page):
    hits = FIGURE_AS_TEXT.findall(page.read_text())
    assert not hits, f"{page.name} shows a matplotlib object as text: {hits[:3]}"


# ---------------------------------------------------------------- learner-facing words
LEAKED_WORDS = re.compile(
    r"\b(the|our|these|those) seeds\b|\bseeds'|\bseed's\b|\bseed \d{3}\b|\bour sources\b|"
    r"\bnotes this chapter grew from\b|\bsource (texts?|documents?)\b", re.I)


def test_the_leak_detector_catches_planted_words():
    for planted in ("In the seeds' words", "Checking the seed's numbers", "seed 001 says",
                    "as our sources put it", "The notes this chapter grew from quote"):
        assert LEAKED_WORDS.search(planted), planted
    for fine in ("a fixed seed", "seeded random numbers", "rng = np.random.default_rng(seed)",
                 "for seed in range(5)", "seeds=(0, 1, 2)", "seeds[0]", "different rng seeds"):
        assert not LEAKED_WORDS.search(fine), fine


@pytest.mark.parametrize("name", sorted(markdown_sources()))
def test_no_page_speaks_of_source_documents(name):
    hits = [m.group(0) for m in LEAKED_WORDS.finditer(markdown_sources()[name])]
    assert not hits, f"{name}: {hits}; a source is 'a claim you will meet', never 'the seeds'"


def test_no_help_text_speaks_of_source_documents():
    hits = []
    for py in sorted((ROOT / "lib").rglob("*.py")):
        for lineno, line in enumerate(py.read_text().splitlines(), 1):
            if LEAKED_WORDS.search(line):
                hits.append(f"{py.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not hits, "\n".join(hits)


# ---------------------------------------------------------------- chapter references are links
PLAIN_CHAPTER_REFERENCE = re.compile(
    r"\b(the|a|an) (previous|next|later|earlier|first|last|following|[\w-]+(?: [\w-]+)?) chapters?\b"
    r"|\bchapter (on|about|called)\b", re.I)


def plain_chapter_references(text: str) -> list[str]:
    """Sentences that point at another chapter in words without a {doc} or {ref} link."""
    found = []
    for sentence in re.split(r"(?<=[.!?:])\s+|\n\s*\n", text):
        for m in PLAIN_CHAPTER_REFERENCE.finditer(sentence):
            if re.match(r"(the|a|an) (this|each|every|same|whole)\b", m.group(0), re.I) or m.group(2) in ("this",):
                continue
            if "{doc}" not in sentence and "{ref}" not in sentence:
                found.append(sentence.strip())
                break
    return found


def test_the_reference_detector_catches_planted_references():
    assert plain_chapter_references("Recall the dot product from the previous chapter.")
    assert plain_chapter_references("The linear-layer chapter derives it.")
    assert plain_chapter_references("The chapter on attention builds the rest.")
    assert not plain_chapter_references("The {doc}`linear-layer chapter <linear-layer>` derives it.")
    assert not plain_chapter_references("By the end of this chapter you can")
    assert not plain_chapter_references("Every chapter keeps a ledger.")


@pytest.mark.parametrize("name", sorted(markdown_sources()))
def test_chapter_references_are_links(name):
    hits = plain_chapter_references(markdown_sources()[name])
    assert not hits, f"{name}: link these with {{doc}} or {{ref}}:\n" + "\n".join(hits)


# ---------------------------------------------------------------- figures described in words
@needs_site
@pytest.mark.parametrize("page", book_pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_every_image_has_alt_text_in_words(page):
    """A screen reader reads the alt text: a file path (myst-nb's default for a cell's figure) is no description.
    (An empty alt marks a decorative image, such as a demo's background under its described frame.)"""
    alts = re.findall(r"<img\b[^>]*?\balt=\"([^\"]*)\"", page.read_text())
    paths = [a for a in alts if re.search(r"\.(png|jpe?g|svg|gif)$|_images/", a)]
    assert not paths, f"{page.name}: give these figures `mystnb: image: alt:` metadata: {paths[:3]}"
