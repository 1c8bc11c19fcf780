"""The built site (`make book` writes _build/html) and the committed notebooks.

These tests read files only; tests/site/test_browser.py loads the pages in Chromium.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", [toc]):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def chapter_pages() -> list[Path]:
    return [HTML / f"{f}.html" for f in toc_files() if f.startswith("chapters/")]


def notebook(path: Path) -> dict:
    return json.loads(path.read_text())


needs_site = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="run `make book` first")


# ---------------------------------------------------------------- the notebooks
def test_every_notebook_is_in_the_toc():
    listed = {f for f in toc_files() if f.startswith("chapters/")}
    assert {f"chapters/{p.stem}" for p in CHAPTERS} == listed


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path):
    for cell in notebook(path)["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_follows_the_chapter_pattern(path):
    cells = notebook(path)["cells"]
    text = "\n".join("".join(c["source"]) for c in cells)
    assert f"({path.stem})=" in text, "a label above the title lets other pages link here"
    assert "Learning goals" in text
    assert re.search(r"from lib[\. ]", text), "code imports the course library"
    assert "Ledger" in text or "ledger" in text, "a shape ledger"
    assert ".show()" in text, "at least one interactive demo"
    assert len(re.findall(r"\.check\(", text)) >= 3, "at least three exercises with checkers"
    assert "Review questions" in text


def test_colab_cells_name_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    wrong = [p.name for p in CHAPTERS
             if not ("google.colab" in (first := "".join(notebook(p)["cells"][0]["source"])) and url in first)]
    assert not wrong, f"Colab cells must install from {url}: run `make repository` (wrong: {', '.join(wrong)})"


# ---------------------------------------------------------------- the built pages
class Links(HTMLParser):
    """Collects resources a page loads, links it makes, and the ids it defines."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel") in ("stylesheet", "preload", "icon", "modulepreload"):
            self.loads.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def parse(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text())
    return parser


@needs_site
def test_every_toc_entry_produced_a_page():
    missing = [f for f in toc_files() if not (HTML / f"{f}.html").exists()]
    assert not missing


@needs_site
@pytest.mark.parametrize("page", sorted(HTML.rglob("*.html")), ids=lambda p: str(p.relative_to(HTML)))
def test_page_loads_nothing_from_outside(page):
    external = [u for u in parse(page).loads if urlparse(u).scheme in ("http", "https") or u.startswith("//")]
    assert not external
    css_urls = re.findall(r"@import\s+url\((https?:[^)]+)\)", page.read_text())
    assert not css_urls


@needs_site
def test_stylesheets_load_nothing_from_outside():
    for css in HTML.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text(errors="ignore")), css


@needs_site
def test_internal_links_and_anchors_resolve():
    pages = {p: parse(p) for p in HTML.rglob("*.html") if "_static" not in p.parts}
    broken = []
    for page, parsed in pages.items():
        for href in parsed.links:
            if urlparse(href).scheme or href.startswith(("mailto:", "javascript:")):
                continue
            path, fragment = urldefrag(href)
            target = (page.parent / unquote(path)).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(HTML)} -> {href}")
            elif fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{page.relative_to(HTML)} -> {href} (no such anchor)")
    assert not broken, "\n".join(broken)


@needs_site
@pytest.mark.parametrize("page", chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_has_math_demo_and_folded_solutions(page):
    text = page.read_text()
    assert 'class="course-demo"' in text, "a demo rendered as a kernel-free player"
    assert "vendor/mathjax/tex-chtml.js" in text
    assert "tag_hide-output" in text, "solutions folded behind a toggle"
    assert "application/vnd.jupyter.widget-view+json" not in text, "the site shows no dead widgets"
    assert 'class="output stderr"' not in text, "nothing a cell writes to stderr reaches a page"
