"""Sphinx extension: what the course's site adds to the theme at build time.

- a `<meta name="description">` on every page: the page's first paragraph of prose;
- lighter pages: Font Awesome's 1.5 MB script is dropped (the theme's stylesheet already draws
  every icon from the woff2 webfonts), and files no page requests are not shipped (source maps,
  TTF fallbacks of woff2 fonts);
- demo frames leave the page: each player's data block (every frame but the first) moves to
  `_static/demo-frames/<hash>.js`, which the player fetches only when the demo nears the screen
  or is touched, so a visit that never reaches a demo does not pay for its frames;
- the notebooks offered for download (`_sources/chapters/*.ipynb`) say how to get the course's
  helper library `lib` when it is missing, naming the repository of `_config.yml`
  (`repository.url`, `repository.branch`), the one place a fork changes.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from docutils import nodes

DESCRIPTION_CHARS = 155
FONTAWESOME_SCRIPT = re.compile(r'<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*>\s*</script>\s*')
SOURCE_MAP_COMMENT = re.compile(rb"\n?/[/*]# sourceMappingURL=[^\n]*")


def describe(doctree) -> str:
    """The page's first paragraph of prose (not inside an admonition), shortened at a word."""
    for para in doctree.findall(nodes.paragraph):
        if any(isinstance(a, (nodes.Admonition, nodes.table, nodes.field_list)) for a in _ancestors(para)):
            continue
        text = re.sub(r"\s+", " ", para.astext()).strip()
        if len(text) > 40:
            return text if len(text) <= DESCRIPTION_CHARS else text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "..."
    return ""


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def add_description(app, pagename, templatename, context, doctree) -> None:
    text = describe(doctree) if doctree is not None else ""
    text = text or app.config.project
    context["metatags"] = context.get("metatags", "") + f'\n<meta name="description" content="{html.escape(text)}" />'


def repository(app) -> tuple[str, str]:
    info = app.config.html_theme_options.get("repository_url", ""), app.config.html_theme_options.get("repository_branch", "main")
    return info[0].rstrip("/"), info[1] or "main"


def install_cell(url: str, branch: str) -> list[str]:
    source = f'''# The course's helper library `lib`: Binder and a clone of the repository already have it;
# Colab installs it here. A notebook downloaded from the course's site needs it too:
#     pip install "git+{url}@{branch}"
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+{url}@{branch}"], check=True)
elif importlib.util.find_spec("lib") is None or importlib.util.find_spec("lib.widgets") is None:
    raise ModuleNotFoundError(
        "This chapter needs the course's helper library `lib`. Install it into this kernel's "
        'environment with:  pip install "git+{url}@{branch}"  (or open the chapter on Binder '
        "or Colab, or run it from a clone of {url})."
    )'''
    return source.splitlines(keepends=True)


def downloadable_notebooks(app) -> None:
    url, branch = repository(app)
    for path in (Path(app.outdir) / "_sources").rglob("*.ipynb"):
        nb = json.loads(path.read_text())
        first = nb["cells"][0] if nb.get("cells") else None
        if first and first["cell_type"] == "code" and "google.colab" in "".join(first["source"]):
            first["source"] = install_cell(url, branch)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def lighter(app) -> None:
    out = Path(app.outdir)
    for page in out.rglob("*.html"):
        text = page.read_text()
        lean = FONTAWESOME_SCRIPT.sub("", text)
        if lean != text:
            page.write_text(lean)
    static = out / "_static"
    for path in [*static.rglob("*.map"), *static.rglob("fontawesome.js"), *static.rglob("fontawesome.js.LICENSE.txt"),
                 *static.rglob("webfonts/*.ttf")]:
        path.unlink()
    verified = static / "vendor" / "pyodide"  # the in-browser Python stays byte-identical to its verified files
    for path in [*static.rglob("*.js"), *static.rglob("*.css")]:
        if path.is_relative_to(verified):
            continue
        data = path.read_bytes()
        if b"sourceMappingURL" in data:
            path.write_bytes(SOURCE_MAP_COMMENT.sub(b"", data))


DEMO_DATA = re.compile(r'<script type="application/json" class="course-demo-data">(.*?)</script>', re.S)


def demo_frames_apart(app) -> None:
    out = Path(app.outdir)
    folder = out / "_static" / "demo-frames"
    for page in out.rglob("*.html"):
        text = page.read_text()
        if "course-demo-data" not in text:
            continue

        prefix = "../" * (len(page.relative_to(out).parts) - 1)

        def move(found: re.Match, prefix: str = prefix) -> str:
            payload = found.group(1)
            key = hashlib.sha256(payload.encode()).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{key}.js").write_text(f"(window.courseDemoData = window.courseDemoData || {{}})[{json.dumps(key)}] = {payload};\n")
            return (f'<script type="application/json" class="course-demo-data" data-key="{key}" '
                    f'data-src="{prefix}_static/demo-frames/{key}.js"></script>')

        page.write_text(DEMO_DATA.sub(move, text))


def finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    downloadable_notebooks(app)
    lighter(app)
    demo_frames_apart(app)


def setup(app):
    app.connect("html-page-context", add_description)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
