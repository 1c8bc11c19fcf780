"""Exercise checkers that answer like a patient teacher.

Each chapter has a module here (`lib.exercises.vectors`, ...) defining `ex1`, `ex2`, ... as
`Exercise` objects. In a notebook:

    from lib.exercises.vectors import ex1
    answer = ...          # the placeholder: "not attempted yet", never "wrong"
    ex1.check(answer)     # Correct / Not quite (with the reason) / Not attempted yet
    ex1.hint()            # then ex1.hint(2) for a stronger hint
    ex1.solution()        # folded (a <details>) in Jupyter, so Run All spoils nothing

A checker never raises into the notebook: a learner's exception, a wrong type, NaN or a function
that never returns all come back as a readable `Result`. Learner functions get deep copies of
their inputs, so they cannot corrupt the reference data; editing those copies in place is allowed
unless the exercise says otherwise (`forbid_inplace=True`).

For checker authors
-------------------
A checker takes the learner's answer and returns a sentence of praise, or raises `Wrong` with a
sentence saying what to change. The tools:

- `compare(got, want, bugs=...)`: arrays and numbers. Any real dtype, list, tuple, NumPy scalar or
  0-d array; the tolerance follows the answer's precision (float32 is judged as float32) and the
  scale of `want`. `bugs` maps a sentence to what that mistake returns (a value or a zero-argument
  function); a bug is named only when the answer matches it as tightly as it would have to match
  the right answer, never when that value is also right, and "Either ... Or ..." when several fit.
- `compare_count(got, want, bugs=...)`: a whole number (16, 16.0, np.int64(16), np.array(16)).
- `compare_units(got, want, "bytes", bugs=...)`: a quantity; an answer in MB, MiB, kB, bits ...
  is recognised and told which unit to use. `compare_choice(got, options, want)`: one of a few
  words, case-insensitive unless the options differ only by case.
- `check_function(fn, reference, cases, bugs=...)`: a function tried on every case (`cases(...)`
  builds them from sizes and demands two values of every size), with bugs computed per case.
- `check_rng(fn, args)`: an rng-taking function is reproducible from the rng it is given and
  ignores NumPy's global state.
- `refuse_lib(fn, {"lib.svd.reconstruct": svd.reconstruct})`: the course's own function, handed in
  or called by name, is not an answer. `not_applicable()` in a bug's function: that bug does not
  apply to this case.
- `call`, `to_array`, `to_number`, `need_function`, `time_limit` for hand-written checks.

A declarative checker, whole:

    def _reference(X, W, b):
        return X @ W + b                       # X (B, D_in), W (D_in, D_out), b (D_out,) -> (B, D_out)

    _CASES = cases(lambda B, D_in, D_out, rng: (rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)),
                                                rng.normal(size=D_out)),
                   dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=5, D_out=2), dict(B=1, D_in=2, D_out=6))

    def _check_forward(fn):
        check_function(fn, _reference, _CASES, name="your linear_forward", bugs={
            "the bias is missing: add b after the product.": lambda X, W, b: X @ W,
            "W is used transposed: it is already (D_in, D_out), so multiply X @ W.": lambda X, W, b: X @ W.T + b,
        })
        return "X @ W + b, with b broadcast over the batch, for every shape."

    ex3 = Exercise("linear-layer-ex3", _check_forward,
                   ["Write the shapes: (B, D_in) @ (D_in, D_out) -> ?", "Which of the three has shape (D_out,)?"],
                   "def linear_forward(X, W, b):\\n    return X @ W + b",
                   why="b has one entry per output column, so NumPy adds it to every row.")

Labels are "<notebook name>-ex<N>" and unique book-wide (`EXERCISES` holds them all); the HTML of
a `Result` carries `data-exercise` and `data-status` for the browser runner.
"""

from __future__ import annotations

import contextlib
import copy
import html
import inspect
import numbers
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

try:  # Pyodide has no usable SIGALRM: then time_limit() sets no limit
    import signal
except ImportError:  # pragma: no cover
    signal = None  # type: ignore[assignment]

__all__ = [
    "BYTE_UNITS", "EXERCISES", "FLOP_UNITS", "TIME_UNITS", "Case", "Exercise", "Note", "NotAttempted", "Result",
    "Wrong", "call", "cases", "check_function", "check_rng", "compare", "compare_choice", "compare_count",
    "compare_units", "need_function", "not_applicable", "refuse_lib", "time_limit", "to_array", "to_number",
]

TIME_LIMIT_S = 5.0
DEFAULT_RTOL, DEFAULT_ATOL = 1e-6, 1e-9
# how many units of its own precision (by itemsize) a correct answer may be off, relative to the scale:
# float32 sums of a few hundred terms drift by tens of ulps; float16 keeps only 3 digits, so a few of its ulps
ULPS = {2: 8, 4: 32, 8: 32}

EXERCISES: dict[str, Exercise] = {}  # every Exercise by label, book-wide
_WHERE: dict[str, tuple[str, int]] = {}  # label -> (module, line) of its definition, to allow a reload
_NOTES: list[str] = []  # remarks from `call` (an in-place edit) added to a Wrong during one check


class Wrong(Exception):
    """Raised by a checker with the sentence the learner should read.

    `size_bound` marks a crash or a wrong shape: after an earlier case passed, that points at a hard-coded size.
    """

    size_bound = False


def _size_bound(message: str) -> Wrong:
    wrong = Wrong(message)
    wrong.size_bound = True
    return wrong


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
    """The verdict on one answer: status is "correct", "incorrect", "not attempted" or "error"."""

    status: str
    message: str
    label: str = ""

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
    """A hint or a solution: text, optional code and why; `folded` shows it inside a <details>."""

    title: str
    text: str
    code: str = ""
    why: str = ""
    folded: bool = False

    def __repr__(self) -> str:
        parts = [f"{self.title}: {self.text}", self.code, f"Why: {self.why}" if self.why else ""]
        return "\n\n".join(p for p in parts if p)

    def _repr_html_(self) -> str:
        code = f"<pre><code>{html.escape(self.code)}</code></pre>" if self.code else ""
        why = f"<p><strong>Why:</strong> {html.escape(self.why)}</p>" if self.why else ""
        if self.folded:
            return (f'<details class="exercise-solution"><summary>Show the {html.escape(self.title.lower())}</summary>'
                    f"<p>{html.escape(self.text)}</p>{code}{why}</details>")
        return f'<div class="exercise-note"><strong>{html.escape(self.title)}:</strong> {html.escape(self.text)}{code}{why}</div>'


class Exercise:
    """One exercise: a checker, hints that climb, and a solution (folded) with a short why."""

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
        if not isinstance(label, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", label):
            raise ValueError(f"an exercise label is lowercase words joined by '-', such as 'attention-ex2'; got {label!r}")
        frame = sys._getframe(1)
        where = (frame.f_globals.get("__name__", "?"), frame.f_lineno)
        if label in EXERCISES and _WHERE[label] != where:  # the same line again is a module reload
            raise ValueError(f"the exercise label {label!r} is already used ({_WHERE[label][0]}, line "
                             f"{_WHERE[label][1]}); labels must be unique book-wide")
        EXERCISES[label], _WHERE[label] = self, where
        self.label, self.checker, self.hints = label, checker, hints
        self._solution, self._solution_text, self.why = solution, solution_text, why
        self.formerly = formerly  # the label this exercise had before it was renamed (saved progress)

    def check(self, answer: object) -> Result:
        """Check an answer; always returns a Result, never raises."""
        _NOTES.clear()
        if answer is Ellipsis:
            return Result("not attempted", "replace the `...` with your answer, then run the cell again.", self.label)
        try:
            message = self.checker(answer)
        except NotAttempted:
            return Result("not attempted", "your answer still holds the placeholder `...`; fill it in, then "
                          "run the cell again.", self.label)
        except Wrong as wrong:
            return Result("incorrect", " ".join([str(wrong), *dict.fromkeys(_NOTES)]), self.label)
        except Exception as err:  # a checker must never crash a learner's notebook
            return Result("error", f"checking raised {type(err).__name__}: {err}. Is the answer the kind of object "
                          "the exercise asks for?", self.label)
        return Result("correct", message or "well done.", self.label)

    def hint(self, n: int = 1) -> Note:
        """Hint number n (1 points at the idea, the next ones at a concrete step)."""
        if not isinstance(n, int) or not 1 <= n <= len(self.hints):
            return Note("Hint", f"this exercise has hints 1 to {len(self.hints)}.")
        more = f" (ask for hint({n + 1}) if you are still stuck)" if n < len(self.hints) else ""
        return Note(f"Hint {n}", self.hints[n - 1] + more)

    def solution(self) -> Note:
        """The reference solution, folded in Jupyter."""
        return Note("Solution", self._solution_text, self._solution, self.why, folded=True)

    def __repr__(self) -> str:
        return f"<Exercise {self.label}: check(answer), hint(), hint(2), solution()>"


# ---------------------------------------------------------------- calling the learner's code
@contextlib.contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Raise TimeoutError in the body after `seconds` (default TIME_LIMIT_S) where SIGALRM works.

    Elsewhere (Pyodide, Windows, a thread other than the main one) the body runs without a limit.
    """
    seconds = TIME_LIMIT_S if seconds is None else seconds

    def stop(_signum, _frame):
        raise TimeoutError

    armed, previous = False, None
    try:
        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        armed = True
    except (AttributeError, ValueError, OSError, NotImplementedError, RuntimeError):
        if previous is not None:
            with contextlib.suppress(Exception):
                signal.signal(signal.SIGALRM, previous)
    try:
        yield
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def refuse_lib(fn: object, forbidden: dict[str, object], how: str = "with NumPy") -> None:
    """Raise Wrong if `fn` is, or calls by name, one of the course's functions that solve the exercise.

    `forbidden` maps the name to show ("lib.attention.softmax_backward") to the function. A learner's
    own helper with the same name is not refused: names are resolved in the learner's globals.
    """
    targets = {id(f): name for name, f in forbidden.items()}
    if id(fn) in targets:
        raise Wrong(f"that is the course's own {targets[id(fn)]}, which the notebook imports; the exercise is "
                    f"to write it yourself {how}.")
    code, glb = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    if code is None:
        return
    names, todo = set(), [code]
    while todo:  # the function's code and the code of every lambda or inner function in it
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    seen = [glb.get(n) for n in names]
    seen += [cell.cell_contents for cell in getattr(fn, "__closure__", None) or () if _filled(cell)]
    for obj in seen:
        hits = [obj] if not isinstance(obj, types.ModuleType) else [getattr(obj, n, None) for n in names]
        for hit in hits:
            if id(hit) in targets:
                raise Wrong(f"your function calls the course's own {targets[id(hit)]}; the exercise is to write "
                            f"that computation yourself {how}.")


def _filled(cell: object) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty closure cell raises ValueError)
    except ValueError:
        return False
    return True


def not_applicable() -> object:
    """For a bug that has no value on these inputs: raising makes the engine pass over it."""
    raise ValueError("this bug does not apply here")


def need_function(fn: object) -> None:
    """Raise Wrong unless the learner passed a function (not its result)."""
    if not callable(fn):
        raise Wrong(f"expected a function, got {type(fn).__name__}; pass the function itself, without calling it.")


def call(fn: object, *args: object, name: str = "your function", copy_args: bool = True,
         forbid_inplace: bool = False) -> object:
    """Call a learner's function on deep copies of `args`, with a time limit.

    Raises Wrong if it is not callable, raises or runs too long, and NotAttempted if it returns
    `...`. Editing the copies in place is allowed (a later Wrong mentions it) unless
    `forbid_inplace`. With copy_args=False the function gets the real objects (for exercises that
    must nudge a parameter a loss reads) and the caller checks what it left behind.
    """
    need_function(fn)
    copies = copy.deepcopy(args) if copy_args else args
    try:
        with time_limit():
            out = fn(*copies)
    except TimeoutError:
        raise Wrong(f"{name} did not finish within {TIME_LIMIT_S:g} s; is there a loop that never ends?") from None
    except Exception as err:
        raise _size_bound(f"{name} raised {type(err).__name__}: {err}") from None
    if out is Ellipsis:
        raise NotAttempted
    changed = [str(i + 1) for i, (before, after) in enumerate(zip(args, copies, strict=True))
               if isinstance(before, np.ndarray)
               and (np.shape(after) != before.shape or not np.array_equal(after, before, equal_nan=True))]
    if changed:
        which = f"argument{'s' if len(changed) > 1 else ''} number {' and '.join(changed)}"
        if forbid_inplace:
            raise Wrong(f"{name} changed its {which} in place, which this exercise forbids; compute a new array "
                        "instead (e.g. `Y = X @ W` rather than `X[...] = ...`).")
        _NOTES.append(f"(Note: {name} changed its {which} in place; that is allowed, but check that the edit "
                      "is not what changed the result.)")
    return out


# ---------------------------------------------------------------- reading answers
def _read(got: object, name: str) -> tuple[np.ndarray, np.dtype]:
    """The answer as a float64 array and the dtype whose precision it was computed in."""
    if got is None:
        raise Wrong(f"{name} is None; did you forget to `return` (or assign) it?")
    if isinstance(got, (str, bytes, dict, set)) or callable(got):
        raise Wrong(f"{name} should be numbers (an array), got {type(got).__name__}.")
    try:
        raw = np.asarray(got)
        if raw.dtype.kind == "c":
            raise Wrong(f"{name} holds complex numbers; the answer is real.")
        if raw.dtype.kind in "US":
            raise Wrong(f"{name} holds text, not numbers.")
        arr = raw.astype(float) if raw.dtype.kind in "biuf" else np.asarray(got, dtype=float)
    except OverflowError:
        raise Wrong(f"{name} holds an integer too large for a float.") from None
    except (TypeError, ValueError):
        raise Wrong(f"{name} could not be read as an array of numbers (got {type(got).__name__}).") from None
    precision = raw.dtype if raw.dtype.kind == "f" and raw.dtype.itemsize <= 8 else np.dtype(np.float64)
    return arr, precision


def to_array(got: object, name: str = "your answer") -> np.ndarray:
    """Read a learner's answer as a float64 array, or raise Wrong saying what it is instead."""
    return _read(got, name)[0]


def to_number(got: object, name: str = "your answer", *, what: str = "a number") -> float:
    """Read a learner's answer as one finite real number (also a NumPy scalar or 0-d array)."""
    if callable(got):
        raise Wrong(f"answer with {what}, got a function; call it and use what it returns.")
    if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "iuf":
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (numbers.Real, np.integer, np.floating)):
        shape = f" of shape {got.shape}; give a single number (e.g. x.item())" if isinstance(got, np.ndarray) else ""
        raise Wrong(f"answer with {what}, got {type(got).__name__}{shape}.")
    try:
        value = float(got)
    except OverflowError:
        raise Wrong(f"{name} is too large to be a float.") from None
    if not np.isfinite(value):
        raise Wrong(f"{name} is NaN or infinite.")
    return value


# ---------------------------------------------------------------- comparing
def _tolerance(want: np.ndarray, precision: np.dtype, rtol: float, atol: float, scale: float) -> np.ndarray:
    """Per-entry tolerance: the checker's rtol/atol, widened to the answer's precision and to `scale`."""
    ulp = ULPS[precision.itemsize] * float(np.finfo(precision).eps)
    return max(rtol, ulp) * np.abs(np.nan_to_num(want)) + max(atol, max(ulp, DEFAULT_ATOL) * scale)


def _scale(want: np.ndarray) -> float:
    finite = np.abs(want[np.isfinite(want)])
    return float(finite.max()) if finite.size else 0.0


def _close(arr: np.ndarray, value: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Entry-wise: equal (inf and NaN included) or within tol."""
    with np.errstate(invalid="ignore", over="ignore"):
        return (arr == value) | (np.abs(arr - value) <= tol) | (np.isnan(arr) & np.isnan(value))


Tolerance = Callable[[np.ndarray], np.ndarray]


def _tolerance_for(precision: np.dtype, rtol: float, atol: float, scale: float) -> Tolerance:
    """The tolerance as a function of the value compared with (the right answer or a bug's)."""
    return lambda target: _tolerance(target, precision, rtol, atol, scale)


def _matches(arr: np.ndarray, value: object, tol: Tolerance) -> bool:
    """Whether arr equals `value` (a value, or a function computing it) within tol(value)."""
    try:
        value = np.asarray(value() if callable(value) else value, dtype=float)
    except Exception:  # this bug cannot even run on these inputs
        return False
    return value.shape == arr.shape and bool(np.all(_close(arr, value, tol(value))))


def _diagnose(arr: np.ndarray, want: np.ndarray, tol: Tolerance, bugs: dict[str, object] | None) -> None:
    """Raise Wrong naming every bug `arr` matches (at the same tolerance), unless that bug's value is right."""
    _name([s for s, bug in (bugs or {}).items() if _matches(arr, bug, tol) and not _matches(want, bug, tol)])


def _name(sentences: list[str]) -> None:
    """Raise Wrong with the one matching bug, or with all of them as "Either ... Or ..."."""
    if len(sentences) == 1:
        raise Wrong(sentences[0])
    if sentences:
        raise Wrong("More than one mistake gives exactly this answer. " + " Or: ".join(
            ["Either: " + sentences[0], *sentences[1:]]))


def _pair(a: float, b: float) -> tuple[str, str]:
    """The two numbers with just enough significant digits to look different."""
    if a == round(a) and b == round(b) and max(abs(a), abs(b)) < 1e15:
        return f"{round(a):,}", f"{round(b):,}"
    for digits in range(4, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            return sa, sb
    return repr(a), repr(b)


def _how_far(got: float, want: float) -> str:
    """How far a number is from the right one, without printing the right one."""
    if want == 0:
        return "it should be 0"
    ratio = got / want
    if ratio <= 0:
        return "it has the wrong sign" if ratio < 0 else "it should not be 0"
    side = "large" if ratio > 1 else "small"
    if 2 / 3 <= ratio <= 1.5:  # within 50%: a percentage reads best (never "1e+02%")
        pct = abs(ratio - 1) * 100
        return f"it is slightly too {side} (by less than 0.1%)" if pct < 0.1 else f"it is about {pct:.2g}% too {side}"
    factor = max(ratio, 1 / ratio)
    return f"it is too {side} by a factor of about {factor:,.0f}" if factor >= 10 else \
        f"it is too {side} by a factor of about {factor:.2g}"


def _fail(arr: np.ndarray, want: np.ndarray, tolerance: Tolerance, name: str, reveal: bool | None) -> None:
    """Raise the generic Wrong: shape, NaN, or the entry that fails worst (relative to its tolerance)."""
    if arr.shape != want.shape:
        if want.ndim == 0:
            raise Wrong(f"{name} has shape {arr.shape}, but the answer is a single number; return a number "
                        "(for example float(x) or x.item()).")
        if arr.ndim == 0:
            raise Wrong(f"{name} is a single number, but the answer is an array of shape {want.shape}.")
        flipped = " That is the expected shape reversed: is something transposed?" if arr.shape == want.shape[::-1] and arr.ndim == 2 else ""
        raise _size_bound(f"{name} has shape {arr.shape}, but the expected shape is {want.shape}.{flipped}")
    tol = tolerance(want)
    bad = ~_close(arr, want, tol)
    broken = bad & ~np.isfinite(arr)
    if broken.any():
        at = f" (at index {tuple(int(i) for i in np.argwhere(broken)[0])})" if arr.ndim else ""
        raise Wrong(f"{name} contains NaN or inf{at}; look for a division by zero, an overflow or a wrong axis.")
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(bad, np.abs(arr - want) / np.maximum(tol, np.finfo(float).tiny), -1.0)
    if arr.ndim == 0:
        if reveal:
            g, w = _pair(float(arr), float(want))
            raise Wrong(f"{name} is {g}, but it should be {w}.")
        raise Wrong(f"{name} is {_pair(float(arr), float(want))[0]}, which is not right: {_how_far(float(arr), float(want))}.")
    where = tuple(int(i) for i in np.unravel_index(np.argmax(excess), arr.shape))
    g, w = _pair(float(arr[where]), float(want[where]))
    count = int(bad.sum())
    if reveal is False:  # predicted numbers: don't give them away
        raise Wrong(f"{name} is not right ({count} of {arr.size} entries off): at index {where} it holds {g}; "
                    f"{_how_far(float(arr[where]), float(want[where]))}.")
    raise Wrong(f"{name} has the right shape {arr.shape} but different values ({count} of {arr.size} entries "
                f"off); for example at index {where} it holds {g} where {w} is expected.")


def _start(got: object, want: object, name: str, rtol: float, atol: float, scale: float | None,
           allow_float16: bool) -> tuple[np.ndarray, np.ndarray, Tolerance] | None:
    """None if `got` matches `want`; else the answer and `want` as float64 arrays, and the tolerance."""
    arr, precision = _read(got, name)
    if precision == np.float16 and not allow_float16:
        raise Wrong(f"{name} is float16, which keeps only about 3 significant digits; this exercise needs "
                    "float32 or float64 (compute in float32, e.g. `.astype(np.float32)`).")
    want = np.asarray(want, dtype=float)
    # judged at float32 precision at least: a float32 result upcast by a float64 scalar (x / np.sqrt(d))
    # is float64 in dtype but float32 in accuracy, and is just as right
    precision = min(precision, np.dtype(np.float32), key=lambda t: t.itemsize)
    tol = _tolerance_for(precision, rtol, atol, _scale(want) if scale is None else scale)
    if arr.shape == want.shape and np.all(_close(arr, want, tol(want))):
        return None
    return arr, want, tol


def compare(
    got: object,
    want: np.ndarray | float,
    *,
    name: str = "your answer",
    bugs: dict[str, object] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    scale: float | None = None,
    allow_float16: bool = False,
    reveal: bool | None = None,
) -> None:
    """Raise Wrong with a one-sentence diagnosis unless `got` matches `want`.

    The tolerance per entry is max(rtol, k eps) * |want| + max(atol, max(k eps, 1e-9) * scale), with
    eps the precision of the answer's dtype (float16/32/64; ints, lists and Python floats count as
    float64), k = ULPS (32, or 8 for float16) and scale max|want| unless given: every answer is judged
    at float32 precision at least (a float32 result upcast to float64 is as right as before the
    cast), float16 as float16, and tiny entries of a big array do not fail on rounding. float16 is refused unless
    `allow_float16`. `bugs` maps a sentence to what a known mistake returns (a value or a
    zero-argument function); it is named only if the answer matches it at that same tolerance and
    its value is not also right. A wrong single number is not printed next to the right
    one unless `reveal=True`; a wrong array shows its worst entry (relative to the tolerance) beside
    the expected value unless `reveal=False` (for predictions, which a shown answer would spoil).
    """
    started = _start(got, want, name, rtol, atol, scale, allow_float16)
    if started is not None:
        _diagnose(started[0], started[1], started[2], bugs)
        _fail(*started, name, reveal)


def _whole(got: object, name: str, what: str) -> int:
    """A whole number from int, integral float, NumPy scalar or 0-d array."""
    value = to_number(got, name, what=what)
    raw = np.asarray(got)
    if value != round(value):
        eps = float(np.finfo(raw.dtype).eps) if raw.dtype.kind == "f" else 0.0
        if abs(value - round(value)) > eps * abs(value):
            raise Wrong(f"{name} is {value!r}, but {what} is a whole number.")
    return round(value) if isinstance(got, (float, np.floating, np.ndarray)) else int(got)


def compare_count(got: object, want: int, *, name: str = "your answer", bugs: dict[str, object] | None = None,
                  reveal: bool = False, what: str = "a count") -> None:
    """Raise Wrong unless `got` is the whole number `want` (16, 16.0, np.int64(16), np.array(16) all pass).

    A float32 answer may be off by its own rounding (2**24 + 1 is not a float32). `bugs` maps a
    sentence to the integer (or zero-argument function) a known mistake gives.
    """
    value = _whole(got, name, what)
    raw = np.asarray(got)
    slack = float(np.finfo(raw.dtype).eps) * abs(want) if raw.dtype.kind == "f" and raw.dtype.itemsize < 8 else 0.5
    if abs(value - want) <= slack:
        return
    _diagnose(np.asarray(float(value)), np.asarray(float(want)), lambda _: np.asarray(slack), bugs)
    if reveal:
        raise Wrong(f"{name} is {value:,}, but it should be {want:,}.")
    raise Wrong(f"{name} is {value:,}, which is not right: {_how_far(value, want)}.")


BYTE_UNITS = {"bits": 1 / 8, "bytes": 1.0, "kB": 1e3, "KiB": 2.0**10, "MB": 1e6, "MiB": 2.0**20,
              "GB": 1e9, "GiB": 2.0**30, "TB": 1e12, "TiB": 2.0**40}
TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
FLOP_UNITS = {"FLOP": 1.0, "kFLOP": 1e3, "MFLOP": 1e6, "GFLOP": 1e9, "TFLOP": 1e12, "PFLOP": 1e15}


def compare_units(got: object, want: float, unit: str = "bytes", *, units: dict[str, float] = BYTE_UNITS,
                  name: str = "your answer", bugs: dict[str, object] | None = None, rtol: float = DEFAULT_RTOL,
                  unit_rtol: float = 5e-3, reveal: bool = False) -> None:
    """Raise Wrong unless `got` is the quantity `want`, measured in `unit` (a key of `units`).

    An answer that is `want` expressed in another unit of `units` (say MiB when bytes are asked, or
    bits, or 2**20 mistaken for 1e6) is told so; it may be rounded to about `unit_rtol`.
    """
    if unit not in units:
        raise ValueError(f"unit {unit!r} is not one of {sorted(units)}")
    value = to_number(got, name, what=f"a number of {unit}")
    started = _start(got, want, name, rtol, DEFAULT_ATOL, None, False)
    if started is None:
        return
    _diagnose(*started, bugs)
    for other, size in units.items():
        in_other = want * units[unit] / size
        if other != unit and want != 0 and abs(value - in_other) <= unit_rtol * abs(in_other):
            raise Wrong(f"{name} looks like the right amount in {other}; give it in {unit}.")
    _fail(*started, name, reveal)


def compare_choice(got: object, options: Sequence[str], want: str, *, name: str = "your answer",
                   bugs: dict[str, str] | None = None) -> str:
    """Raise Wrong unless `got` names the option `want`; `bugs` maps a wrong option to its sentence.

    Spaces, quotes and backticks around the word are ignored, and so is case unless two options
    differ only by case. Returns the option chosen.
    """
    if not isinstance(got, str):
        raise Wrong(f"answer with one of {', '.join(map(repr, options))} as a string, got {type(got).__name__}.")
    word = got.strip().strip("'\"`").strip()
    folded = len({o.casefold() for o in options}) == len(options)
    key = (lambda s: s.casefold()) if folded else (lambda s: s)
    chosen = {key(o): o for o in options}.get(key(word))
    if chosen is None:
        raise Wrong(f"{word!r} is not one of {', '.join(map(repr, options))}.")
    if chosen != want:
        raise Wrong((bugs or {}).get(chosen, f"{chosen!r} is not the right choice."))
    return chosen


# ---------------------------------------------------------------- functions tried on many cases
@dataclass(frozen=True)
class Case:
    """One set of arguments for a learner's function: `make()` returns fresh args; `label` names the sizes."""

    label: str
    make: Callable[[], tuple]


def cases(make: Callable[..., tuple], *sizes: dict[str, int], seed: int = 0, fixed: Sequence[str] = ()) -> list[Case]:
    """Cases from a `make(**sizes[, rng])` returning the argument tuple, one per dict of sizes.

    Every size must take at least two values over the cases (so hard-coding a size fails),
    except the names in `fixed`. `make` gets a fresh `rng` (seeded `seed + i`) if it takes one.
    """
    for key in sizes[0] if sizes else ():
        if key not in fixed and len({s[key] for s in sizes}) < 2:
            raise ValueError(f"the size {key} takes one value in every case; try at least two (or list it in fixed)")
    takes_rng = "rng" in inspect.signature(make).parameters

    def factory(size: dict[str, int], i: int) -> Callable[[], tuple]:
        extra = {"rng": np.random.default_rng(seed + i)} if takes_rng else {}
        return lambda: tuple(make(**size, **{k: copy.deepcopy(v) for k, v in extra.items()}))

    return [Case(", ".join(f"{k}={v}" for k, v in size.items()), factory(size, i)) for i, size in enumerate(sizes)]


def _case(case: Case | Callable[[], tuple]) -> Case:
    if isinstance(case, Case):
        return case
    args = tuple(case())
    shapes = ", ".join(str(np.shape(a)) if isinstance(a, np.ndarray) else repr(a) for a in args)
    return Case(f"arguments {shapes}", case)


def check_function(
    fn: object,
    reference: Callable[..., object],
    cases: Sequence[Case | Callable[[], tuple]],
    *,
    name: str = "your function",
    bugs: dict[str, Callable[..., object]] | None = None,
    forbid_inplace: bool = False,
    output: str = "your output",
    parts: Sequence[str] = (),
    **compare_options: object,
) -> list[object]:
    """Call `fn` on every case and compare with `reference(*args)`; raise Wrong for the first failure.

    Each case's args are fresh; `fn` gets deep copies. `bugs` maps a sentence to a function of the
    same args returning what that mistake gives. If the reference returns a tuple, name its
    `parts` (e.g. ("dX", "dW", "db")): the answer must be a tuple of as many arrays, and a bug
    (returning a tuple too) is named only when every part matches. A crash or a wrong shape after an
    earlier case passed asks whether a size is hard-coded. Returns the outputs.
    """
    need_function(fn)
    outputs, passed = [], []
    for case in map(_case, cases):
        try:
            got = call(fn, *case.make(), name=name, forbid_inplace=forbid_inplace)
            want = reference(*case.make())
            case_bugs = {s: (lambda b=b, c=case: b(*c.make()) if callable(b) else b) for s, b in (bugs or {}).items()}
            if parts:
                _compare_parts(got, want, parts, case_bugs, compare_options)
            else:
                compare(got, want, name=output, bugs=case_bugs, **compare_options)
        except Wrong as wrong:
            sized = (f" It worked with {passed[0]}: is a size from that case hard-coded? Read the sizes from the "
                     "arguments' shapes." if passed and wrong.size_bound else "")
            stop = "" if not sized or str(wrong).endswith(".") else "."
            raise Wrong(f"with {case.label}: {wrong}{stop}{sized}") from None
        outputs.append(got)
        passed.append(case.label)
    return outputs


def _compare_parts(got: object, want: Sequence, parts: Sequence[str], bugs: dict, options: dict) -> None:
    if not isinstance(got, (tuple, list)) or len(got) != len(parts):
        raise Wrong(f"return a tuple of {len(parts)} arrays ({', '.join(parts)}), got {type(got).__name__}"
                    f"{f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''}.")
    arrays = [_read(g, p) for g, p in zip(got, parts, strict=True)]
    wants = [np.asarray(w, dtype=float) for w in want]
    rtol, atol = options.get("rtol", DEFAULT_RTOL), options.get("atol", DEFAULT_ATOL)
    tols = [_tolerance_for(prec, rtol, atol, _scale(w)) for w, (_, prec) in zip(wants, arrays, strict=True)]
    if all(a.shape == w.shape and _matches(a, w, t) for (a, _), w, t in zip(arrays, wants, tols, strict=True)):
        return
    named = []
    for sentence, bug in bugs.items():
        try:
            values = list(bug())
        except Exception:
            continue
        if len(values) == len(parts) and all(_matches(a, v, t) for (a, _), v, t in zip(arrays, values, tols, strict=True)) \
                and not all(_matches(w, v, t) for w, v, t in zip(wants, values, tols, strict=True)):
            named.append(sentence)
    _name(named)
    for g, w, p in zip(got, wants, parts, strict=True):
        compare(g, w, name=p, **options)


def _same(a: object, b: object) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except (TypeError, ValueError):
        return a is b


def check_rng(fn: object, args: tuple = (), *, name: str = "your function", seeds: tuple[int, int] = (0, 1)) -> object:
    """Call fn(*args, rng): same seed -> same output, other seed -> other output, global seed -> no effect.

    Returns the output for `default_rng(seeds[0])`. NumPy's global state is restored afterwards.
    """
    need_function(fn)
    saved = np.random.get_state()  # noqa: NPY002 (the global state is what is tested)
    try:
        np.random.seed(seeds[0])  # noqa: NPY002 (the global state is what is tested)
        first = call(fn, *args, np.random.default_rng(seeds[0]), name=name)
        np.random.seed(seeds[0])  # noqa: NPY002 (the global state is what is tested)
        again = call(fn, *args, np.random.default_rng(seeds[0]), name=name)
        if not _same(first, again):
            raise Wrong(f"{name} gives different results for the same rng seed: draw every random number from the "
                        "`rng` you are given (e.g. rng.standard_normal(...)), never from a new unseeded generator.")
        np.random.seed(seeds[0] + 12345)  # noqa: NPY002 (the global state is what is tested)
        global_moved = call(fn, *args, np.random.default_rng(seeds[0]), name=name)
        if not _same(first, global_moved):
            raise Wrong(f"{name} depends on NumPy's global random state (np.random.seed changes it): use the `rng` "
                        "you are given, e.g. rng.standard_normal(...) instead of np.random.randn(...).")
        other = call(fn, *args, np.random.default_rng(seeds[1]), name=name)
        if _same(first, other):
            raise Wrong(f"{name} gives the same result for different rng seeds: draw the random numbers from the "
                        "`rng` you are given instead of a generator of your own.")
    finally:
        np.random.set_state(saved)  # noqa: NPY002 (the global state is what is tested)
    return first
