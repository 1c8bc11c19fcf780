"""Every chapter page in real headless Chromium, with the network cut off.

The built site is served on 127.0.0.1; every request elsewhere is blocked and recorded. On each
chapter page: the math is typeset by the site's own MathJax, every demo is visible, moving each
demo's controls changes the picture, and the console shows no error.

Needs Debian's Chromium (/usr/bin/chromium), driven by tests/site/chromium.py. Without it these tests
skip, except under CI=true, where .ci/run installs it and a skip would hide a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from tests.site.chromium import CHROMIUM, Chromium, local
from tests.site.test_site import HTML, chapter_pages

if not CHROMIUM or not (HTML / "index.html").exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: install chromium and run `make book` first")
    pytest.skip("needs /usr/bin/chromium and a built site", allow_module_level=True)

pytestmark = pytest.mark.browser


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with Chromium(CHROMIUM) as b:
        yield b


@pytest.fixture
def tab(browser):
    """A tab whose requests outside 127.0.0.1 are blocked and recorded, with console errors kept."""
    t = browser.new_tab(allow=local)
    yield t
    t.close()


# Helpers installed in each page: move a control as a user would (input and change events), then
# wait until the new frame is decoded.
HELPERS = """
window.demo = (i) => document.querySelectorAll('.course-demo')[i];
window.control = (i, j) => demo(i).querySelectorAll('[data-control]')[j];
window.frame = (i) => demo(i).querySelector('img.course-demo-frame');
window.choices = (el) => el.tagName === 'SELECT' ? el.options.length : Number(el.max) + 1;
window.setControl = async (i, j, k) => {
  if (demo(i).courseDemoLoad) await demo(i).courseDemoLoad();  // frames the site fetches when needed
  const el = control(i, j);
  if (el.tagName === 'SELECT') { el.selectedIndex = k; } else { el.value = String(k); }
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
  await frame(i).decode();
  return frame(i).getAttribute('src');
};
window.framesByValue = async (i, j) => {
  const el = control(i, j), start = el.tagName === 'SELECT' ? el.selectedIndex : Number(el.value);
  const frames = [];
  for (let k = 0; k < choices(el); k++) frames.push(await setControl(i, j, k));
  await setControl(i, j, start);
  return {start, frames};
};
"""


def open_page(tab, url: str, landing: str | None = None) -> None:
    tab.goto(url, landing)
    tab.js("new Promise((ok, fail) => { const t0 = Date.now(); (function poll() {"
           " if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(ok);"
           " else if (Date.now() - t0 > 20000) fail(new Error('MathJax never started'));"
           " else setTimeout(poll, 50); })(); })")
    tab.js(HELPERS)


def test_home_page_loads_offline(tab, site_url):
    open_page(tab, f"{site_url}/index.html", landing=f"{site_url}/intro.html")  # index.html redirects
    assert tab.js("document.querySelectorAll('mjx-container').length") >= 1
    assert not tab.blocked and not tab.errors, (tab.blocked, tab.errors)


def test_blocking_works(tab, site_url):
    """The guard itself: a request to another host is refused and recorded."""
    open_page(tab, f"{site_url}/intro.html")
    tab.js("fetch('https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js').catch(() => null)")
    assert tab.blocked == ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"]


@pytest.mark.parametrize("path", chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_renders_math_and_live_demos_offline(tab, site_url, path: Path):
    open_page(tab, f"{site_url}/{path.relative_to(HTML)}")

    assert tab.js("document.querySelectorAll('mjx-container').length") >= 3, "math typeset by the site's MathJax"
    assert tab.js("document.querySelectorAll('mjx-merror').length") == 0, "a formula failed to typeset"

    n_demos = tab.js("document.querySelectorAll('.course-demo').length")
    assert n_demos >= 1
    for i in range(n_demos):
        assert tab.js(f"frame({i}).naturalWidth > 0 && frame({i}).getBoundingClientRect().height > 0"), f"demo {i} is not visible"
        n_controls = tab.js(f"demo({i}).querySelectorAll('[data-control]').length")
        assert n_controls >= 1
        for j in range(n_controls):
            before = tab.screenshot(f"frame({i})")
            seen = tab.js(f"framesByValue({i}, {j})")
            changed = [k for k, src in enumerate(seen["frames"]) if src != seen["frames"][seen["start"]]]
            assert changed, f"demo {i} on {path.stem}: control {j} never changes the picture"
            tab.js(f"setControl({i}, {j}, {changed[0]})")
            assert tab.screenshot(f"frame({i})") != before, "the picture shown must follow the control"
            tab.js(f"setControl({i}, {j}, {seen['start']})")  # test the next control from the start

    assert not tab.blocked, f"requests left the machine: {tab.blocked}"
    assert not tab.errors, f"console errors: {tab.errors}"
