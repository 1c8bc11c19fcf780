"""The exercise object and its verdict: `Exercise`, `Result`, `Note`, `Wrong`, `NotAttempted`.

`Exercise.check` runs a checker and turns whatever happens into a `Result`; the sentence of a
named bug travels in `Result.bug`. Labels name the exercise (`<chapter>-<slug>`); a renamed one
keeps its old label in `formerly`, and `renamed_labels()` gives the site the map {old: new} so
that a learner's saved progress follows the rename.
"""

from __future__ import annotations

import html
import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["EXERCISES", "Exercise", "Note", "NotAttempted", "Result", "Wrong", "renamed_labels"]

EXERCISES: dict[str, Exercise] = {}  # every Exercise by label, book-wide
_FORMERLY: dict[str, str] = {}  # old label -> new label
_WHERE: dict[str, tuple[str, int]] = {}  # label -> (module, line) of its definition, to allow a reload
_NOTES: list[str] = []  # remarks from `call` (an in-place edit) added to a Wrong during one check
_NAMED: list[str] = []  # the bug sentences named (raised) during one check, in order
_LABEL = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class Wrong(Exception):
    """Raised by a checker with the sentence the learner should read.

    `bug=True` (or `bug="the sentence"`) marks the message as the diagnosis of a known mistake:
    `Result.bug` then carries that sentence, even when an outer checker wraps the message ("with
    B=3: ..."). `size_bound` marks a crash or a wrong shape: after an earlier case passed, that
    points at a hard-coded size.
    """

    size_bound = False

    def __init__(self, message: object = "", *, bug: bool | str = False):
        super().__init__(message)
        self.bug = (str(message) if bug is True else bug) or None
        if self.bug:
            _NAMED.append(self.bug)


class NotAttempted(Exception):
    """Raised when the answer is still the placeholder `...`."""


# ---------------------------------------------------------------- what the learner sees
# A status badge is white text on its own dark background: readable (WCAG AA, >= 4.5:1) on a light
# page and on a dark one alike; the message itself inherits the page's text colour.
_STYLE = {
    "correct": ("#1a7f37", "Correct"),
    "incorrect": ("#a04d00", "Not quite"),
    "not attempted": ("#555555", "Not attempted yet"),
    "error": ("#b00020", "Could not check"),
}


@dataclass(frozen=True)
class Result:
    """The verdict on one answer: status is "correct", "incorrect", "not attempted" or "error".

    `bug` is the sentence of the known mistake the checker named (None when it named none).
    """

    status: str
    message: str
    label: str = ""
    bug: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return f"{_STYLE[self.status][1]}: {self.message}"

    def _repr_html_(self) -> str:
        color, head = _STYLE[self.status]
        slug = self.status.replace(" ", "-")
        return (f'<div class="exercise-result exercise-{slug}" data-exercise="{html.escape(self.label)}" '
                f'data-status="{self.status}" role="status" style="border-left:4px solid {color};padding:4px 10px">'
                f'<strong class="exercise-status" style="background:{color};color:#ffffff;padding:0 0.4em;'
                f'border-radius:3px">{head}</strong> {html.escape(self.message)}</div>')


@dataclass(frozen=True)
class Note:
    """A hint or a solution: text, optional code and why; `folded` shows it inside a <details>.

    A folded note (the solution) carries `data-exercise="<label>"` so the site can keep it closed
    until that exercise has been checked once.
    """

    title: str
    text: str
    code: str = ""
    why: str = ""
    folded: bool = False
    label: str = ""

    def __repr__(self) -> str:
        parts = [f"{self.title}: {self.text}", self.code, f"Why: {self.why}" if self.why else ""]
        return "\n\n".join(p for p in parts if p)

    def _repr_html_(self) -> str:
        code = f"<pre><code>{html.escape(self.code)}</code></pre>" if self.code else ""
        why = f"<p><strong>Why:</strong> {html.escape(self.why)}</p>" if self.why else ""
        if self.folded:
            data = f' data-exercise="{html.escape(self.label)}"' if self.label else ""
            return (f'<details class="exercise-solution"{data}><summary>Show the '
                    f"{html.escape(self.title.lower())}</summary><p>{html.escape(self.text)}</p>{code}{why}</details>")
        return f'<div class="exercise-note"><strong>{html.escape(self.title)}:</strong> {html.escape(self.text)}{code}{why}</div>'


def _check_label(label: object, what: str) -> None:
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise ValueError(f"{what} is lowercase words joined by '-', such as 'attention-causal-mask'; got {label!r}")


_EXERCISE_IMPORT = re.compile(r"^from lib\.exercises\.(\w+) import ([^\n]+)$", re.M)


def checked_in(code: str) -> list[tuple[str, Exercise]]:
    """The exercises some notebook code imports and checks, in order: [(the name it checks, the exercise)].

    Reads `from lib.exercises.<chapter> import ex2, rope_offset as r` lines and keeps each name that
    the code calls `.check(` on. One scan for the book: the in-page runner lists a page's exercises
    with it, and the tests find an exercise's cell with it.
    """
    found: list[tuple[str, Exercise]] = []
    for module_name, names in _EXERCISE_IMPORT.findall(code):
        module = importlib.import_module(f"lib.exercises.{module_name}")
        for part in names.split("#")[0].strip().strip("()").split(","):
            attr, _, alias = (w.strip() for w in part.partition(" as "))
            exercise, local = getattr(module, attr, None), alias or attr
            if (isinstance(exercise, Exercise) and re.search(rf"\b{re.escape(local)}\.check\(", code)
                    and all(e is not exercise for _, e in found)):
                found.append((local, exercise))
    return found


def renamed_labels() -> dict[str, str]:
    """The old label of every renamed exercise -> its label now (for migrating saved progress)."""
    return dict(_FORMERLY)


class Exercise:
    """One exercise: a checker, hints that climb, and a solution (folded) with a short why.

    `formerly` is the label the exercise had before it was renamed (saved progress is migrated
    from it); a new exercise has none.
    """

    def __init__(
        self,
        label: str,
        checker: Callable[[object], str | None],
        hints: list[str],
        solution: str,
        *,
        why: str = "",
        solution_text: str = "One way to write it:",
        formerly: str | None = None,
    ):
        _check_label(label, "an exercise label")
        if formerly is not None:
            _check_label(formerly, "`formerly`, an old exercise label,")
        frame = sys._getframe(1)
        where = (frame.f_globals.get("__name__", "?"), frame.f_lineno)
        if label in EXERCISES and _WHERE[label] != where:  # the same line again is a module reload
            raise ValueError(f"the exercise label {label!r} is already used ({_WHERE[label][0]}, line "
                             f"{_WHERE[label][1]}); labels must be unique book-wide")
        if label in _FORMERLY and _FORMERLY[label] != label:
            raise ValueError(f"the exercise label {label!r} is the former label of {_FORMERLY[label]!r}; "
                             "choose another, or saved progress would go to the wrong exercise")
        if formerly is not None:
            taken = _FORMERLY.get(formerly, label) != label or (formerly in EXERCISES and formerly != label)
            if taken:
                raise ValueError(f"the former label {formerly!r} already belongs to another exercise")
            _FORMERLY[formerly] = label
        EXERCISES[label], _WHERE[label] = self, where
        self.label, self.checker, self.hints, self.formerly = label, checker, hints, formerly
        self._solution, self._solution_text, self.why = solution, solution_text, why

    def check(self, answer: object) -> Result:
        """Check an answer; always returns a Result, never raises."""
        from lib.exercises.core import sandbox  # the sandbox imports this module

        _NOTES.clear()
        _NAMED.clear()
        if answer is Ellipsis:
            return Result("not attempted", "replace the `...` with your answer, then run the cell again.", self.label)
        try:
            message = self.checker(answer)
        except NotAttempted:
            return Result("not attempted", "your answer still holds the placeholder `...`; fill it in, then "
                          "run the cell again.", self.label)
        except Wrong as wrong:
            return self._wrong(str(wrong))
        except sandbox.Reached as reached:  # a forbidden routine reached outside `call`
            return self._wrong(sandbox.refusal(reached))
        except Exception as err:  # a checker must never crash a learner's notebook
            return Result("error", f"checking raised {type(err).__name__}: {err}. Is the answer the kind of object "
                          "the exercise asks for?", self.label)
        finally:
            sandbox.disarm()
        return Result("correct", message or "well done.", self.label)

    def _wrong(self, text: str) -> Result:
        bug = next((s for s in reversed(_NAMED) if s in text), None)
        return Result("incorrect", " ".join([text, *dict.fromkeys(_NOTES)]), self.label, bug)

    def hint(self, n: int = 1) -> Note:
        """Hint number n (1 points at the idea, the next ones at a concrete step)."""
        if not isinstance(n, int) or not 1 <= n <= len(self.hints):
            return Note("Hint", f"this exercise has hints 1 to {len(self.hints)}.")
        more = f" (ask for hint({n + 1}) if you are still stuck)" if n < len(self.hints) else ""
        return Note(f"Hint {n}", self.hints[n - 1] + more)

    def solution(self) -> Note:
        """The reference solution, folded in Jupyter (and closed on the site until a check)."""
        return Note("Solution", self._solution_text, self._solution, self.why, folded=True, label=self.label)

    def __repr__(self) -> str:
        return f"<Exercise {self.label}: check(answer), hint(), hint(2), solution()>"


def _size_bound(message: str) -> Wrong:
    wrong = Wrong(message)
    wrong.size_bound = True
    return wrong
