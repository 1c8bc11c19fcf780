"""The whole book as one PDF: every page of the built site, in `_toc.yml` order, printed by Chromium.

    python scripts/make_pdf.py [--html _build/html] [--out _build/pdf]

The site is built first (`make book`). This script joins the article of every page into one HTML
document beside the site (`_build/html/_book-print.html`, removed afterwards), with the ids made
unique per page and the links between pages turned into links inside the document; adds a title
page and one heading per part of `_toc.yml`; moves each chapter's solutions to the chapter's end;
then has headless Chromium (the one the browser tests use) typeset the math, draw every demo's
starting frame and print it with the site's print stylesheet: page numbers in the footer, the
headings as the PDF's outline (bookmarks). It refuses to write a PDF with a missing figure or
math left untypeset. Beside the PDF it writes `book.json`: the outline it meant, the page count,
the figures, for the tests.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml
from bs4 import BeautifulSoup, Tag
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.serve import Handler  # noqa: E402  (the offline launcher's static files, COOP/COEP headers)
from tests.site.chromium import Chromium  # noqa: E402  (the standard-library DevTools driver of the tests)

logging.getLogger("pypdf").setLevel(logging.ERROR)  # "object count exceeds trailer size": Chromium's, harmless
PDF_NAME = "linear-algebra-inside-neural-networks.pdf"
PRINT_PAGE = "_book-print.html"
BASE = "http://book.invalid/"  # resolves a page's relative URLs to site-root paths
LINK_ATTRS = ("for", "aria-labelledby", "aria-describedby", "aria-controls")

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html, body { background: #fff !important; }
body { font-size: 10.5pt; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article,
.prev-next-area, .header-article, .course-runner, .course-runner-launch, .course-runner-bar, .course-progress,
.skip-link, .headerlink, .cell_input.hide, .pst-scrollable-table-container > .toggle,
button, .course-demo [data-control], .course-demo .course-demo-controls { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width { max-width: none !important;
  width: auto !important; padding: 0 !important; margin: 0 !important; }
pre, .highlight pre { white-space: pre-wrap !important; word-break: break-word; overflow: visible !important; }
.cell_output, .output { overflow: visible !important; max-height: none !important; }
details > summary { display: none; }
img { max-width: 100% !important; break-inside: avoid; }
figure, .course-demo, table { break-inside: avoid; }
h1, h2, h3, h4 { break-after: avoid; }
.pdf-title { height: 250mm; display: flex; flex-direction: column; justify-content: center; text-align: center; }
.pdf-title .pdf-title-name { font-size: 30pt; font-weight: 700; margin-bottom: 6mm; }
.pdf-title p { font-size: 13pt; }
.pdf-part { break-before: page; font-size: 24pt; margin-top: 60mm; text-align: center; border: 0; }
.pdf-page { break-before: page; }
.pdf-solutions { break-before: page; }
.pdf-solution-of { font-weight: 600; margin-top: 1em; }
a { color: inherit; }
"""


# ---------------------------------------------------------------- the table of contents
def toc_parts(root: Path) -> list[tuple[str | None, list[str]]]:
    """[(part caption or None for the root page, [page paths without suffix])] in reading order."""
    return [(caption, [page for page, _ in pages]) for caption, pages in toc_tree(root)]


def toc_tree(root: Path) -> list[tuple[str | None, list[tuple[str, int]]]]:
    """As toc_parts, each page with its depth under its part: 0 for a chapter, 1 for its sections."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    parts: list[tuple[str | None, list[tuple[str, int]]]] = [(None, [(toc["root"], 0)])]
    for part in toc.get("parts", []):
        pages: list[tuple[str, int]] = []
        for chapter in part.get("chapters", []):
            pages.append((chapter["file"], 0))
            for section in chapter.get("sections", []):
                if "file" in section:
                    pages.append((section["file"], 1))
                else:  # a glob, as the API reference's module pages
                    pages.extend((p.relative_to(root).with_suffix("").as_posix(), 1)
                                 for p in sorted(root.glob(section["glob"] + ".md")))
        parts.append((part["caption"], pages))
    return parts


def slug(page: str) -> str:
    return "p-" + page.replace("/", "-")


# ---------------------------------------------------------------- one page's article, made local
def article_of(html_dir: Path, page: str, pages: set[str]) -> Tag:
    soup = BeautifulSoup((html_dir / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article") or soup.select_one("main")
    if article is None:
        raise SystemExit(f"make_pdf: {page}.html has no <article class='bd-article'>")
    prefix, here = slug(page) + "--", urljoin(BASE, f"{page}.html")

    def local_id(value: str) -> str:
        return prefix + value

    in_demo = {id(el) for demo in article.select(".course-demo") for el in demo.find_all(True)}
    for el in article.find_all(True):
        if id(el) in in_demo or "course-demo" in (el.get("class") or []):
            continue  # a demo's script finds its nodes by id: leave them as they are (they are unique)
        if el.get("id"):
            el["id"] = local_id(el["id"])
        for attr in LINK_ATTRS:
            if el.get(attr):
                el[attr] = " ".join(local_id(v) for v in el[attr].split())
    for el in article.find_all(["img", "source", "script", "link"]):
        for attr in ("src", "href"):
            if el.get(attr) and not urlsplit(el[attr]).scheme and not el[attr].startswith("data:"):
                el[attr] = urljoin(here, el[attr])[len(BASE):]
    for a in article.find_all("a", href=True):
        target = urljoin(here, a["href"])
        if not target.startswith(BASE):
            continue  # a link to the outside world stays a link
        path, _, fragment = target[len(BASE):].partition("#")
        name = path.removesuffix(".html")
        if name in pages:
            a["href"] = "#" + (slug(name) + "--" + fragment if fragment else slug(name))
        else:  # a file of the site that is not a page (a notebook download, a figure)
            a["href"] = target[len(BASE):]
    return article


def demote_headings(article: Tag, by: int) -> None:
    """h1 -> h(1 + by) ... so that a part's heading sits above its chapters in the outline."""
    for level in range(6 - by, 0, -1):
        for h in article.find_all(f"h{level}"):
            h.name = f"h{level + by}"


def move_solutions(soup: BeautifulSoup, article: Tag, page: str) -> int:
    """Put the chapter's folded solutions after its last section, each under its exercise's name."""
    solutions = article.select("details.exercise-solution")
    if not solutions:
        return 0
    end = soup.new_tag("section", attrs={"class": "pdf-solutions", "id": slug(page) + "--pdf-solutions"})
    title = soup.new_tag("h3")
    title.string = "Solutions"
    end.append(title)
    for n, details in enumerate(solutions, 1):
        heading = details.find_previous(["h2", "h3", "h4"])  # the exercise's own heading
        label = " ".join(heading.get_text(" ", strip=True).rstrip("#").split()) if heading else f"Exercise {n}"
        anchor = f"{slug(page)}--pdf-solution-{n}"
        pointer = soup.new_tag("p", attrs={"class": "pdf-solution-pointer"})
        link = soup.new_tag("a", href="#" + anchor)
        link.string = "The solution is at the end of the chapter."
        pointer.append(link)
        details.replace_with(pointer)
        name = soup.new_tag("p", attrs={"class": "pdf-solution-of", "id": anchor})
        name.string = label
        details["open"] = ""
        end.append(name)
        end.append(details)
    article.append(end)
    return len(solutions)


def page_title(article: Tag) -> str:
    h = article.find(["h1", "h2"])
    return " ".join(h.get_text(" ", strip=True).replace("#", "").split()) if h else ""


def commit() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                       stderr=subprocess.DEVNULL).strip()
    return ""


def book_html(html_dir: Path) -> tuple[str, list[dict]]:
    """The one document, and the outline it should print as [{'title', 'level', 'page'}]."""
    tree = toc_tree(ROOT)
    parts = toc_parts(ROOT)
    pages = {p for _, ps in parts for p in ps}
    first = BeautifulSoup((html_dir / f"{parts[0][1][0]}.html").read_text(encoding="utf-8"), "html.parser")
    here = urljoin(BASE, f"{parts[0][1][0]}.html")
    for el in first.head.find_all(["link", "script"]):
        for attr in ("src", "href"):
            if el.get(attr) and not urlsplit(el[attr]).scheme:
                el[attr] = urljoin(here, el[attr])[len(BASE):]
    style = first.new_tag("style")
    style.string = PRINT_CSS
    first.head.append(style)
    body = first.new_tag("body")
    cover = BeautifulSoup(
        f'<section class="pdf-title"><p class="pdf-title-name">The linear algebra inside neural networks</p>'
        f"<p>An interactive course, printed: every chapter, its exercises with hints and solutions, "
        f"and the Reference part.</p><p>The live site, with demos and Python in the page, is the course; "
        f"this is its paper copy{f' (commit {commit()})' if commit() else ''}.</p></section>", "html.parser")
    body.append(cover)
    outline: list[dict] = []
    for caption, part_pages in tree:
        if caption:
            h = first.new_tag("h1", attrs={"class": "pdf-part", "id": "part-" + slug(caption.lower().replace(" ", "-"))})
            h.string = caption
            body.append(h)
            outline.append({"title": caption, "level": 1, "page": None})
        for page, depth in part_pages:
            article = article_of(html_dir, page, pages)
            level = 1 + depth + (1 if caption else 0)
            outline.append({"title": page_title(article), "level": level, "page": page})
            if level > 1:
                demote_headings(article, level - 1)
            move_solutions(first, article, page)
            wrapper = first.new_tag("section", attrs={"class": "pdf-page", "id": slug(page)})
            wrapper.append(article)
            body.append(wrapper)
    first.body.replace_with(body)
    return str(first), outline


# ---------------------------------------------------------------- printing
@contextlib.contextmanager
def serve(directory: Path):
    """The site on 127.0.0.1 at a free port, by the launcher's own handler (scripts/serve.py)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


READY_JS = r"""(async () => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; await MathJax.typesetPromise(); }
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  const broken = [...document.images].filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src);
  const raw = [...document.querySelectorAll('.math')].filter(el => !el.querySelector('mjx-container')).length;
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]')]
    .filter(h => h.getClientRects().length).map(h => h.innerText.replace(/#$/, '').replace(/\s+/g, ' ').trim());
  return {broken, raw, images: document.images.length, headings};
})()"""

FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;color:#555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def up_to_date(html_dir: Path, out: Path) -> bool:
    """True when the PDF is newer than this script and every page it prints (a rebuild that changed none)."""
    pdf = out / PDF_NAME
    if not pdf.exists() or not (out / "book.json").exists():
        return False
    pages = [html_dir / f"{page}.html" for _, ps in toc_parts(ROOT) for page in ps]
    newest = max(p.stat().st_mtime for p in [*pages, Path(__file__), ROOT / "_toc.yml"] if p.exists())
    return pdf.stat().st_mtime > newest


def print_pdf(html_dir: Path, out: Path, chromium: str) -> dict:
    document, outline = book_html(html_dir)
    page = html_dir / PRINT_PAGE
    page.write_text(document, encoding="utf-8")
    try:
        with serve(html_dir) as url, Chromium(chromium, timeout=240) as browser:
            tab = browser.new_tab(allow=lambda u: u.startswith(url) or u.startswith("data:"))
            tab.goto(url + PRINT_PAGE)
            state = tab.js(READY_JS)
            if state["broken"] or state["raw"] or tab.blocked:
                raise SystemExit(f"make_pdf: not printing: {len(state['broken'])} missing figures "
                                 f"{state['broken'][:3]}, {state['raw']} formulas untypeset, requests "
                                 f"blocked {tab.blocked[:3]}")
            stream = tab.send("Page.printToPDF", {
                "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": True,
                "headerTemplate": "<span></span>", "footerTemplate": FOOTER,
                "generateTaggedPDF": True, "generateDocumentOutline": True,
                "transferMode": "ReturnAsStream"})["stream"]
            chunks = []
            while True:
                piece = tab.send("IO.read", {"handle": stream, "size": 1 << 20})
                chunks.append(base64.b64decode(piece["data"]) if piece.get("base64Encoded") else piece["data"].encode("latin-1"))
                if piece.get("eof"):
                    break
            tab.send("IO.close", {"handle": stream})
    finally:
        page.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / PDF_NAME
    pdf.write_bytes(b"".join(chunks))
    retitle_outline(pdf, state["headings"])
    downloads = html_dir / "downloads"  # the site's download link
    downloads.mkdir(exist_ok=True)
    shutil.copy2(pdf, downloads / PDF_NAME)
    manifest = {"pdf": PDF_NAME, "bytes": pdf.stat().st_size, "pages": len(PdfReader(pdf).pages),
                "outline": outline, "images": state["images"]}
    (out / "book.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def retitle_outline(pdf: Path, headings: list[str]) -> None:
    """Give the outline the headings' own text (Chromium joins a wrapped heading's lines with no space)."""
    writer = PdfWriter(clone_from=PdfReader(pdf))
    items = []

    def walk(node: object) -> None:
        while node is not None:
            item = node.get_object()
            items.append(item)
            if "/First" in item:
                walk(item["/First"])
            node = item.get("/Next")

    root = writer._root_object.get("/Outlines")
    if root is not None and "/First" in root.get_object():
        walk(root.get_object()["/First"])
    if len(items) != len(headings):
        raise SystemExit(f"make_pdf: the outline has {len(items)} entries for {len(headings)} headings")
    for item, text in zip(items, headings, strict=True):
        item[NameObject("/Title")] = TextStringObject(text)
    with pdf.open("wb") as f:
        writer.write(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    if not (args.html / "index.html").exists():
        raise SystemExit(f"make_pdf: no site in {args.html}: run `make book` first")
    start = time.monotonic()
    if up_to_date(args.html, args.out):
        print(f"make_pdf: {args.out / PDF_NAME} is up to date")
        return
    manifest = print_pdf(args.html, args.out, args.chromium)
    print(f"make_pdf: {args.out / PDF_NAME}: {manifest['pages']} pages, {manifest['bytes'] / 1e6:.1f} MB, "
          f"{manifest['images']} figures, {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
