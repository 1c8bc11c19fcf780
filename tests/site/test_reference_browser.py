"""The Reference pages in headless Chromium, offline: no console error, math typeset, and the index
of exercises marks the exercises that this browser's progress record says are passed.

Skips without /usr/bin/chromium or a built site (like tests/site/test_browser.py, whose pattern it follows).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.site.test_browser import browser, site_url, tab  # noqa: F401  (fixtures)
from tests.site.test_site import HTML

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROGRESS_KEY = "linalg-nn-course:progress"  # the key the in-page runner stores passed exercises under

if not CHROMIUM or not (HTML / "reference" / "exercises.html").exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: install chromium and run `make book` first")
    pytest.skip("needs /usr/bin/chromium and a built site", allow_module_level=True)

pytestmark = pytest.mark.browser


def wait_for_math(tab) -> None:  # noqa: F811
    """Wait until MathJax has typeset the page, on pages that load it (those with math)."""
    if not tab.js("!!document.querySelector('script[src*=\"mathjax\"]')"):
        return
    tab.js("new Promise((ok, fail) => { const t0 = Date.now(); (function poll() {"
           " if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(ok);"
           " else if (Date.now() - t0 > 20000) fail(new Error('MathJax never started'));"
           " else setTimeout(poll, 50); })(); })")


@pytest.mark.parametrize("page", ["notation", "glossary", "concept-map", "api", "exercises", "api/lib.linear"])
def test_reference_pages_load_offline_without_errors(tab, site_url, page):  # noqa: F811
    tab.goto(f"{site_url}/reference/{page}.html")
    wait_for_math(tab)
    assert tab.js("document.querySelectorAll('mjx-merror').length") == 0, "a formula failed to typeset"
    assert not tab.blocked and not tab.errors, (tab.blocked, tab.errors)


def test_the_index_of_exercises_marks_passed_exercises(tab, site_url):  # noqa: F811
    url = f"{site_url}/reference/exercises.html"
    tab.goto(url)
    rows = tab.js("document.querySelectorAll('.exercise-index tbody tr').length")
    assert rows >= 30
    assert tab.js("document.querySelectorAll('.exercise-tick').length") == 0, "nothing passed yet, nothing marked"
    assert tab.js("document.querySelector('.exercise-index-progress')") is None
    labels = tab.js("[...document.querySelectorAll('.exercise-index tbody tr')]"  # each row's first link: its exercise
                    ".map(tr => decodeURIComponent(tr.querySelector('a[href*=\"#\"]').hash.slice(1)))")
    assert len(labels) == rows and len(set(labels)) == rows
    passed = {labels[0]: "2026-01-01T00:00:00Z", labels[-1]: "2026-01-02T00:00:00Z"}
    tab.js(f"localStorage.setItem({json.dumps(PROGRESS_KEY)}, {json.dumps(json.dumps(passed))})")
    try:
        tab.goto(url)
        marked = tab.js("[...document.querySelectorAll('tr.exercise-passed')].map(r => r.dataset.exercise)")
        assert sorted(marked) == sorted(passed)
        assert tab.js("document.querySelectorAll('.exercise-tick').length") == 2
        note = tab.js("document.querySelector('.exercise-index-progress').textContent")
        assert note == f"\u2713 marks the 2 of {rows} exercises you have passed in this browser."
        assert not tab.errors, tab.errors
    finally:
        tab.js("localStorage.clear()")
