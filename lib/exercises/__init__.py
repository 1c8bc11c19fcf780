"""Exercise checkers that answer like a patient teacher.

Each chapter has a module here (`lib.exercises.vectors`, ...) defining `ex1`, `ex2`, ... as
`Exercise` objects. In a notebook:

    from lib.exercises.vectors import ex1
    answer = ...          # the placeholder: "not attempted yet", never "wrong"
    ex1.check(answer)     # Correct / Not quite (with the reason) / Not attempted yet
    ex1.hint()            # then ex1.hint(2) for a stronger hint
    ex1.solution()

A checker never raises into the notebook: a learner's exception, a wrong type, NaN, a function
that never returns or that mutates its inputs all come back as a readable `Result`. Learner
functions are called on fresh copies of the inputs, so they cannot corrupt the reference data.
Checkers recognise classic bugs by computing what the buggy code would have returned
(`compare(..., bugs={...})`) and naming the bug in one sentence.
"""

from __future__ import annotations

import contextlib
import copy
import html
import numbers
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

TIME_LIMIT_S = 5.0


class Wrong(Exception):
    """Raised by a checker with the sentence the learner should read."""


class NotAttempted(Exception):
    """Raised when the answer is still the placeholder `...`."""


@dataclass(frozen=True)
class Result:
    status: str  # "correct", "incorrect", "not attempted" or "error"
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "correct"

    _STYLE = {
        "correct": ("#1a7f37", "Correct"),
        "incorrect": ("#b35900", "Not quite"),
        "not attempted": ("#555555", "Not attempted yet"),
        "error": ("#b00020", "Could not check"),
    }

    def __repr__(self) -> str:
        return f"{self._STYLE[self.status][1]}: {self.message}"

    def _repr_html_(self) -> str:
        color, head = self._STYLE[self.status]
        return (f'<div class="exercise-result" style="border-left:4px solid {color};padding:4px 10px">'
                f'<strong style="color:{color}">{head}:</strong> {html.escape(self.message)}</div>')


@dataclass(frozen=True)
class Note:
    """A hint or a solution: text and optional code, shown as HTML or plain text."""

    title: str
    text: str
    code: str = ""

    def __repr__(self) -> str:
        return f"{self.title}: {self.text}" + (f"\n\n{self.code}" if self.code else "")

    def _repr_html_(self) -> str:
        code = f"<pre><code>{html.escape(self.code)}</code></pre>" if self.code else ""
        return f'<div class="exercise-note"><strong>{html.escape(self.title)}:</strong> {html.escape(self.text)}{code}</div>'


class Exercise:
    """One exercise: a checker, graded hints and a solution."""

    def __init__(
        self,
        label: str,
        checker: Callable[[object], str | None],
        hints: list[str],
        solution: str,
        *,
        solution_text: str = "One way to write it:",
    ):
        self.label, self.checker, self.hints = label, checker, hints
        self._solution, self._solution_text = solution, solution_text

    def check(self, answer: object) -> Result:
        """Check an answer; always returns a Result, never raises."""
        if answer is Ellipsis:
            return Result("not attempted", "replace the `...` with your answer, then run the cell again.")
        try:
            message = self.checker(answer)
        except NotAttempted:
            return Result("not attempted", "your answer still holds the placeholder `...`; fill it in, then run the cell again.")
        except Wrong as wrong:
            return Result("incorrect", str(wrong))
        except Exception as err:  # a checker must never crash a learner's notebook
            return Result("error", f"checking raised {type(err).__name__}: {err}. Is the answer the kind of object the exercise asks for?")
        return Result("correct", message or "well done.")

    def hint(self, n: int = 1) -> Note:
        """Hint number n (1 is gentle, the last is nearly the answer)."""
        if not isinstance(n, int) or not 1 <= n <= len(self.hints):
            return Note("Hint", f"this exercise has hints 1 to {len(self.hints)}.")
        more = f" (ask for hint({n + 1}) if you are still stuck)" if n < len(self.hints) else ""
        return Note(f"Hint {n}", self.hints[n - 1] + more)

    def solution(self) -> Note:
        """The reference solution."""
        return Note("Solution", self._solution_text, self._solution)

    def __repr__(self) -> str:
        return f"<Exercise {self.label}: check(answer), hint(), hint(2), solution()>"


# ---------------------------------------------------------------- tools for writing checkers
@contextlib.contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Interrupt the body after `seconds` (default TIME_LIMIT_S; main thread on POSIX, elsewhere no limit)."""
    seconds = TIME_LIMIT_S if seconds is None else seconds
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def stop(_signum, _frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def need_function(fn: object) -> None:
    """Raise Wrong unless the learner passed a function (not its result)."""
    if not callable(fn):
        raise Wrong(f"expected a function, got {type(fn).__name__}; pass the function itself, without calling it.")


def call(fn: object, *args: object, name: str = "your function", copy_args: bool = True) -> object:
    """Call a learner's function on deep copies of `args`, with a time limit.

    Raises Wrong if it is not callable, raises, runs too long or changes its inputs in place, and
    NotAttempted if it returns the placeholder `...`. With copy_args=False the function gets the
    real arrays (for exercises that must nudge a parameter a loss reads) and the caller checks
    what it left behind.
    """
    need_function(fn)
    copies = copy.deepcopy(args) if copy_args else args
    try:
        with time_limit():
            out = fn(*copies)
    except TimeoutError:
        raise Wrong(f"{name} did not finish within {TIME_LIMIT_S:g} s; is there a loop that never ends?") from None
    except Exception as err:
        raise Wrong(f"{name} raised {type(err).__name__}: {err}") from None
    if out is Ellipsis:
        raise NotAttempted
    for i, (before, after) in enumerate(zip(args, copies, strict=True)):
        if isinstance(before, np.ndarray) and (np.shape(after) != before.shape or not np.array_equal(after, before, equal_nan=True)):
            raise Wrong(f"{name} changed its argument number {i + 1} in place; compute a new array instead "
                        "(e.g. `Y = X @ W` rather than `X[...] = ...`).")
    return out


def to_array(got: object, name: str = "your answer") -> np.ndarray:
    """Read a learner's answer as a float array, or raise Wrong saying what it is instead."""
    if got is None:
        raise Wrong(f"{name} is None; did you forget to `return` (or assign) it?")
    if isinstance(got, (str, bytes, dict, set)) or callable(got):
        raise Wrong(f"{name} should be numbers (an array), got {type(got).__name__}.")
    try:
        if np.iscomplexobj(got):
            raise Wrong(f"{name} holds complex numbers; the answer is real.")
        arr = np.asarray(got, dtype=float)
    except OverflowError:
        raise Wrong(f"{name} holds an integer too large for a float.") from None
    except (TypeError, ValueError):
        raise Wrong(f"{name} could not be read as an array of numbers (got {type(got).__name__}).") from None
    return arr


def to_number(got: object, name: str = "your answer", *, what: str = "a number") -> float:
    """Read a learner's answer as one finite real number, or raise Wrong saying what it is instead."""
    if callable(got):
        raise Wrong(f"answer with {what}, got a function; call it and use what it returns.")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (numbers.Real, np.integer, np.floating)):
        raise Wrong(f"answer with {what}, got {type(got).__name__}.")
    try:
        value = float(got)
    except OverflowError:
        raise Wrong(f"{name} is too large to be a float.") from None
    if not np.isfinite(value):
        raise Wrong(f"{name} is NaN or infinite.")
    return value


def compare(
    got: object,
    want: np.ndarray | float,
    *,
    name: str = "your answer",
    bugs: dict[str, object] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> None:
    """Raise Wrong with a one-sentence diagnosis unless `got` matches `want`.

    `bugs` maps a sentence to what a known mistake would produce (a value, or a zero-argument
    function computing it); the first one `got` matches is the diagnosis.
    """
    arr, want = to_array(got, name), np.asarray(want, dtype=float)
    if arr.shape == want.shape and np.allclose(arr, want, rtol=rtol, atol=atol):
        return
    for sentence, bug in (bugs or {}).items():
        try:
            value = np.asarray(bug() if callable(bug) else bug, dtype=float)
        except Exception:
            continue
        if value.shape == arr.shape and np.allclose(arr, value, rtol=rtol, atol=atol):
            raise Wrong(sentence)
    if arr.shape != want.shape:
        flipped = " That is the expected shape reversed: is something transposed?" if arr.shape == want.shape[::-1] and arr.ndim == 2 else ""
        raise Wrong(f"{name} has shape {arr.shape}, but the expected shape is {want.shape}.{flipped}")
    if not np.all(np.isfinite(arr)):
        raise Wrong(f"{name} contains NaN or inf; look for a division by zero or an overflow.")
    diff = np.abs(arr - want)
    where = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape)) if diff.ndim else ()
    at = f" at index {where}" if where else ""
    raise Wrong(f"{name} has the right shape {arr.shape} but different values: the largest difference is "
                f"{diff.max():.3g}{at} (got {arr[where] if where else float(arr):.4g}, expected {want[where] if where else float(want):.4g}).")
