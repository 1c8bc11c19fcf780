"""The offline edition: the built site, its launcher and a README, in one zip.

    python scripts/make_dist.py [--html _build/html] [--out _build/dist]

Unpacked anywhere, `serve.py` serves the site on 127.0.0.1 and opens the browser, so the in-page
Python works with no network (browsers refuse it on file://). The zip holds one folder,
`linear-algebra-nn-course/`, with `site/` (the PDF included, when `make pdf` has run), `serve.py`
and `README.txt`; the site's own copy of the zip (its download link) is left out of it.
"""

from __future__ import annotations

import argparse
import shutil
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "linear-algebra-nn-course"
DOWNLOADS = "downloads"  # the site's folder for the PDF and this zip

README = """The linear algebra inside neural networks: the offline edition
===============================================================

Everything the course site needs is in this folder: the pages, their figures and demos, the
in-page Python (Pyodide) and the book as a PDF (site/downloads/). Nothing is fetched from the
internet.

The in-page Python needs the pages served, not opened as files (browsers refuse it on file://).
serve.py does that on 127.0.0.1, which only this computer can reach, and opens your browser.
It needs Python 3.8 or newer and nothing else.

  Linux:    open a terminal in this folder and run   python3 serve.py
  macOS:    open Terminal, `cd` to this folder, run   python3 serve.py
            (if macOS offers to install the command line tools, accept: they bring python3)
  Windows:  double-click serve.py, or in a Command Prompt in this folder run   py serve.py
            (Python from python.org or the Microsoft Store)

Then read at the address it prints (http://127.0.0.1:8000/index.html). Ctrl+C, or closing the
window, stops it. `python3 serve.py --port 8123` uses another port; `--no-browser` only serves.

Your code and progress are kept by the browser for that address: use the same port each time
(the default, 8000) to find them again.
"""


def build(html: Path, out: Path) -> Path:
    """Write out/NAME.zip from the site in `html`; return its path."""
    if not (html / "index.html").exists():
        raise SystemExit(f"make_dist: no site in {html}: run `make book` first")
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"{NAME}.zip"
    tmp = archive.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for path in sorted(html.rglob("*")):
            rel = path.relative_to(html)
            if path.is_dir() or rel.parts[0].startswith(".") or (rel.parts[0] == DOWNLOADS and path.suffix == ".zip"):
                continue
            z.write(path, f"{NAME}/site/{rel.as_posix()}")
        z.write(ROOT / "scripts" / "serve.py", f"{NAME}/serve.py")
        z.writestr(f"{NAME}/README.txt", README)
    tmp.replace(archive)
    return archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "dist")
    args = parser.parse_args()
    start = time.monotonic()
    archive = build(args.html, args.out)
    downloads = args.html / DOWNLOADS
    downloads.mkdir(exist_ok=True)
    shutil.copy2(archive, downloads / archive.name)
    print(f"make_dist: {archive}: {archive.stat().st_size / 1e6:.1f} MB, {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
