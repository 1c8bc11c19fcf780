"""Serve the built course on this computer and open it in the browser (standard library only).

    python3 serve.py [folder] [--port 8000] [--no-browser]

Browsers refuse to start the in-page Python (a Web Worker, and the files it fetches) for a page
opened from disk (file://), so the course is served on 127.0.0.1, which only this computer can
reach. The headers make the page cross-origin isolated, which lets the Stop button interrupt a
running cell instead of restarting Python. `folder` defaults to `site/` beside this script (the
offline edition) or `_build/html` (a checkout). Ctrl+C stops it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import webbrowser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp",
             "Cross-Origin-Resource-Policy": "same-origin"}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
         ".json": "application/json", ".whl": "application/zip", ".zip": "application/zip"}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the isolation headers and the MIME types the in-page Python needs."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def end_headers(self) -> None:
        for name, value in ISOLATION.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def default_folder() -> Path:
    for candidate in (HERE / "site", HERE.parent / "_build" / "html"):
        if (candidate / "index.html").exists():
            return candidate
    raise SystemExit("serve: no built site here: pass its folder (the one with index.html)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="the built site (default: site/ or _build/html)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (default 8000)")
    parser.add_argument("--no-browser", action="store_true", help="only serve; do not open a browser")
    args = parser.parse_args(argv)
    folder = (args.folder or default_folder()).resolve()
    if not (folder / "index.html").exists():
        raise SystemExit(f"serve: {folder} has no index.html")
    handler = functools.partial(Handler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    except OSError as err:
        raise SystemExit(f"serve: port {args.port} is taken ({err.strerror}): try --port 0") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    print(f"The course is at {url}  (Ctrl+C stops it)", flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
