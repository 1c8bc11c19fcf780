"""`make lab` opens the course in JupyterLab, with the MyST renderer the chapters need.

Without jupyterlab-myst, JupyterLab shows the chapters' `(label)=` lines, `:::{admonition}` blocks
and folded review answers as raw text. The server is started exactly as the README says (through
`make lab`), on a free port, and asked over its REST API what it serves.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on a free port; yields (base url, token) once /api answers."""
    if not shutil.which("make"):
        pytest.skip("needs make")
    home = tmp_path_factory.mktemp("lab-home")
    port, token = free_port(), secrets.token_hex(16)
    args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    if os.geteuid() == 0:
        args += " --allow-root"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "LAB_ARGS": args}
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "lab"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(url, "/api", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"make lab did not start:\n{proc.stdout.read().decode()[-3000:]}") from None
                time.sleep(0.3)
        yield url, token
    finally:
        os.killpg(proc.pid, 15)  # make and the server it started, nothing else
        proc.wait(timeout=20)


def get(url: str, path: str, token: str):
    request = urllib.request.Request(url + path, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


def test_make_lab_serves_the_chapters(lab):
    url, token = lab
    assert "version" in get(url, "/api", token)
    names = {item["name"] for item in get(url, "/api/contents", token)["content"]}
    assert {p.name for p in (ROOT / "chapters").glob("*.ipynb")} <= names, "make lab opens the chapters folder"


def test_the_myst_renderer_is_installed_and_enabled(lab):
    url, token = lab
    extensions = {e["name"]: e for e in get(url, "/lab/api/extensions", token)}
    assert "jupyterlab-myst" in extensions, sorted(extensions)
    myst = extensions["jupyterlab-myst"]
    assert myst["installed"] and myst["enabled"], "jupyterlab-myst is installed but disabled"
    assert myst["status"] == "ok", myst


def test_the_myst_renderer_is_compatible_with_this_jupyterlab():
    """`jupyter labextension list` marks an extension built for another JupyterLab with X."""
    listing = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                             env={**os.environ, "NO_COLOR": "1"})
    text = listing.stdout + listing.stderr
    line = next((ln for ln in text.splitlines() if "jupyterlab-myst" in ln and "enabled" in ln), None)
    assert line, text
    assert "OK" in line and "is not compatible" not in text, text
