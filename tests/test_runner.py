"""The in-page runner ("Run the code in your browser") in headless Chromium, network cut off.

On every chapter page: before the click nothing of Python is fetched; after it Python comes from
the site only (no request leaves 127.0.0.1, no console error); every code cell of the page runs
in order in the page's Python without an error (except the cells tagged machine-dependent, which
time the computer and take minutes in a single-threaded browser), and each exercise, with its own solution typed
into its cell, gets "Correct" from its checker: all exercises of the course, taken from
`lib.exercises`. Then: a wrong answer shows the checker's diagnosis, a matplotlib cell shows its
figure, progress survives a reload and resets on request. One Pyodide load per page.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import json
import os
import pkgutil
import re
import threading
import time
from pathlib import Path

import pytest

import lib.exercises
from lib.exercises import Exercise
from tests.test_browser import CHROMIUM, QuietHandler, local
from tests.test_site import HTML, chapter_pages

if not (HTML / "_static" / "course-runner.js").exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the in-page runner: build the site without COURSE_NO_RUNNER")
    pytest.skip("the site was built without the runner (COURSE_NO_RUNNER)", allow_module_level=True)

from tests.chromium import Chromium  # noqa: E402

pytestmark = pytest.mark.browser
PYTHON_FILES = re.compile(r"/_static/(vendor/pyodide/|course-runner/|course-runner-worker\.js|course_runner\.py)")


def all_exercises() -> dict[str, tuple[str, str, Exercise]]:
    """label -> (module, name, exercise) for every exercise of every chapter module."""
    found = {}
    for info in pkgutil.iter_modules(lib.exercises.__path__):
        module = importlib.import_module(f"lib.exercises.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, Exercise) and re.fullmatch(r"ex\d+", name):
                found[obj.label] = (info.name, name, obj)
    return found


EXERCISES = all_exercises()


def with_solution(code: str, name: str, solution: str) -> str:
    """The cell as a learner who solved it would leave it: the solution just before `exN.check(`.

    When the cell checks a function under another name than the solution's (`linear_backward_mine`
    for `linear_backward`), that name is bound to the solution's function, as the learner's would be.
    """
    lines = code.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}.check("))
    checked = re.match(rf"{name}\.check\((\w+)\)", lines[at])
    defined = re.findall(r"^def (\w+)", solution, re.M)
    assigned = re.findall(r"^(\w+)\s*=", solution, re.M)
    if checked and checked.group(1) not in defined + assigned and len(defined) == 1:
        solution += f"\n{checked.group(1)} = {defined[0]}"
    return "\n".join([*lines[:at], solution, *lines[at:]])


@pytest.fixture(scope="module")
def site_url():
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with Chromium(CHROMIUM, timeout=180) as b:
        yield b


class Page:
    """A tab that records every request (and blocks those off 127.0.0.1)."""

    def __init__(self, browser, width: int = 1280):
        self.requests: list[str] = []
        self.tab = browser.new_tab(allow=self.allow, width=width)

    def allow(self, url: str) -> bool:
        self.requests.append(url)
        return local(url)

    def python_requests(self) -> list[str]:
        return [u for u in self.requests if PYTHON_FILES.search(u)]


@pytest.fixture
def page(browser):
    p = Page(browser)
    yield p
    p.tab.close()


def start(tab) -> dict:
    return tab.js("courseRunner.start().then(r => ({bytes: r.bytes}))")


def cells(tab) -> list[dict]:
    return tab.js("courseRunner.cells.map(c => ({code: c.editor ? c.editor.value : null,"
                  " timing: c.root.classList.contains('tag_machine-dependent')}))")


def run(tab, i: int, code: str | None = None) -> dict:
    """Type `code` into cell i (if given), run it, and return its state and output text."""
    if code is not None:
        tab.js(f"(() => {{ const e = courseRunner.cells[{i}].editor; e.value = {json.dumps(code)};"
               " e.dispatchEvent(new Event('input')); })()")
    return tab.js(f"courseRunner.run({i}).then(() => {{ const c = courseRunner.cells[{i}];"
                  " const r = c.output.querySelector('[data-exercise][data-status]');"
                  " return {state: c.root.dataset.state, text: c.output.innerText,"
                  " status: r && r.dataset.status, label: r && r.dataset.exercise}; })")


timings: dict[str, float] = {}


@pytest.mark.parametrize("path", chapter_pages(), ids=lambda p: p.stem)
def test_every_cell_runs_and_every_exercise_passes_in_the_page(page, site_url, path: Path):
    t0 = time.perf_counter()
    tab = page.tab
    tab.goto(f"{site_url}/{path.relative_to(HTML)}")
    labels = tab.js("JSON.parse(document.querySelector('.course-runner').dataset.exercises)")
    assert not page.python_requests(), "a page must fetch no Python before the click"
    start(tab)

    solved, timed = [], []
    for i, cell in enumerate(cells(tab)):
        if cell["code"] is None:  # a demo cell: its player is live already
            continue
        if cell["timing"]:  # times the machine (minutes in a single-threaded browser): not run here
            timed.append(i)
            continue
        code = cell["code"]
        exercise = next(((label, name) for label, (module, name, _) in EXERCISES.items()
                         if f"lib.exercises.{module} import" in code and re.search(rf"^{name}\.check\(", code, re.M)), None)
        if exercise:
            label, name = exercise
            code = with_solution(code, name, EXERCISES[label][2]._solution)
        out = run(tab, i, code if exercise else None)
        assert out["state"] == "done", f"{path.stem}, cell {i + 1} failed in the page:\n{cell['code']}\n---\n{out['text']}"
        if exercise:
            assert (out["label"], out["status"]) == (exercise[0], "correct"), f"{exercise[0]}: its own solution gets\n{out['text']}"
            solved.append(exercise[0])

    assert sorted(solved) == sorted(labels), "every exercise the page lists was solved in the page"
    assert not page.tab.blocked, f"requests left the machine: {page.tab.blocked}"
    assert not page.tab.errors, f"console errors: {page.tab.errors}"
    timings[path.stem] = time.perf_counter() - t0


def test_every_exercise_of_the_course_is_on_a_page():
    listed = []
    for path in chapter_pages():
        text = path.read_text()
        found = re.search(r'class="course-runner"[^>]*data-exercises="([^"]*)"', text)
        assert found, f"{path.stem} has no run control"
        listed += json.loads(found.group(1).replace("&quot;", '"'))
    assert sorted(listed) == sorted(EXERCISES), "the pages list exactly the exercises of lib.exercises"


def exercise_cell(tab, label: str) -> int:
    module, name, _ = EXERCISES[label]
    return next(i for i, c in enumerate(cells(tab)) if c["code"] and f"lib.exercises.{module} import" in c["code"]
                and re.search(rf"^{name}\.check\(", c["code"], re.M))


def test_wrong_answer_figure_progress_and_reset(browser, site_url):
    """On the first chapter: a wrong answer, a figure, then progress across a reload and a reset."""
    first = chapter_pages()[0]
    url = f"{site_url}/{first.relative_to(HTML)}"
    p = Page(browser, width=390)  # a phone
    tab = p.tab
    tab.goto(url)
    tab.js("localStorage.clear()")
    start(tab)
    assert not [u for u in p.requests if "matplotlib-" in u], "matplotlib waits until a cell needs it"
    label = tab.js("JSON.parse(document.querySelector('.course-runner').dataset.exercises)[0]")
    module, name, exercise = EXERCISES[label]
    i = exercise_cell(tab, label)

    # "Run all above" runs the cells above in order; then the untouched cell is not attempted.
    tab.js(f"courseRunner.runAllAbove({i})")
    tab.js(f"courseRunner.cells[{i}].editor.dispatchEvent(new KeyboardEvent('keydown',"
           " {key: 'Enter', shiftKey: true, bubbles: true}))")  # Shift+Enter runs the cell
    assert tab.js(f"new Promise(ok => {{ const t = setInterval(() => {{ const r = courseRunner.cells[{i}].output"
                  ".querySelector('[data-status]'); if (r) { clearInterval(t); ok(r.dataset.status); } }, 50); })") == "not attempted"

    # A wrong answer: the checker's own diagnosis, the same sentence as in Jupyter.
    code = original = cells(tab)[i]["code"]
    argument = re.search(rf"^{name}\.check\((\w+)\)", code, re.M).group(1)
    out = run(tab, i, with_solution(code, name, f"{argument} = None"))
    expected = exercise.check(None)
    assert not expected.ok and out["state"] == "done", out["text"]
    assert out["status"] == expected.status and expected.message in out["text"], (out["text"], expected.message)

    # A figure, drawn by matplotlib (fetched when a cell needs it), shown as a PNG under the cell.
    out = run(tab, i, "import matplotlib.pyplot as plt\nplt.plot([0, 1, 4, 9])\nplt.title('squares');")
    assert out["state"] == "done", out["text"]
    assert tab.js(f"courseRunner.cells[{i}].output.querySelector('img.course-out-png').naturalWidth") > 100
    assert tab.js(f"courseRunner.cells[{i}].editor.getBoundingClientRect().right") <= 390, "editors fit a phone"

    # A cell that never ends: "Restart Python" stops it; after "Run all above" the page works again.
    tab.js(f"(() => {{ const e = courseRunner.cells[{i}].editor; e.value = 'while True:\\n    pass';"
           f" window.stuck = courseRunner.run({i}); return 1; }})()")
    tab.js("courseRunner.restart().then(() => 1)")
    tab.js("window.stuck.then(() => 1)")
    assert "restarted" in tab.js(f"courseRunner.cells[{i}].output.innerText")
    tab.js(f"courseRunner.runAllAbove({i})")

    # Progress: the solved exercise is remembered across a reload; the intro counts it; reset clears it.
    out = run(tab, i, with_solution(original, name, exercise._solution))
    assert out["status"] == "correct", out["text"]
    tab.goto(url)
    assert tab.js("document.querySelector('.course-progress').dataset.done") == "1"
    assert re.match(r"1 of \d+ exercises? done", tab.js("document.querySelector('.course-progress').innerText"))
    tab.goto(f"{site_url}/intro.html")
    assert tab.js("document.querySelector('.course-progress-total').dataset.done") == "1"
    assert f"of {len(EXERCISES)} exercises done" in tab.js("document.querySelector('.course-progress-total').innerText")
    tab.js("window.confirm = () => true; document.querySelector('.course-progress-reset').click()")
    assert tab.js("document.querySelector('.course-progress-total').dataset.done") == "0"
    tab.goto(url)
    assert tab.js("document.querySelector('.course-progress').dataset.done") == "0"
    assert not tab.blocked and not tab.errors, (tab.blocked, tab.errors)
    tab.close()


def test_report_time():
    """Not a check: prints how long each page took (one Pyodide load per page)."""
    if timings:
        print("\nrunner test, seconds per page:", {k: round(v, 1) for k, v in timings.items()},
              f"total {sum(timings.values()):.0f} s")
