"""axe-core against every page of the book, in the light and the dark theme, in headless Chromium;
and against a chapter after the in-page runner has run cells and checked an exercise.

axe-core is fetched from the npm registry at test time (pinned version, checked against the
registry's sha512 integrity) into _build/vendor/, the way the build serves MathJax from a pinned
package; it is injected into each page, never shipped with the site.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request

import pytest

from tests.site.site_pages import book_pages
from tests.site.test_browser import browser, open_page, site_url, tab  # noqa: F401  (fixtures)
from tests.site.test_site import ROOT

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
AXE_SHA512 = "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_TGZ = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"


@pytest.fixture(scope="module")
def axe_source() -> str:
    cache = ROOT / "_build" / "vendor" / f"axe-core-{AXE_VERSION}.tgz"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(AXE_TGZ, timeout=60) as reply:
            cache.write_bytes(reply.read())
    data = cache.read_bytes()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != AXE_SHA512:
        cache.unlink()
        raise AssertionError(f"axe-core {AXE_VERSION}: sha512 {digest} is not the pinned {AXE_SHA512}")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.extractfile("package/axe.min.js").read().decode()


RUN = """axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + n.failureSummary.slice(0, 160))})))"""


DARK = ("document.documentElement.dataset.mode = 'dark'; document.documentElement.dataset.theme = 'dark';"
        "new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(ok))).then(() => Promise.race(["
        "Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))),"
        "new Promise(ok => setTimeout(ok, 2000))]))")


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("page", book_pages())
def test_no_serious_or_critical_axe_violations(tab, site_url, axe_source, page, mode):  # noqa: F811
    open_page(tab, f"{site_url}/{page}")
    if mode == "dark":
        # the theme's buttons fade their colours (CSS transitions, 0.15 s): wait until every transition
        # has finished, or axe measures a colour half-way between the light and the dark theme
        tab.js(DARK)
    tab.js(axe_source + "; true")
    violations = tab.js(RUN)
    assert not violations, f"{page} ({mode}): " + json.dumps(violations, indent=1)


def test_no_serious_or_critical_axe_violations_after_running_cells(tab, site_url, axe_source):  # noqa: F811
    """The first chapter with the runner on: cells run (stdout, stderr, an error, a long output), an
    exercise checked with a wrong answer, then axe in the light and the dark theme."""
    from tests.site.test_site import HTML, chapter_pages
    if not (HTML / "_static" / "course-runner.js").exists():
        pytest.skip("the site was built without the runner")
    open_page(tab, f"{site_url}/{chapter_pages()[0].relative_to(HTML)}")
    tab.js("localStorage.clear(); courseRunner.start().then(() => 1)")
    i = tab.js("courseRunner.cells.findIndex(c => c.editor && /\\bex\\w*\\.check\\(/.test(c.code))")
    assert i > 0
    tab.js(f"courseRunner.runAllAbove({i}).then(() => courseRunner.run({i})).then(() => 1)")  # "Not attempted yet"
    assert tab.js(f"courseRunner.cells[{i}].status.textContent").startswith("done: Not attempted")
    j = tab.js(f"courseRunner.cells.findIndex((c, k) => k > {i} && c.editor)")
    code = "import sys\nprint('\\n'.join(map(str, range(3000))))\nprint('a warning', file=sys.stderr)\n1 / 0"
    tab.js(f"(() => {{ courseRunner.cells[{j}].editor.value = {json.dumps(code)}; return courseRunner.run({j}).then(() => 1); }})()")
    assert tab.js(f"courseRunner.cells[{j}].output.querySelector('pre').scrollHeight") > \
        tab.js(f"courseRunner.cells[{j}].output.querySelector('pre').clientHeight"), "a long output scrolls in its box"
    tab.js(axe_source + "; true")
    for mode in ("light", "dark"):
        if mode == "dark":
            tab.js(DARK)
        violations = tab.js(RUN)
        assert not violations, f"after running cells ({mode}): " + json.dumps(violations, indent=1)
