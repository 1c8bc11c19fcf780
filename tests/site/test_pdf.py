"""The book as one PDF (`make pdf`): every page of `_toc.yml` in order, its outline, no raw math.

The PDF is read with pypdf. The expected titles come from the sources (a notebook's first
heading, a Markdown page's first `# ` line), not from the script that made the PDF. Without a
built PDF these tests skip, except under CI=true, where `make test` builds it first.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "_build" / "pdf"
MANIFEST = OUT / "book.json"

if not MANIFEST.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the PDF: run `make pdf` first")
    pytest.skip("run `make pdf` first", allow_module_level=True)

from pypdf import PdfReader  # noqa: E402

# Math that was not typeset shows as TeX in the text: a backslash command or a $ delimiter.
RAW_TEX = re.compile(r"\\(frac|sqrt|mathbf|mathrm|top|left|right|begin|end|sum|cdot|times|alpha|theta)\b"
                     r"|\$\$|\\\(|\\\[")


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)  # the PDF's ligatures (fi, fl) as letters
    return " ".join(re.sub(r"[`*_]", "", text).replace("\u2019", "'").split()).strip()


def source_title(page: str) -> str:
    """The first heading of the page's source, as the reader sees it (MyST markup removed)."""
    path = ROOT / f"{page}.ipynb"
    if path.exists():
        cells = json.loads(path.read_text())["cells"]
        text = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
    else:
        text = (ROOT / f"{page}.md").read_text()
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    return norm(re.sub(r"\{[a-z]+\}`([^`<]*)(<[^>]*>)?`", r"\1", heading[2:]))


def expected_outline() -> list[tuple[str, list[str]]]:
    """[(title at level 1, [titles at level 2])]: the root page, then each part with its chapters."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    outline = [(source_title(toc["root"]), [])]
    for part in toc["parts"]:
        outline.append((part["caption"], [source_title(c["file"]) for c in part["chapters"]]))
    return outline


@pytest.fixture(scope="module")
def pdf() -> PdfReader:
    manifest = json.loads(MANIFEST.read_text())
    return PdfReader(OUT / manifest["pdf"])


@pytest.fixture(scope="module")
def texts(pdf) -> list[str]:
    return [page.extract_text() or "" for page in pdf.pages]


def test_the_outline_is_the_table_of_contents(pdf):
    got = []
    items = pdf.outline
    for i, item in enumerate(items):
        if isinstance(item, list):
            continue
        children = items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], list) else []
        got.append((norm(item.title), [norm(c.title) for c in children if not isinstance(c, list)]))
    want = expected_outline()
    assert [t for t, _ in got] == [t for t, _ in want], "the top level: the root page, then each part"
    for (title, chapters), (_, want_chapters) in zip(got, want, strict=True):
        if want_chapters:  # the root page's own sections are not chapters
            assert chapters[: len(want_chapters)] == want_chapters, f"the chapters of {title}"


def test_every_chapter_starts_where_the_outline_says_in_order(pdf, texts):
    pages = []
    parts = [item for item in pdf.outline if isinstance(item, list)][1:]  # after the root page's sections
    for chapters in parts:
        for chapter in chapters:
            if isinstance(chapter, list):
                continue
            n = pdf.get_destination_page_number(chapter)
            pages.append(n)
            assert norm(chapter.title)[:30] in norm(texts[n]), f"{chapter.title!r} is not on page {n + 1}"
    assert len(pages) >= 13 and pages == sorted(set(pages)), "each chapter starts a page, in order"


def test_title_page_page_numbers_and_internal_links(pdf, texts):
    assert "The linear algebra inside neural networks" in norm(texts[0])
    total = len(pdf.pages)
    for n in (1, total // 2, total - 1):
        assert re.search(rf"\b{n + 1} / {total}\b", texts[n]), f"page {n + 1} shows its number"
    named = pdf.named_destinations
    internal = 0
    for page in pdf.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                internal += 1
                dest = annot["/Dest"]
                assert isinstance(dest, list) or str(dest) in named, f"a link to a missing place: {dest}"
    assert internal > 200, "the cross-references between chapters are links inside the PDF"


def test_no_raw_tex_and_every_figure_printed(pdf, texts):
    raw = [(n + 1, m.group(0)) for n, t in enumerate(texts) for m in RAW_TEX.finditer(t)]
    assert not raw, f"math left as TeX on pages {raw[:5]}"
    images = sum(len(page["/Resources"].get("/XObject") or {}) for page in pdf.pages if "/Resources" in page)
    figures = json.loads(MANIFEST.read_text())["images"]
    assert figures >= 30 and images >= figures * 0.9, f"{images} images printed for {figures} figures"


def test_solutions_wait_at_the_end_of_their_chapter(texts):
    whole = "\n".join(texts)
    assert whole.count("The solution is at the end of the chapter.") >= 40
    assert "Show the solution" not in whole, "a solution's fold is open, its summary hidden"
