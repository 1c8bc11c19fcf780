"""Every chapter page in real headless Chromium, with the network cut off.

The built site is served on 127.0.0.1; every request elsewhere is blocked and recorded. On each
chapter page: the math is typeset by the site's own MathJax, every demo is visible, moving each
demo's controls changes the picture, and the console shows no error.

Needs Debian's Chromium (/usr/bin/chromium). Without it these tests skip, except under CI=true,
where .ci/run installs it and a skip would hide a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.test_site import HTML, chapter_pages

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

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
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page whose requests outside 127.0.0.1 are blocked and recorded, with console errors kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.outside, page.errors = [], []

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            return r.continue_()
        page.outside.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
    page.evaluate("() => MathJax.startup.promise")


def test_home_page_loads_offline(page, site_url):
    open_page(page, f"{site_url}/index.html")
    assert page.locator("mjx-container").count() >= 1
    assert not page.outside and not page.errors, (page.outside, page.errors)


@pytest.mark.parametrize("path", chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_renders_math_and_live_demos_offline(page, site_url, path: Path):
    open_page(page, f"{site_url}/{path.relative_to(HTML)}")

    math = page.locator("mjx-container")
    assert math.count() >= 3, "display and inline math typeset by the site's MathJax"
    assert page.locator("mjx-merror").count() == 0, "a formula failed to typeset"

    demos = page.locator(".course-demo")
    assert demos.count() >= 1
    for i in range(demos.count()):
        demo = demos.nth(i)
        demo.scroll_into_view_if_needed()
        image = demo.locator("img.course-demo-frame")
        assert image.is_visible() and image.evaluate("img => img.naturalWidth") > 0
        controls = demo.locator("[data-control]")
        assert controls.count() >= 1
        for j in range(controls.count()):
            control = controls.nth(j)
            start_src, start_png = image.get_attribute("src"), image.screenshot()
            frames = frames_by_value(control, image)
            changed = [k for k, src in frames.items() if src != start_src]
            assert changed, f"demo {i} on {path.stem}: control {j} never changes the picture"
            set_value(control, changed[0])
            assert image.screenshot() != start_png, "the picture shown must follow the control"
            set_value(control, int(control.evaluate("el => el.dataset.start")))  # test the next control from the start

    assert not page.outside, f"requests left the machine: {page.outside}"
    assert not page.errors, f"console errors: {page.errors}"


def set_value(control, k: int) -> None:
    """Move a range slider or a select to its k-th value, as a user would."""
    if control.evaluate("el => el.tagName") == "SELECT":
        control.select_option(index=k)
    else:
        control.fill(str(k))


def frames_by_value(control, image) -> dict[int, str]:
    """The frame shown for each value of one control (the others left where they are)."""
    if control.evaluate("el => el.tagName") == "SELECT":
        n = control.locator("option").count()
    else:
        n = int(control.get_attribute("max")) + 1
    start = int(control.input_value())
    control.evaluate(f"el => {{ el.dataset.start = '{start}'; }}")
    frames = {}
    for k in range(n):
        set_value(control, k)
        frames[k] = image.get_attribute("src")
    set_value(control, start)
    return frames
