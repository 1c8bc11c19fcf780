"""Judge a learner's answer on several cases at once, so that a bug is named only when it explains all.

`judge(results, wants, bugs, names)` takes what the learner returned for each case, the reference
for each case and a dict `sentence -> [what the bug gives, per case]`. A bug is named only when it
reproduces the answer on **every** case (an answer that merely resembles a bug on one case gets the
plain comparison instead); when several bugs do, the message says "either ... or ...".
Comparison is fair to float32: relative 1e-5 of the answer's scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lib.exercises import Wrong, call, compare, to_array

RTOL = 1e-5


def as_values(got: object, name: str) -> np.ndarray:
    """A learner's number or array as a float array; a size-1 array counts as its single number."""
    arr = to_array(got, name)
    return arr.reshape(()) if arr.size == 1 and arr.ndim > 0 else arr


def close(got: np.ndarray, want: object, rtol: float = RTOL) -> bool:
    """Same shape, and every entry within rtol of the larger of |want|'s largest entry and 1e-12."""
    if want is None:  # a bug that cannot even be computed for this case
        return False
    want = np.asarray(want, dtype=float)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    scale = max(float(np.abs(want).max()) if want.size else 0.0, 1e-12)
    return bool(np.all(np.abs(got - want) <= rtol * scale))


def safe(bug: Callable[[], object]) -> object:
    """What a bug would return, or None when the buggy formula cannot run for this case (wrong shapes)."""
    try:
        return np.asarray(bug(), dtype=float)
    except Exception:
        return None


def either(sentences: Sequence[str]) -> str:
    """One sentence, or 'either A, or B' for several."""
    if len(sentences) == 1:
        return sentences[0]
    parts = [s.rstrip(".") for s in sentences]
    parts = [p[0].lower() + p[1:] if p[:2] not in ("X ", "W ", "B ") and not p[:2].isupper() else p for p in parts]
    return "This answer fits more than one mistake: either " + ", or ".join(parts) + "."


def judge(results: Sequence[np.ndarray], wants: Sequence[object], bugs: dict[str, Sequence[object]],
          names: Sequence[str], rtol: float = RTOL) -> None:
    """Raise Wrong unless every result matches its want; name the bugs that explain every case."""
    if all(close(g, w, rtol) for g, w in zip(results, wants, strict=True)):
        return
    named = [sentence for sentence, values in bugs.items()
             if all(close(g, v, rtol) for g, v in zip(results, values, strict=True))]
    if named:
        raise Wrong(either(named))
    for g, w, name in zip(results, wants, names, strict=True):
        if not close(g, w, rtol):
            w = np.asarray(w, dtype=float)
            compare(g, w, name=name, rtol=rtol, atol=rtol * max(float(np.abs(w).max()) if w.size else 0.0, 1e-12))
            show = lambda a: np.array2string(np.asarray(a), precision=8)  # noqa: E731
            raise Wrong(f"{name} is close but not within {rtol:g} of the expected value: got {show(g)}, expected {show(w)}.")


def run(fn: Callable, cases: Sequence[tuple], read: Callable[[object], object], name: str,
        copy_args: bool = True) -> tuple[list, Wrong | None]:
    """Call fn(*case) for every case and read each answer; stop at the first that raises Wrong.

    Returns the answers read so far and that Wrong (or None), so that a bug can still be named from
    the cases that ran (a wrong product runs on a square case and fails on the next one).
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
