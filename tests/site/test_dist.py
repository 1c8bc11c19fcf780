"""The offline edition (`make dist`): unpacked into an empty folder and started with its launcher.

The zip is unpacked into a temporary folder; `serve.py` is started there as a learner would
(`python3 serve.py`, with --no-browser and a free port); headless Chromium, with every request
off 127.0.0.1 blocked, opens the pages it serves: math typeset, no console error, no request out,
the page cross-origin isolated (so Stop can interrupt Python), and one exercise checked by the
in-page Python. Without Chromium or a built zip these tests skip, except under CI=true.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.site.chromium import CHROMIUM, Chromium, local

ROOT = Path(__file__).resolve().parents[2]
ZIP = ROOT / "_build" / "dist" / "linear-algebra-nn-course.zip"

if not ZIP.exists() or not CHROMIUM:
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the offline edition: run `make dist` and install chromium first")
    pytest.skip("run `make dist` first (and install chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("offline")
    with zipfile.ZipFile(ZIP) as z:
        z.extractall(folder)
    (top,) = folder.iterdir()
    return top


@pytest.fixture(scope="module")
def served(unpacked):
    """The launcher, started from another folder, as `python3 serve.py` would be."""
    proc = subprocess.Popen([sys.executable, str(unpacked / "serve.py"), "--port", "0", "--no-browser"],
                            cwd=unpacked.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+/index\.html", line)
    assert found, f"the launcher printed {line!r}, {proc.stderr.read() if proc.poll() is not None else ''}"
    yield found.group(0).removesuffix("index.html")
    proc.terminate()
    proc.wait(timeout=10)


def test_the_archive_holds_the_site_the_launcher_and_how_to_start(unpacked):
    assert (unpacked / "site" / "index.html").exists() and (unpacked / "serve.py").exists()
    readme = (unpacked / "README.txt").read_text()
    for system in ("Linux", "macOS", "Windows"):
        assert re.search(rf"^  {system}:.*serve\.py", readme, re.M), f"the README says how to start on {system}"
    assert list((unpacked / "site" / "downloads").glob("*.pdf")), "the PDF comes with it"
    assert not list((unpacked / "site" / "downloads").glob("*.zip")), "the archive does not hold a copy of itself"


def test_served_offline_the_pages_work_and_one_exercise_is_checked_in_the_page(served):
    with Chromium(CHROMIUM, timeout=180) as browser:
        tab = browser.new_tab(allow=local)
        tab.goto(served + "index.html", landing=served + "intro.html")
        assert tab.js("window.crossOriginIsolated") is True, "COOP/COEP sent: SharedArrayBuffer for Stop"
        tab.goto(served + "chapters/vectors.html")
        assert tab.js("(async () => { await MathJax.startup.promise;"
                      " return document.querySelectorAll('mjx-container').length; })()") > 10
        verdict = tab.js("""(async () => {
          await courseRunner.start();
          const i = courseRunner.cells.findIndex(c => c.editor && /lib\\.exercises\\./.test(c.editor.value || ""));
          await courseRunner.runAllAbove(i);
          await courseRunner.run(i);
          const r = courseRunner.cells[i].output.querySelector('[data-exercise][data-status]');
          return r ? r.dataset.status : courseRunner.cells[i].output.innerText.slice(0, 300);
        })()""")
        assert verdict == "not attempted", "the checker answered in the page (the cell still holds `...`)"
        assert not tab.blocked, f"requests left 127.0.0.1: {tab.blocked}"
        assert not tab.errors, f"console errors: {tab.errors}"
