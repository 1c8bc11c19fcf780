"""Exercises for the chapter `tiny-gpt`: LayerNorm's backward pass, the attention pattern, an adapter's size."""

from __future__ import annotations

import numpy as np

from lib import gpt
from lib.exercises import Exercise, Wrong, call, compare, to_array
from lib.gradcheck import check_gradients

EPS = 1e-5


# ---------------------------------------------------------------- ex1: LayerNorm backward
def _ln_parts(x: np.ndarray, g: np.ndarray, dy: np.ndarray):
    xc = x - x.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + EPS)
    xhat = xc * rstd
    u = dy * g
    return xhat, rstd, u


def _ln_bugs(x: np.ndarray, g: np.ndarray, dy: np.ndarray) -> dict[str, tuple]:
    """Named wrong answers (dx, dg, db) for LayerNorm's backward pass."""
    xhat, rstd, u = _ln_parts(x, g, dy)
    d = x.shape[-1]
    dg, db = (dy * xhat).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)
    mean = u.mean(axis=-1, keepdims=True)
    proj = (u * xhat).mean(axis=-1, keepdims=True)
    return {
        "dx treats the mean and the standard deviation as constants (dx = dy * g / sigma): but both depend on "
        "every entry of the row, so subtract mean(u) and xhat * mean(u * xhat) too.": (u * rstd, dg, db),
        "dx is missing the - mean(u) term, the path through the row's mean.": (rstd * (u - xhat * proj), dg, db),
        "dx is missing the - xhat * mean(u * xhat) term, the path through the row's variance.": (rstd * (u - mean), dg, db),
        "dx forgot the gain: the gradient reaching xhat is dy * g, not dy.":
            (rstd * (dy - dy.mean(-1, keepdims=True) - xhat * (dy * xhat).mean(-1, keepdims=True)), dg, db),
        "dg uses x instead of the normalised xhat: y = g * xhat + b, so dg = sum(dy * xhat).":
            (rstd * (u - mean - xhat * proj), (dy * x).reshape(-1, d).sum(0), db),
        "db is a mean over the rows; b is added to every row, so its gradient is the sum.":
            (rstd * (u - mean - xhat * proj), dg, dy.reshape(-1, d).mean(0)),
        "dg is a mean over the rows; g scales every row, so its gradient is the sum.":
            (rstd * (u - mean - xhat * proj), (dy * xhat).reshape(-1, d).mean(0), db),
    }


_LN_SHAPES = ((3, 5), (2, 4, 6), (7, 3), (1, 8))


def _check_ln(fn) -> str:
    for k, shape in enumerate(_LN_SHAPES):
        rng = np.random.default_rng(10 + k)
        x, g, dy = 1.5 * rng.standard_normal(shape) + 0.3, rng.standard_normal(shape[-1]), rng.standard_normal(shape)
        b = rng.standard_normal(shape[-1])
        out = call(fn, dy, x, g, name="your ln_backward")
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise Wrong(f"ln_backward should return three arrays (dx, dg, db), got {type(out).__name__}"
                        f"{f' of length {len(out)}' if isinstance(out, (tuple, list)) else ''}.")
        got = [to_array(o, name) for o, name in zip(out, ("dx", "dg", "db"), strict=True)]
        d = shape[-1]
        if got[1].shape == shape or got[2].shape == shape:
            raise Wrong(f"dg and db should have shape (d,) = ({d},): g and b are shared by every row, so sum "
                        f"their gradients over all the leading axes (got dg {got[1].shape}, db {got[2].shape}).")
        _, cache = gpt.layer_norm(x, g, b, EPS)
        want = gpt.layer_norm_backward(dy, cache)
        label = f"for x of shape {shape}"
        for sentence, bug in _ln_bugs(x, g, dy).items():
            if all(a.shape == w.shape and np.allclose(a, w, rtol=1e-4, atol=1e-7) for a, w in zip(got, bug, strict=True)) and \
                    not all(np.allclose(a, w, rtol=1e-4, atol=1e-7) for a, w in zip(got, want, strict=True)):
                raise Wrong(f"{label}: {sentence}")
        for arr, ref, name in zip(got, want, ("dx", "dg", "db"), strict=True):
            if arr.shape != ref.shape:
                raise Wrong(f"{label}: {name} should have shape {ref.shape}, got {arr.shape}.")
        # the verdict, as in the chapter: central differences of L = sum(dy * y)
        def loss(x=x, g=g, b=b, dy=dy) -> float:
            return float((dy * gpt.layer_norm(x, g, b, EPS)[0]).sum())

        report = check_gradients(loss, {"x": x, "g": g, "b": b}, {"x": got[0], "g": got[1], "b": got[2]}, tol=1e-4)
        if not report.ok:
            bad = [r for r in report.rows if not r.ok]
            raise Wrong(f"{label}: finite differences disagree with your " + ", ".join(
                f"d{r.name} (relative error {r.rel_error:.1e})" for r in bad) + ".")
    return "dx, dg and db agree with finite differences on every shape tried, including a 3-D batch."


ex1 = Exercise(
    "tiny-gpt-ex1",
    _check_ln,
    ["Recompute xhat and 1/sigma from x first. dg and db are sums over every row; for dx, start from "
     "u = dy * g, the gradient reaching xhat.",
     "dx = (u - u.mean(-1, keepdims=True) - xhat * (u * xhat).mean(-1, keepdims=True)) / sigma; "
     "flatten the leading axes with reshape(-1, d) before summing for dg and db."],
    "def ln_backward(dy, x, g):\n"
    "    d = x.shape[-1]\n"
    "    xc = x - x.mean(axis=-1, keepdims=True)\n"
    "    rstd = 1 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + 1e-5)\n"
    "    xhat = xc * rstd                                 # (..., d)\n"
    "    u = dy * g                                       # gradient reaching xhat\n"
    "    dx = rstd * (u - u.mean(-1, keepdims=True) - xhat * (u * xhat).mean(-1, keepdims=True))\n"
    "    dg = (dy * xhat).reshape(-1, d).sum(axis=0)      # (d,)\n"
    "    db = dy.reshape(-1, d).sum(axis=0)               # (d,)\n"
    "    return dx, dg, db",
)


# ---------------------------------------------------------------- ex2: the attention pattern
def _positions(n: int, task: str) -> np.ndarray:
    j = np.arange(n)
    return n - 1 - j if task == "reverse" else (j + 1) % n


def _check_positions(fn) -> str:
    for n in (5, 3, 8):
        for task in ("reverse", "rotate"):
            got = call(fn, n, task, name="your attended_position")
            label = f"attended_position({n}, {task!r})"
            want = _positions(n, task)
            j = np.arange(n)
            bugs = {
                "off by one: the first answer digit is x_n, at position n - 1 (positions count from 0).":
                    (n - j) if task == "reverse" else (j + 2) % n,
                "those positions count from 1; the first input digit is position 0.": want + 1,
                "those are the query positions themselves (n + j); the query must look back into the input.": n + j,
                "those are the positions of the digits being written; the query reads the input digit that the "
                "answer copies.": n + 1 + j,
                "the rotation must wrap round: the last answer digit is x_1, at position 0, not the separator at n.":
                    j + 1 if task == "rotate" else None,
                "that is a rotation to the right; y = (x_2, ..., x_n, x_1) is a rotation to the left.":
                    (j - 1) % n if task == "rotate" else None,
                "that is the other task's pattern.": _positions(n, "rotate" if task == "reverse" else "reverse"),
            }
            compare(got, want, name=label, rtol=0, atol=0.5,
                    bugs={k: v for k, v in bugs.items() if v is not None and not np.array_equal(v, want)})
    return "reversal reads the input on an anti-diagonal, rotation on a diagonal shifted one step right that wraps round."


ex2 = Exercise(
    "tiny-gpt-ex2",
    _check_positions,
    ["The query at position n + j writes answer digit y_(j+1). Which input digit is it, and at which position?",
     "Reverse: y_(j+1) = x_(n-j), at position n - 1 - j. Rotate: y_(j+1) = x_(j+2), at position (j + 1) mod n."],
    "def attended_position(n, task):\n"
    "    j = np.arange(n)\n"
    "    return n - 1 - j if task == 'reverse' else (j + 1) % n",
)


# ---------------------------------------------------------------- ex3: the adapter's size
_SHAPES = {"Wq": ("d", "d"), "Wk": ("d", "d"), "Wv": ("d", "d"), "Wo": ("d", "d"), "W1": ("d", "F"), "W2": ("F", "d")}
_ADAPTER_CASES = ((32, 64, 8, 1, ("Wq", "Wk")), (16, 48, 2, 3, ("Wq", "W1", "W2")), (8, 20, 4, 2, ("Wv", "Wo", "W2")),
                  (24, 24, 3, 2, ("W1",)))


def _adapter(d: int, F: int, r: int, L: int, targets: tuple[str, ...]) -> int:
    size = {"d": d, "F": F}
    return L * sum(r * (size[_SHAPES[t][0]] + size[_SHAPES[t][1]]) for t in targets)


def _check_adapter(fn) -> str:
    for d, F, r, L, targets in _ADAPTER_CASES:
        got = call(fn, d, F, r, L, targets, name="your adapter_params")
        label = f"adapter_params({d}, {F}, {r}, {L}, {targets})"
        want = _adapter(d, F, r, L, targets)
        bugs = {
            "2*d*r holds only for the square d x d projections; W1 and W2 are d x d_ff, so their adapters have "
            "r * (d + d_ff).": L * len(targets) * 2 * d * r,
            "you left out the layers: every block has its own adapters.": want // L,
            "you counted only one factor of each adapter (D_in * r); the other (r * D_out) trains too.":
                L * sum(r * ({"d": d, "F": F}[_SHAPES[t][0]]) for t in targets),
            "that is the size of the full matrices, not of their adapters.":
                L * sum({"d": d, "F": F}[_SHAPES[t][0]] * {"d": d, "F": F}[_SHAPES[t][1]] for t in targets),
        }
        compare(got, want, name=label, rtol=0, atol=0.5, bugs={k: v for k, v in bugs.items() if v != want})
    return "1,024 for this chapter's adapter: two adapters of 8 x (32 + 32) each."


ex3 = Exercise(
    "tiny-gpt-ex3",
    _check_adapter,
    ["An adapter on a (D_in, D_out) matrix is B (D_in, r) and A (r, D_out). Find D_in and D_out of each target.",
     "Wq, Wk, Wv, Wo: r * (d + d); W1 and W2: r * (d + d_ff). Add over the targets, times n_layers."],
    "def adapter_params(d, d_ff, r, n_layers, targets):\n"
    "    sizes = {'Wq': (d, d), 'Wk': (d, d), 'Wv': (d, d), 'Wo': (d, d), 'W1': (d, d_ff), 'W2': (d_ff, d)}\n"
    "    return n_layers * sum(r * (sizes[t][0] + sizes[t][1]) for t in targets)",
)
