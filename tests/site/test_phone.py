"""The site on a phone (390 px) in headless Chromium: navigation opens and reaches every page,
nothing overflows sideways without its own scroll container, and every demo frame is shown at
most at its natural width (frames are rendered for 2x screens, so never upscaled)."""

from __future__ import annotations

import pytest

from tests.site.site_pages import book_pages, resize
from tests.site.test_browser import browser, open_page, site_url, tab  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

VISIBLE = "(el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; }"


def test_phone_navigation_opens_and_reaches_every_page(tab, site_url):  # noqa: F811
    resize(tab, 390, 844, mobile=True)
    open_page(tab, f"{site_url}/intro.html")
    for toggle, dialog in (("primary-toggle", "pst-primary-sidebar-modal"),
                           ("secondary-toggle", "pst-secondary-sidebar-modal")):
        clicked = tab.js(f"(() => {{ const visible = {VISIBLE};"
                         f" const b = [...document.querySelectorAll('.{toggle}')].find(visible);"
                         " if (!b) return false; b.click(); return true; })()")
        assert clicked, f"no visible .{toggle} button at 390 px"
        assert tab.js(f"document.getElementById('{dialog}').open"), f"{toggle} does not open its panel"
        if dialog == "pst-primary-sidebar-modal":
            links = tab.js(f"[...document.querySelectorAll('#{dialog} a')].filter({VISIBLE})"
                           ".map(a => new URL(a.href).pathname.replace(/^\\//, ''))")
            missing = [p for p in book_pages() if p not in links and p != "intro.html"]
            assert not missing, f"the phone menu does not reach {missing}"
        tab.js(f"document.getElementById('{dialog}').close()")


OVERFLOW = """(() => {
  const W = document.documentElement.clientWidth, bad = [];
  for (const el of document.querySelectorAll('.bd-article *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 1 || el.closest('mjx-assistive-mml')) continue;  // MathJax's hidden copy for screen readers
    let a = el.parentElement, contained = false;
    while (a && a !== document.body) {
      // a scroll container, not one that clips (overflow: hidden cuts the math off unreadably)
      if (/auto|scroll/.test(getComputedStyle(a).overflowX) && a.getBoundingClientRect().right <= W + 1) { contained = true; break; }
      a = a.parentElement;
    }
    if (!contained) bad.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
  }
  return bad;
})()"""


@pytest.mark.parametrize("page", book_pages())
def test_nothing_overflows_a_phone_screen_without_its_own_scroll_container(tab, site_url, page):  # noqa: F811
    resize(tab, 390, 844, mobile=True)
    open_page(tab, f"{site_url}/{page}")
    bad = tab.js(OVERFLOW)
    assert not bad, f"{page}: overflowing sideways with no scroll container: {bad[:8]}"


FRAMES = """[...document.querySelectorAll('.course-demo img')].map(img => ({
  natural: img.naturalWidth, shown: img.getBoundingClientRect().width * devicePixelRatio,
  css: Number(img.getAttribute('width')), src: img.className}))"""


@pytest.mark.parametrize("width", [1366, 390])
def test_demo_frames_are_never_upscaled(tab, site_url, width):  # noqa: F811
    resize(tab, width, 900, mobile=width < 960)
    for page in book_pages():
        open_page(tab, f"{site_url}/{page}")
        for img in tab.js(FRAMES):
            assert img["natural"] >= img["shown"] > 0, f"{page} at {width} px: {img}"
            assert img["natural"] >= 2 * img["css"], f"{page}: frames are rendered for 2x screens: {img}"


def api_pages() -> list[str]:
    from tests.site.test_site import HTML

    return sorted(str(p.relative_to(HTML)) for p in (HTML / "reference" / "api").glob("*.html"))


@pytest.mark.parametrize("page", api_pages())
def test_no_api_page_scrolls_sideways_on_a_phone(tab, site_url, page):  # noqa: F811
    """Long signatures wrap (the API pages load MathJax only when a docstring has a formula)."""
    resize(tab, 390, 844, mobile=True)
    tab.goto(f"{site_url}/{page}")
    tab.js("new Promise(ok => { const t0 = Date.now(); (function poll() { if (document.readyState === 'complete'"
           " && (!window.MathJax || !MathJax.startup || !MathJax.startup.promise || Date.now() - t0 > 5000)) ok();"
           " else if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(ok);"
           " else setTimeout(poll, 50); })(); })")
    bad = tab.js(OVERFLOW)
    assert not bad, f"{page}: overflowing sideways with no scroll container: {bad[:8]}"
