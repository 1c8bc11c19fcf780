"""Functions tried on many cases: `Case`, `cases`, `check_function`, `check_rng`, and inputs that
find the hard case of a numerically stable formula.

Stability. A half-stable softmax passes on ordinary inputs and breaks only where the extreme value
sits in the wrong place, so put it there:

- `extreme_on_masked(scores, allowed)`: a large score on an allowed key of every row and a larger
  one on every masked (disallowed) key. Shifting by the maximum over *all* keys, masked ones
  included, then underflows every allowed key to 0 (0/0 = NaN); not shifting at all overflows.
- `extreme_off_target(logits, targets)`: a large logit on a class other than the target in every
  row. A cross-entropy shifted by the target's logit (or not shifted) overflows to inf.
- `with_extreme(x, where, value)`: the same, anywhere (`where` a boolean mask or an index).

Use them to build one of the cases of a checker (`cases(...)`'s `make` may call them), so the
solution is still judged on ordinary inputs too.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lib.exercises.core.compare import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    _matches,
    _name,
    _read,
    _scale,
    _tolerance_for,
    compare,
)
from lib.exercises.core.exercise import Wrong
from lib.exercises.core.sandbox import call, need_function

__all__ = [
    "Case", "bug_collisions", "cases", "check_function", "check_rng", "extreme_off_target", "extreme_on_masked", "run_cases",
    "safe", "with_extreme",
]


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
    name_bug: str = "first",
    **compare_options: object,
) -> list[object]:
    """Call `fn` on every case and compare with `reference(*args)`; raise Wrong for the first failure.

    Each case's args are fresh; `fn` gets deep copies. `bugs` maps a sentence to a function of the
    same args returning what that mistake gives. `name_bug` is the policy: "first" names a bug
    that explains the first failing case; "every" names only a bug that explains the answers of
    every case that ran (then the first failing case gets the plain diagnosis). If the reference
    returns a tuple, name its `parts` (e.g. ("dX", "dW", "db")): the answer must be a tuple of as
    many arrays, and a bug (returning a tuple too) is named only when every part matches. A crash
    or a wrong shape after an earlier case passed asks whether a size is hard-coded. Returns the
    outputs.
    """
    if name_bug not in ("first", "every"):
        raise ValueError(f"check_function: name_bug is 'first' or 'every', got {name_bug!r}")
    need_function(fn)
    all_cases = list(map(_case, cases))
    if name_bug == "every" and bugs:
        _name_every(fn, reference, all_cases, bugs, name, forbid_inplace, parts, compare_options)
        bugs = None
    outputs, passed = [], []
    for case in all_cases:
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
            raise Wrong(f"with {case.label}: {wrong}{stop}{sized}", bug=wrong.bug or False) from None
        outputs.append(got)
        passed.append(case.label)
    return outputs


def _name_every(fn: object, reference: Callable, all_cases: list[Case], bugs: dict, name: str,
                forbid_inplace: bool, parts: Sequence[str], options: dict) -> None:
    """Raise Wrong naming the bugs that explain the answer of every case that ran, if the answer is wrong."""
    rtol, atol = options.get("rtol", DEFAULT_RTOL), options.get("atol", DEFAULT_ATOL)
    runs, failed = [], False
    for case in all_cases:
        try:
            got = call(fn, *case.make(), name=name, forbid_inplace=forbid_inplace)
        except Wrong:
            failed = True
            break
        runs.append((case, got))
    if not runs:
        return

    def fits(got: object, value: object) -> bool:
        gots, values = (list(got), list(value)) if parts else ([got], [value])
        if len(gots) != len(values):
            return False
        for g, v in zip(gots, values, strict=True):
            try:
                arr, precision = _read(g, "")
            except Wrong:
                return False
            v = np.asarray(v, dtype=float)
            if not _matches(arr, v, _tolerance_for(precision, rtol, atol, _scale(v))):
                return False
        return True

    wants = [reference(*c.make()) for c, _ in runs]
    if not failed and all(fits(g, w) for (_, g), w in zip(runs, wants, strict=True)):
        return
    named = []
    for sentence, bug in bugs.items():
        values = [_value(bug, c) for c, _ in runs]
        if all(v is not None and fits(g, v) for (_, g), v in zip(runs, values, strict=True)) \
                and not all(fits(w, v) for w, v in zip(wants, values, strict=True)):
            named.append(sentence)
    _name(named)


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


def _value(bug: object, case: Case) -> object:
    """What a bug gives on one case (a tuple stays a tuple), or None when it cannot run there."""
    try:
        return bug(*case.make()) if callable(bug) else bug
    except Exception:
        return None


def safe(bug: Callable[[], object]) -> object:
    """What a bug would return, or None when the buggy formula cannot run for this case (wrong shapes)."""
    try:
        return np.asarray(bug(), dtype=float)
    except Exception:
        return None


def run_cases(fn: Callable, cases: Sequence[tuple], read: Callable[[object], object], name: str,
              copy_args: bool = True) -> tuple[list, Wrong | None]:
    """Call fn(*case) for every case and read each answer; stop at the first that raises Wrong.

    Returns the answers read so far and that Wrong (or None), so that a bug can still be named from
    the cases that ran (a wrong product runs on a square case and fails on the next one): pass them
    to `judge`, which names a bug only when it explains every answer.
    """
    results = []
    for case in cases:
        try:
            results.append(read(call(fn, *case, name=name, copy_args=copy_args)))
        except Wrong as err:
            if not results:
                raise
            return results, err
    return results, None


def bug_collisions(reference: Callable[..., object], cases: Sequence[Case | Callable[[], tuple]],
                   bugs: dict[str, object], *, rtol: float = DEFAULT_RTOL) -> list[tuple[str, str]]:
    """Pairs of named bugs that no case tells apart, and ("the right answer", bug) for a bug that is
    right on every case: each named bug needs a case where it alone gives its number.

    For a checker's tests (`assert not bug_collisions(_reference, _CASES, _BUGS)`); a bug that cannot
    run on a case differs there from every bug that can.
    """
    all_cases = list(map(_case, cases))
    values = {"the right answer": [_value(reference, c) for c in all_cases]}
    values.update({s: [_value(b, c) for c in all_cases] for s, b in bugs.items()})

    def same(a: object, b: object) -> bool:
        if a is None or b is None:
            return a is b
        if isinstance(a, tuple) != isinstance(b, tuple):
            return False
        pairs = zip(a, b, strict=False) if isinstance(a, tuple) else [(a, b)]
        if isinstance(a, tuple) and len(a) != len(b):
            return False
        try:
            return all(_matches(np.asarray(x, dtype=float), y, _tolerance_for(np.dtype(np.float64), rtol,
                                                                              DEFAULT_ATOL, _scale(np.asarray(y, dtype=float))))
                       for x, y in pairs)
        except (TypeError, ValueError):
            return False

    names = list(values)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if all(same(x, y) for x, y in zip(values[a], values[b], strict=True))]


# ---------------------------------------------------------------- inputs that find the hard case
def with_extreme(x: object, where: object, value: float = 1e3) -> np.ndarray:
    """A float copy of `x` with `value` at `where` (a boolean mask of x's shape, or an index)."""
    out = np.array(x, dtype=float, copy=True)
    out[where] = value
    return out


def extreme_on_masked(scores: object, allowed: object, big: float = 1e3) -> np.ndarray:
    """Scores (..., T_q, T_k) with `big` on one allowed key per row and `2 * big` on every masked key.

    `allowed` (broadcast to the scores) is True where a query may attend. A softmax shifted by the
    maximum over all keys (masked ones included) then gives 0/0 = NaN on every row that masks a
    key (exp(-big) is 0), one that does not shift overflows (exp(big) is inf), and the right answer
    (shifted by the maximum over the allowed keys) is still finite.
    """
    out = np.array(scores, dtype=float, copy=True)
    allowed = np.broadcast_to(np.asarray(allowed, dtype=bool), out.shape)
    first = np.argmax(allowed, axis=-1)[..., None]  # the first allowed key of each row
    rows_ok = np.take_along_axis(allowed, first, axis=-1)
    np.put_along_axis(out, first, np.where(rows_ok, big, np.take_along_axis(out, first, axis=-1)), axis=-1)
    out[~allowed] = 2 * big
    return out


def extreme_off_target(logits: object, targets: object, big: float = 1e3) -> np.ndarray:
    """Logits (N, V) with `big` on a class other than each row's target (the next one, cyclically).

    A cross-entropy or softmax shifted by the target's logit, or not shifted, overflows to inf;
    one shifted by the row's maximum stays finite.
    """
    out = np.array(logits, dtype=float, copy=True)
    targets = np.asarray(targets).astype(int)
    rows = np.arange(out.shape[0])
    out[rows, (targets + 1) % out.shape[-1]] = big
    return out
