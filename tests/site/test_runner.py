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
from lib.exercises import Exercise, checked_in
from tests.site.test_browser import CHROMIUM, QuietHandler, local
from tests.site.test_site import HTML, chapter_pages

if not (HTML / "_static" / "course-runner.js").exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the in-page runner: build the site without COURSE_NO_RUNNER")
    pytest.skip("the site was built without the runner (COURSE_NO_RUNNER)", allow_module_level=True)

from tests.site.chromium import Chromium  # noqa: E402

pytestmark = pytest.mark.browser
PYTHON_FILES = re.compile(r"/_static/(vendor/pyodide/|course-runner/|course-runner-worker\.js|course_runner\.py)")


def all_exercises() -> dict[str, tuple[str, str, Exercise]]:
    """label -> (module, name, exercise) for every exercise of every chapter module."""
    found = {}
    for info in pkgutil.iter_modules(lib.exercises.__path__):
        module = importlib.import_module(f"lib.exercises.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, Exercise):
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
    elif checked and checked.group(1) not in defined + assigned and not defined and len(assigned) == 1:
        solution += f"\n{checked.group(1)} = {assigned[0]}"  # `answer = "B"` for a cell that checks my_prediction
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
        if cell["timing"]:  # times the machine (minutes in a single-threaded browser): declines in words
            assert "Timings are meant for Jupyter" in tab.js(f"courseRunner.cells[{i}].note.textContent")
            timed.append(i)
            continue
        code = cell["code"]
        checked = checked_in(code)  # the cell's exercise, under the name it checks
        exercise = (checked[0][1].label, checked[0][0]) if checked else None
        if exercise:
            label, name = exercise
            code = with_solution(code, name, EXERCISES[label][2]._solution)
        out = run(tab, i, code if exercise else None)
        assert out["state"] == "done", f"{path.stem}, cell {i + 1} failed in the page:\n{cell['code']}\n---\n{out['text']}"
        assert "Warning" not in out["text"], f"{path.stem}, cell {i + 1} warns in the page:\n{out['text']}"
        if re.search(r"\.hint\(", code):
            assert not tab.js(f"!!courseRunner.cells[{i}].output.querySelector('details.course-cell-folded')"), "hints unfolded"
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
    return next(i for i, c in enumerate(cells(tab))
                if c["code"] and any(e.label == label for _, e in checked_in(c["code"])))


def test_wrong_answer_figure_progress_and_reset(browser, site_url):
    """On the first chapter: a wrong answer, a figure, then progress across a reload and a reset."""
    first = chapter_pages()[0]
    url = f"{site_url}/{first.relative_to(HTML)}"
    p = Page(browser, width=390)  # a phone
    tab = p.tab
    tab.goto(url)
    tab.js("localStorage.clear()")
    ready = start(tab)
    assert ready["bytes"] < 18e6, "Python and NumPy come first; matplotlib follows in the background"
    assert "matplotlib" in tab.js("document.querySelector('.course-runner-note').textContent"), "the note names it"
    label = tab.js("JSON.parse(document.querySelector('.course-runner').dataset.exercises)[0]")
    module, name, exercise = EXERCISES[label]
    i = exercise_cell(tab, label)

    # "Run all above" runs the cells above in order; then the untouched cell is not attempted.
    tab.js(f"courseRunner.runAllAbove({i})")
    tab.js(f"courseRunner.cells[{i}].editor.dispatchEvent(new KeyboardEvent('keydown',"
           " {key: 'Enter', shiftKey: true, bubbles: true}))")  # Shift+Enter runs the cell
    assert tab.js(f"new Promise(ok => {{ const t = setInterval(() => {{ const r = courseRunner.cells[{i}].output"
                  ".querySelector('[data-status]'); if (r) { clearInterval(t); ok(r.dataset.status); } }, 50); })") == "not attempted"

    # A cell tagged reveal-after-<label> stays folded until the exercise has been checked; a solution
    # (a <details data-exercise>) asks before it opens unless an answer has been checked.
    tab.js(f"(() => {{ const c = document.createElement('div'); c.className = 'cell tag_reveal-after-{label}';"
           " c.id = 'reveal-probe'; c.innerHTML = '<p>the answer</p>'; document.querySelector('article').append(c);"
           f" const d = document.createElement('details'); d.dataset.exercise = '{label}'; d.id = 'solution-probe';"
           " d.innerHTML = '<summary>Show the solution</summary>x'; document.querySelector('article').append(d);"
           " courseRunner.renderProgress(); return 1; })()")
    assert tab.js("document.getElementById('reveal-probe').classList.contains('course-folded')")
    tab.js("window.confirm = () => false; document.querySelector('#solution-probe summary').click(); 1")
    assert not tab.js("document.getElementById('solution-probe').open"), "no attempt yet: the solution asks first"

    # A wrong answer: the checker's own diagnosis, the same sentence as in Jupyter.
    code = original = cells(tab)[i]["code"]
    argument = re.search(rf"^{name}\.check\((\w+)\)", code, re.M).group(1)
    out = run(tab, i, with_solution(code, name, f"{argument} = None"))
    expected = exercise.check(None)
    assert not expected.ok and out["state"] == "done", out["text"]
    assert out["status"] == expected.status and expected.message in out["text"], (out["text"], expected.message)
    assert tab.js(f"courseRunner.cells[{i}].status.textContent").startswith("done: Not quite"), "the verdict is announced"
    assert not tab.js("document.getElementById('reveal-probe').classList.contains('course-folded')"), "checked: revealed"
    tab.js("document.querySelector('#solution-probe summary').click(); 1")
    assert tab.js("document.getElementById('solution-probe').open"), "after a checked attempt the solution opens"
    # Phone sizes: 44 px touch targets, a 16 px editor font (no zoom on focus).
    assert tab.js(f"courseRunner.cells[{i}].root.querySelector('.course-cell-run').getBoundingClientRect().height") >= 44
    assert tab.js(f"getComputedStyle(courseRunner.cells[{i}].editor).fontSize") == "16px"

    # A never-returning function: the checker answers within its time limit (the engine's trace watchdog,
    # since the browser's Python has no SIGALRM), and the page keeps working.
    try:  # the engine's trace watchdog (lib/exercises/core/sandbox.py); before it, checks had no limit here
        from lib.exercises.core import sandbox
        limit = sandbox.TIME_LIMIT_S * sandbox.FIRST_CALL_FACTOR
    except ImportError:
        limit = None
    if limit is not None and re.match(r"\s*def ", exercise._solution):
        t0 = time.perf_counter()
        out = run(tab, i, with_solution(code, name, f"def {argument}(*args, **kwargs):\n    while True:\n        pass"))
        seconds = time.perf_counter() - t0
        assert out["state"] == "done" and out["status"] not in (None, "correct"), out["text"]
        assert seconds < limit + 5, f"answered after {seconds:.1f} s (the limit is {limit:g} s)"

    # A figure, drawn by matplotlib (fetched when a cell needs it), shown as a PNG under the cell.
    out = run(tab, i, "import matplotlib.pyplot as plt\nplt.plot([0, 1, 4, 9])\nplt.title('squares');")
    assert out["state"] == "done", out["text"]
    assert tab.js(f"courseRunner.cells[{i}].output.querySelector('img.course-out-png').naturalWidth") > 100
    assert tab.js(f"courseRunner.cells[{i}].editor.getBoundingClientRect().right") <= 390, "editors fit a phone"

    # HTML shown again by a cell (as a demo's player is) gets fresh ids, so its script drives this copy,
    # not the page's; its <script> attributes (a demo's frame data) are kept.
    page_id = tab.js("(document.querySelector('.course-demo[id]') || {}).id || null")
    if page_id:
        html = (f'<div id="{page_id}"><script type="application/json" class="course-demo-data">{{}}</script></div>'
                f'<script>document.getElementById("{page_id}").dataset.bound = "yes"</script>')
        out = run(tab, i, f"from IPython.display import HTML, display\ndisplay(HTML({html!r}))")
        assert out["state"] == "done", out["text"]
        assert tab.js(f"document.getElementById({json.dumps(page_id)}).dataset.bound") is None, "the page's demo is left alone"
        assert tab.js(f"courseRunner.cells[{i}].output.querySelector('[data-bound=yes] > script.course-demo-data') !== null")

    # A cell that never ends, here without cross-origin isolation: Stop restarts Python and says so,
    # the cell queued behind it is cancelled, and no cell counts as run any more.
    assert not tab.js("courseRunner.isolated()")
    tab.js(f"(() => {{ const e = courseRunner.cells[{i}].editor; e.value = 'while True:\\n    pass';"
           f" window.stuck = courseRunner.run({i}); window.queued = courseRunner.run(0); return 1; }})()")
    time.sleep(0.5)
    tab.js(f"window.restarting = courseRunner.stop({i}); 1")
    assert tab.js("document.querySelector('.course-runner-status').textContent").startswith("Restarting Python…")
    tab.js("Promise.all([window.stuck, window.queued]).then(() => 1)")
    assert "restarted" in tab.js(f"courseRunner.cells[{i}].output.innerText")
    assert tab.js("courseRunner.cells[0].status.textContent") == "cancelled: Python was restarted"
    tab.js("window.restarting.then(() => 1)")
    assert not tab.js("courseRunner.cells.some(c => c.runs)"), "after a restart no cell counts as run"
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


def key(tab, name: str, code: str, vk: int, modifiers: int = 0, text: str = "", commands: list | None = None) -> None:
    """A real key press (down and up) through the DevTools input domain."""
    down = {"type": "keyDown" if text else "rawKeyDown", "key": name, "code": code, "windowsVirtualKeyCode": vk,
            "modifiers": modifiers, "text": text}
    if commands:
        down["commands"] = commands
    tab.send("Input.dispatchKeyEvent", down)
    tab.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": name, "code": code, "windowsVirtualKeyCode": vk,
                                        "modifiers": modifiers})


@pytest.fixture(scope="module")
def isolated_url():
    """The site as `make serve` serves it: cross-origin isolated (COOP and COEP headers)."""
    from scripts.serve import Handler as IsolatedHandler

    handler = functools.partial(IsolatedHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_editor_keys_stop_and_code_kept_across_reload_and_navigation(browser, isolated_url):
    """One chapter under `make serve`: the editor's keys, Stop by interrupt, code kept, reset, export."""
    pages = chapter_pages()
    url = f"{isolated_url}/{pages[0].relative_to(HTML)}"
    p = Page(browser)
    tab = p.tab
    tab.goto(url)
    tab.js("localStorage.clear()")
    start(tab)
    assert tab.js("courseRunner.isolated()"), "make serve makes the page cross-origin isolated"
    free = [i for i, c in enumerate(cells(tab)) if c["code"] is not None and not c["timing"]]
    a, b = free[1], free[2]
    editor = f"courseRunner.cells[{a}].editor"

    # Tab indents a selection of lines (not replacing it), undo restores it; Shift+Tab dedents.
    code = "x = 1\ny = 2"
    tab.js(f"(() => {{ const e = {editor}; e.value = {json.dumps(code)}; e.focus(); e.setSelectionRange(0, e.value.length); }})()")
    key(tab, "Tab", "Tab", 9)
    assert tab.js(f"{editor}.value") == "    x = 1\n    y = 2"
    key(tab, "Tab", "Tab", 9, modifiers=8)  # Shift+Tab
    assert tab.js(f"{editor}.value") == code
    key(tab, "Tab", "Tab", 9)
    key(tab, "z", "KeyZ", 90, modifiers=2, commands=["undo"])  # Ctrl+Z
    assert tab.js(f"{editor}.value") == code, "undo brings the lines back as they were"
    # Enter after a colon indents the next line; Esc then Tab leaves the editor (no keyboard trap).
    tab.js(f"(() => {{ const e = {editor}; e.value = 'def f(x):'; e.setSelectionRange(9, 9); }})()")
    key(tab, "Enter", "Enter", 13, text="\r")
    assert tab.js(f"{editor}.value") == "def f(x):\n    "
    key(tab, "Escape", "Escape", 27)
    key(tab, "Tab", "Tab", 9)
    assert tab.js(f"document.activeElement !== {editor}"), "Esc then Tab moves the focus out of the editor"
    assert tab.js(f"document.querySelectorAll('.course-cell-run[aria-label=\"Run cell {a + 1}\"]').length") == 1

    # Stop ends a runaway loop within 2 s by a KeyboardInterrupt; the queued cell then runs, in the same Python.
    run(tab, a, "kept = 41")
    tab.js(f"(() => {{ const e = {editor}; e.value = 'while True:\\n    pass'; window.stuck = courseRunner.run({a});"
           f" const f = courseRunner.cells[{b}].editor; f.value = 'print(kept + 1)'; window.next = courseRunner.run({b}); }})()")
    time.sleep(1.0)
    t0 = time.perf_counter()
    tab.js(f"courseRunner.stop({a}).then(() => window.stuck).then(() => 1)")
    assert time.perf_counter() - t0 < 2.0, "Stop answers within 2 s"
    assert "KeyboardInterrupt" in tab.js(f"courseRunner.cells[{a}].output.innerText")
    assert tab.js(f"courseRunner.cells[{a}].status.textContent").startswith("stopped")
    tab.js("window.next.then(() => 1)")
    assert tab.js(f"courseRunner.cells[{b}].output.innerText").strip() == "42", "the next cell runs, variables kept"

    # The learner's code is kept (per page and cell) across a navigation and a reload, until reset.
    typed = "mine = 'kept across a reload'"
    tab.js(f"(() => {{ const e = {editor}; e.value = {json.dumps(typed)}; e.dispatchEvent(new Event('input'));"
           " e.dispatchEvent(new Event('blur')); })()")
    page_key = tab.js("document.querySelector('.course-runner').dataset.page")
    stale = json.dumps({"orig": "0", "code": "stale = True"})  # saved against another edition of cell b
    tab.js(f"(() => {{ const k = 'linalg-nn-course:code:' + {json.dumps(page_key)}; const all = JSON.parse(localStorage.getItem(k));"
           f" all[{b + 1}] = {stale}; localStorage.setItem(k, JSON.stringify(all)); }})()")
    tab.goto(f"{isolated_url}/{pages[1].relative_to(HTML)}")
    tab.goto(url)
    assert "edited 2 cells" in tab.js("document.querySelector('.course-runner-status').textContent")
    start(tab)
    assert tab.js(f"{editor}.value") == typed, "the edited cell comes back after a navigation"
    original_b = tab.js(f"courseRunner.cells[{b}].code")
    assert tab.js(f"courseRunner.cells[{b}].editor.value") == original_b, "code saved for another edition is not restored"
    exported = tab.js("courseRunner.exportAll()")
    assert exported["code"][page_key][str(a + 1)]["code"] == typed
    tab.js(f"window.confirm = () => true; courseRunner.cells[{a}].reset.click(); 1")
    assert tab.js(f"{editor}.value") == tab.js(f"courseRunner.cells[{a}].code"), "reset puts the book's code back"
    tab.js("localStorage.clear()")
    tab.js(f"courseRunner.importAll({json.dumps(exported)}); 1")
    assert tab.js(f"{editor}.value") == typed, "import brings the code back"
    assert not tab.blocked and not tab.errors, (tab.blocked, tab.errors)
    tab.close()


def test_opened_from_disk_the_page_says_how_to_serve_it(browser):
    p = Page(browser)
    tab = p.tab
    tab.allow = lambda u: u.startswith("file:") or local(u)
    url = (HTML / chapter_pages()[0].relative_to(HTML)).as_uri()
    tab.goto(url)
    tab.js("document.querySelector('.course-runner-start').click(); 1")
    text = tab.js("document.querySelector('.course-runner').innerText")
    assert "python3 -m http.server -d _build/html" in text and "make serve" in text, text
    assert "Failed to construct" not in text and "origin 'null'" not in text, text
    assert not tab.errors, tab.errors
    tab.close()
