"""Running the learner's code: time limits, deep-copied arguments, and refusing forbidden routines.

Time limit (`time_limit`, used by `call`). Where SIGALRM works (CPython on Linux or macOS, main
thread) a timer interrupts the body. Elsewhere (Pyodide, Windows, another thread) a trace
watchdog does: `sys.settrace` checks the deadline on the line events of the Python code that runs
in the body and raises TimeoutError there, so a never-returning pure-Python loop is stopped; a
single long C call (one huge matmul) is stopped at the next Python line after it. `call` applies
the limit per call of the learner's function, and the first call of each function in a check gets
`FIRST_CALL_FACTOR` times the limit: a one-off compile step (JAX's or Numba's jit on the first
call) is not counted as an endless loop. The watchdog slows pure-Python loops (a loop of 10**6
additions: 0.1 s -> 0.6 s here), not NumPy's own work: the 60 reference solutions are checked in
about 0.45 s by either mechanism.

Refusals (`refuse_lib`). "Write it without calling lib" is enforced against every route: the
function handed in, a name it uses, a wrapper (`lambda x: nn.softmax(x)`, `functools.partial`, a
helper of the learner's that calls it, a name imported before the check) and, for a family such
as `SVD_ROUTINES`, another routine that computes the same thing (`np.linalg.svdvals`,
`np.linalg.norm(A, 2)`, `np.linalg.pinv`; `EIG_ROUTINES` for eigendecompositions, since the
singular values are the square roots of the eigenvalues of A.T @ A). For the rest of the check,
every `call` of the learner's function runs with the forbidden routines replaced by a stub that
raises `Reached` (a BaseException, so `except Exception` in the learner's code cannot swallow it);
the checker's own reference code runs outside `call` and is unaffected.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import sys
import time
import types
from collections.abc import Callable, Iterator

import numpy as np

from lib.exercises.core.exercise import _NOTES, NotAttempted, Wrong, _size_bound

try:  # Pyodide has no usable SIGALRM: then time_limit() uses the trace watchdog
    import signal
except ImportError:  # pragma: no cover
    signal = None  # type: ignore[assignment]

__all__ = [
    "EIG_ROUTINES", "FIRST_CALL_FACTOR", "SVD_ROUTINES", "TIME_LIMIT_S", "Reached", "call", "explain_crashes",
    "forbidding", "need_function", "not_applicable", "refuse_lib", "short", "time_limit",
]

TIME_LIMIT_S = 5.0
FIRST_CALL_FACTOR = 2.0  # the first call of a learner's function in a check may take twice as long (a jit compile)
WATCHDOG = "auto"  # "auto": SIGALRM where it works, else the trace watchdog; "trace": always the watchdog
_CHECK_EVERY = 200  # line events between two looks at the clock

# every NumPy route to the SVD goes through these gufuncs (svd, svdvals, norm(ord=2), pinv, matrix_rank, cond)
SVD_ROUTINES: tuple[str, ...] = (
    "numpy.linalg._umath_linalg:svd", "numpy.linalg._umath_linalg:svd_f", "numpy.linalg._umath_linalg:svd_s",
    "scipy.linalg:svd", "scipy.linalg:svdvals", "scipy.sparse.linalg:svds",
)
EIG_ROUTINES: tuple[str, ...] = (
    "numpy.linalg._umath_linalg:eig", "numpy.linalg._umath_linalg:eigvals",
    "numpy.linalg._umath_linalg:eigh_lo", "numpy.linalg._umath_linalg:eigh_up",
    "numpy.linalg._umath_linalg:eigvalsh_lo", "numpy.linalg._umath_linalg:eigvalsh_up",
    "scipy.linalg:eig", "scipy.linalg:eigh", "scipy.linalg:eigvals", "scipy.linalg:eigvalsh",
)


# ---------------------------------------------------------------- time limits
class _Deadline:
    """A trace function raising TimeoutError once time.monotonic() passes `end`."""

    def __init__(self, seconds: float):
        self.end, self.count = time.monotonic() + seconds, 0

    def __call__(self, frame, event, arg):
        self.count += 1
        if self.count % _CHECK_EVERY == 0 and time.monotonic() > self.end:
            raise TimeoutError
        return self


def _alarm(seconds: float) -> object | None:
    """Arm SIGALRM for `seconds`; the previous handler, or None where signals do not work here.

    In Pyodide (sys.platform "emscripten") a timer may arm without error, but its signal is only
    seen when the browser gets control back, which a busy loop never gives it: no signal there.
    """
    if signal is None or sys.platform == "emscripten":
        return None

    def stop(_signum, _frame):
        raise TimeoutError

    previous = None
    try:
        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        return previous if previous is not None else signal.SIG_DFL
    except (AttributeError, ValueError, OSError, NotImplementedError, RuntimeError):
        if previous is not None:
            with contextlib.suppress(Exception):
                signal.signal(signal.SIGALRM, previous)
        return None


@contextlib.contextmanager
def time_limit(seconds: float | None = None, *, method: str | None = None) -> Iterator[None]:
    """Raise TimeoutError in the body after `seconds` (default TIME_LIMIT_S).

    `method` "signal" or "trace" forces one mechanism (default: WATCHDOG, "auto" = SIGALRM where it
    works, else the trace watchdog, as in Pyodide). The trace watchdog stops Python code only.
    """
    seconds = TIME_LIMIT_S if seconds is None else seconds
    method = method or WATCHDOG
    previous = _alarm(seconds) if method != "trace" else None
    if previous is not None:
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    outer, deadline = sys.gettrace(), _Deadline(seconds)
    body = sys._getframe(2)  # the frame running the `with` body (1 is contextlib's __enter__)
    body_trace = body.f_trace
    sys.settrace(deadline)  # every frame called from the body
    body.f_trace = deadline  # and the body itself
    try:
        yield
    finally:
        sys.settrace(outer)
        body.f_trace = body_trace


# ---------------------------------------------------------------- forbidden routines
class Reached(BaseException):  # noqa: N818 (not an error of the learner's code: a refusal)
    """A forbidden routine was called during a learner's call; `args[0]` names it."""


_ARMED: dict[str, tuple[object, str]] = {}  # display name -> (function or "module:attr", how)
_CALLED: set[int] = set()  # ids of the learner functions already called once in this check


def _stub(shown: str) -> Callable[..., object]:
    def forbidden(*_args, **_kwargs):
        raise Reached(shown)

    return forbidden


def _stub_code(shown: str) -> types.CodeType:
    """Code raising Reached(shown) that runs with any function's globals (it imports what it needs)."""
    source = ("def forbidden(*args, **kwargs):\n"
              "    from lib.exercises.core.sandbox import Reached\n"
              f"    raise Reached({shown!r})\n")
    namespace: dict = {}
    exec(compile(source, "<forbidden>", "exec"), namespace)  # noqa: S102 (our own constant source)
    return namespace["forbidden"].__code__


def _resolve(target: str) -> tuple[object, str] | None:
    """A "module:attr" path -> (module, attr), or None when the module is not installed."""
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception:  # scipy is optional (and absent in Pyodide)
        return None
    return (module, attr) if hasattr(module, attr) else None


@contextlib.contextmanager
def forbidding(targets: dict[str, object]) -> Iterator[None]:
    """In the body, every routine of `targets` ({name to show: function or "module:attr" or a tuple of
    them}) raises Reached(name) when called, by whatever name or wrapper it is reached."""
    undo: list[Callable[[], None]] = []
    try:
        for shown, value in targets.items():
            for target in value if isinstance(value, (tuple, list)) else (value,):
                undo.extend(_patch(target, shown))
        yield
    finally:
        for restore in reversed(undo):
            restore()


def _patch(target: object, shown: str) -> list[Callable[[], None]]:
    if isinstance(target, str):
        place = _resolve(target)
        if place is None:
            return []
        module, attr = place
        original = getattr(module, attr)
        setattr(module, attr, _stub(shown))
        undo = [lambda: setattr(module, attr, original)]
        return undo + (_patch(original, shown) if isinstance(original, types.FunctionType) else [])
    func = target.func if isinstance(target, functools.partial) else target
    func = getattr(func, "__func__", func)  # a bound method: its function
    if isinstance(func, types.FunctionType) and not func.__code__.co_freevars:
        code = func.__code__
        func.__code__ = _stub_code(shown)
        return [lambda: setattr(func, "__code__", code)]
    module = sys.modules.get(getattr(func, "__module__", "") or "")
    name = getattr(func, "__name__", None)
    if module is not None and name and getattr(module, name, None) is func:  # a C function, a closure
        setattr(module, name, _stub(shown))
        return [lambda: setattr(module, name, func)]
    return []


def refusal(reached: Reached) -> str:
    """The sentence for a learner's function that reached a forbidden routine."""
    shown = reached.args[0] if reached.args else "a forbidden routine"
    how = _ARMED.get(shown, (None, "with NumPy"))[1]
    return (f"your function reaches {shown} (directly or through another function), which this exercise "
            f"forbids; write that computation yourself {how}.")


def disarm() -> None:
    """End the refusals and first-call allowances of one check (Exercise.check calls it)."""
    _ARMED.clear()
    _CALLED.clear()


def refuse_lib(fn: object, forbidden: dict[str, object], how: str = "with NumPy") -> None:
    """Raise Wrong if `fn` is, calls or wraps a routine that the exercise forbids.

    `forbidden` maps the name to show ("lib.attention.softmax_backward") to the function, or to a
    family of routines (a tuple such as SVD_ROUTINES, or "module:attr" strings). `fn` itself, a
    partial of it, or a name it uses is refused at once; then, until the check ends, every `call`
    runs the learner's function with those routines made to raise, which catches wrappers, names
    imported earlier and other routes to the same routine. A learner's own helper with the same
    name is not refused: names are resolved in the learner's globals.
    """
    for shown, value in forbidden.items():
        _ARMED[shown] = (value, how)
    funcs = {id(f): n for n, v in forbidden.items() for f in (v if isinstance(v, (tuple, list)) else (v,))
             if not isinstance(f, str)}
    inner = fn.func if isinstance(fn, functools.partial) else fn
    if id(fn) in funcs or id(inner) in funcs:
        raise Wrong(f"that is the course's own {funcs.get(id(fn), funcs.get(id(inner)))}, which the notebook "
                    f"imports; the exercise is to write it yourself {how}.")
    for obj in _referenced(inner):
        if id(obj) in funcs:
            raise Wrong(f"your function calls the course's own {funcs[id(obj)]}; the exercise is to write "
                        f"that computation yourself {how}.")


def _referenced(fn: object) -> list[object]:
    """The objects a function's code names (globals, module attributes) and its closure holds."""
    code, glb = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    if code is None:
        return []
    names, todo = set(), [code]
    while todo:  # the function's code and the code of every lambda or inner function in it
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    seen = [glb.get(n) for n in names]
    seen += [cell.cell_contents for cell in getattr(fn, "__closure__", None) or () if _filled(cell)]
    found = []
    for obj in seen:
        found += [getattr(obj, n, None) for n in names] if isinstance(obj, types.ModuleType) else [obj]
    return found


def _filled(cell: object) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty closure cell raises ValueError)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- calling the learner's code
def not_applicable() -> object:
    """For a bug that has no value on these inputs: raising makes the engine pass over it."""
    raise ValueError("this bug does not apply here")


def need_function(fn: object) -> None:
    """Raise Wrong unless the learner passed a function (not its result)."""
    if not callable(fn):
        raise Wrong(f"expected a function, got {type(fn).__name__}; pass the function itself, without calling it.")


def call(fn: object, *args: object, name: str = "your function", copy_args: bool = True,
         forbid_inplace: bool = False) -> object:
    """Call a learner's function on deep copies of `args`, with a time limit and the check's refusals.

    Raises Wrong if it is not callable, raises, runs too long or reaches a routine `refuse_lib`
    forbade, and NotAttempted if it returns `...`. Editing the copies in place is allowed (a later
    Wrong mentions it) unless `forbid_inplace`. With copy_args=False the function gets the real
    objects (for exercises that must nudge a parameter a loss reads) and the caller checks what it
    left behind.
    """
    need_function(fn)
    copies = copy.deepcopy(args) if copy_args else args
    first = id(fn) not in _CALLED
    _CALLED.add(id(fn))
    limit = TIME_LIMIT_S * (FIRST_CALL_FACTOR if first else 1.0)
    try:
        with forbidding({k: v for k, (v, _) in _ARMED.items()}), time_limit(limit):
            out = fn(*copies)
    except TimeoutError:
        raise Wrong(f"{name} did not finish within {limit:g} s; is there a loop that never ends?") from None
    except Reached as reached:
        raise Wrong(refusal(reached).replace("your function", name, 1)) from None
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


def explain_crashes(fn: object, crashes: dict[str, str]) -> object:
    """Wrap a learner's function so that a known NumPy error also says what to change.

    `crashes` maps a fragment of NumPy's message (such as "matmul") to the sentence to add.
    """
    need_function(fn)

    @functools.wraps(fn)
    def explained(*args):
        try:
            return fn(*args)
        except Exception as err:
            for fragment, sentence in crashes.items():
                if fragment in str(err):
                    try:
                        explained_err = type(err)(f"{str(err).strip().rstrip('.')}. {sentence}")
                    except Exception:  # an exception type that takes other arguments: leave it as it is
                        raise err from None
                    raise explained_err from None
            raise

    return explained


def short(text: str, limit: int = 480) -> str:
    """A message cut to `limit` characters (a learner's exception can quote whole arrays)."""
    return text if len(text) <= limit else text[: limit - 5].rstrip() + " ..."


