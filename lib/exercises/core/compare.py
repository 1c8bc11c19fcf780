"""Reading and comparing answers: numbers, arrays, counts, quantities with units, choices, shapes.

Any real dtype, list, tuple, NumPy scalar or 0-d array is read; so is an array of another library
(anything with `__array__`: JAX, PyTorch on the CPU, CuPy's `.get()`), and any 0-d array of those is
taken as a number. The tolerance follows the answer's precision (float32 is judged as float32) and
the scale of the right answer. A bug is named only when the answer matches it as tightly as it
would have to match the right answer, and never when that value is also right.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from lib.exercises.core.exercise import Wrong, _size_bound

__all__ = [
    "BYTE_UNITS", "DEFAULT_ATOL", "DEFAULT_RTOL", "FLOP_UNITS", "TIME_UNITS", "ULPS", "as_shape", "as_values",
    "close", "compare", "compare_choice", "compare_count", "compare_units", "judge", "to_array", "to_number",
]

DEFAULT_RTOL, DEFAULT_ATOL = 1e-6, 1e-9
# how many units of its own precision (by itemsize) a correct answer may be off, relative to the scale:
# float32 sums of a few hundred terms drift by tens of ulps; float16 keeps only 3 digits, so a few of its ulps
ULPS = {2: 8, 4: 32, 8: 32}


# ---------------------------------------------------------------- reading answers
def _read(got: object, name: str) -> tuple[np.ndarray, np.dtype]:
    """The answer as a float64 array and the dtype whose precision it was computed in."""
    got = _scalar(got)
    if got is None:
        raise Wrong(f"{name} is None; did you forget to `return` (or assign) it?")
    if isinstance(got, (str, bytes, dict, set)) or (callable(got) and not hasattr(got, "__array__")):
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


def _scalar(got: object) -> object:
    """A 0-d array of any library (NumPy, JAX, PyTorch: `__array__` or `item()` with shape ()) -> its value."""
    if isinstance(got, (numbers.Number, np.generic, str, bytes)) or getattr(got, "shape", None) != ():
        return got
    try:
        raw = np.asarray(got)
    except Exception:
        raw = None
    if raw is not None and raw.ndim == 0 and raw.dtype.kind in "biuf":
        return raw[()]
    item = getattr(got, "item", None)
    if callable(item):
        try:
            return item()
        except Exception:
            return got
    return got


def to_number(got: object, name: str = "your answer", *, what: str = "a number") -> float:
    """Read a learner's answer as one finite real number (also a NumPy scalar or any library's 0-d array)."""
    if callable(got) and not hasattr(got, "__array__"):
        raise Wrong(f"answer with {what}, got a function; call it and use what it returns.")
    got = _scalar(got)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (numbers.Real, np.integer, np.floating)):
        shape = getattr(got, "shape", None)
        hint = f" of shape {tuple(shape)}; give a single number (e.g. x.item())" if shape not in (None, ()) else ""
        raise Wrong(f"answer with {what}, got {type(got).__name__}{hint}.")
    try:
        value = float(got)
    except OverflowError:
        raise Wrong(f"{name} is too large to be a float.") from None
    if not np.isfinite(value):
        raise Wrong(f"{name} is NaN or infinite.")
    return value


def as_shape(value: object, what: str) -> tuple[int, ...]:
    """Read a shape (a tuple, list or 1-D integer array; a bare int for 1-D), or raise Wrong."""
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.dtype.kind in "iu":
        value = tuple(value.tolist()) if value.ndim else int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        raise Wrong(f"answer with {what}, a tuple of integers such as (2, 9); got {value!r}.")
    return tuple(int(v) for v in value)


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
    sentences = list(dict.fromkeys(sentences))
    if len(sentences) == 1:
        raise Wrong(sentences[0], bug=True)
    if sentences:
        raise Wrong("More than one mistake gives exactly this answer. " + " Or: ".join(
            ["Either: " + sentences[0], *sentences[1:]]), bug=True)


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
    raw = np.asarray(_scalar(got))
    if value != round(value):
        eps = float(np.finfo(raw.dtype).eps) if raw.dtype.kind == "f" else 0.0
        if abs(value - round(value)) > eps * abs(value):
            raise Wrong(f"{name} is {value!r}, but {what} is a whole number.")
    scalar = _scalar(got)
    return int(scalar) if isinstance(scalar, (numbers.Integral, np.integer)) else round(value)


def compare_count(got: object, want: int, *, name: str = "your answer", bugs: dict[str, object] | None = None,
                  reveal: bool = False, what: str = "a count") -> None:
    """Raise Wrong unless `got` is the whole number `want` (16, 16.0, np.int64(16), np.array(16) all pass).

    A float32 answer may be off by its own rounding (2**24 + 1 is not a float32). `bugs` maps a
    sentence to the integer (or zero-argument function) a known mistake gives.
    """
    value = _whole(got, name, what)
    raw = np.asarray(_scalar(got))
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




# ---------------------------------------------------------------- several cases judged at once
def as_values(got: object, name: str) -> np.ndarray:
    """A learner's number or array as a float array; a size-1 array counts as its single number.

    float16 is refused (its 3 digits cannot reach the tolerance of `judge`).
    """
    if getattr(got, "dtype", None) == np.float16:
        raise Wrong(f"{name} is float16, which keeps only about 3 significant digits; compute in float32 or float64.")
    arr = _read(got, name)[0]
    return arr.reshape(()) if arr.size == 1 and arr.ndim > 0 else arr


def _uniform(want: np.ndarray, rtol: float) -> Tolerance:
    """The tolerance of `judge`: the engine's, with rtol of the scale as its floor for every entry."""
    scale = max(_scale(want), 1e-12)
    return _tolerance_for(np.dtype(np.float64), rtol, rtol * scale, scale)


def close(got: np.ndarray, want: object, rtol: float = 1e-5) -> bool:
    """Same shape, finite, and every entry within the engine's tolerance (rtol of want's scale at least)."""
    if want is None:  # a bug that cannot even be computed for this case
        return False
    try:
        want = np.asarray(want, dtype=float)
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    return bool(np.all(_close(got, want, _uniform(want, rtol)(want))))


def judge(results: Sequence[np.ndarray], wants: Sequence[object], bugs: dict[str, Sequence[object]],
          names: Sequence[str], rtol: float = 1e-5) -> None:
    """Raise Wrong unless every result matches its want; a bug is named only when it explains every result.

    `bugs` maps a sentence to the values that mistake gives, one per result (None where it cannot run).
    """
    if all(close(g, w, rtol) for g, w in zip(results, wants, strict=True)):
        return
    _name([sentence for sentence, values in bugs.items()
           if all(close(g, v, rtol) for g, v in zip(results, values, strict=True))
           and not all(close(w, v, rtol) for w, v in zip(wants, values, strict=True))])
    for g, w, name in zip(results, wants, names, strict=True):
        if not close(g, w, rtol):
            w = np.asarray(w, dtype=float)
            compare(g, w, name=name, rtol=rtol, atol=rtol * max(_scale(w), 1e-12))
            show = lambda a: np.array2string(np.asarray(a), precision=8)  # noqa: E731
            raise Wrong(f"{name} is close but not within {rtol:g} of the expected value: got {show(g)}, expected {show(w)}.")
