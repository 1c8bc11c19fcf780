"""Serve the built site on 127.0.0.1 (`make serve`), with cross-origin isolation.

The in-page runner starts Python in a Web Worker, which browsers refuse on a page opened from
disk (file://): serve the folder instead. This server also sends the two headers that make the
page cross-origin isolated (COOP same-origin, COEP require-corp), so Stop can interrupt a
running cell (Pyodide's interrupt buffer needs a SharedArrayBuffer) instead of restarting Python.
`python3 -m http.server -d _build/html` works too; there Stop restarts Python.

    python scripts/serve.py [--port 8000] [--dir _build/html]
"""

from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class IsolatedHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server whose every reply makes the page cross-origin isolated."""

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        super().end_headers()

    def log_message(self, *args) -> None:  # quiet: one line per request is noise for a learner
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--dir", default=str(ROOT / "_build" / "html"))
    args = parser.parse_args()
    if not (Path(args.dir) / "index.html").exists():
        raise SystemExit(f"{args.dir}/index.html is missing: run `make book` first.")
    handler = functools.partial(IsolatedHandler, directory=args.dir)
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"The course is served at http://127.0.0.1:{server.server_address[1]}/ (Ctrl+C stops it).", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
