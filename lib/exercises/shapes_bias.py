"""Exercises for the chapter `shapes-bias`: the ledger's shapes, broadcasting, a column bias."""

from __future__ import annotations

import numpy as np

from lib.exercises import Exercise, NotAttempted, Wrong, call, compare
from lib.ledger import linear_ledger

LEDGER_SIZES = {"B": 8, "D_in": 5, "D_out": 3}
LEDGER_NAMES = ("X", "W", "b", "Y", "dY", "dW", "db", "dX")


def _as_shape(value: object, name: str) -> tuple[int, ...]:
    """Read a learner's shape (a tuple or list of ints), or raise Wrong."""
    if value is Ellipsis:
        raise Wrong(f"the shape of {name} is still `...`; fill in every row.")
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        raise Wrong(f"the shape of {name} should be a tuple of integers such as (8, 5), got {value!r}.")
    return tuple(int(v) for v in value)


def _check_ledger(answer) -> str:
    if not isinstance(answer, dict):
        raise Wrong(f"answer with a dict mapping each tensor name to its shape, got {type(answer).__name__}.")
    if answer and all(v is Ellipsis for v in answer.values()):
        raise NotAttempted
    missing = [n for n in LEDGER_NAMES if n not in answer]
    if missing:
        raise Wrong(f"the dict has no entry for {missing}; the ledger has the rows {list(LEDGER_NAMES)}.")
    B, D_in, D_out = LEDGER_SIZES.values()
    ledger = linear_ledger(B, D_in, D_out)
    grad_of = {"dY": "Y", "dW": "W", "db": "b", "dX": "X"}
    for name in LEDGER_NAMES:
        got, want = _as_shape(answer[name], name), ledger.shape(name)
        if got == want:
            continue
        if len(want) == 2 and got == want[::-1]:
            raise Wrong(f"{name} has shape {want}, not {got}: rows are examples and W is (D_in, D_out) in this course.")
        if name in ("b", "db") and got == (B,):
            raise Wrong(f"{name} has one entry per output feature (D_out = {D_out}), not one per example (B = {B}).")
        if name in ("b", "db") and len(got) == 2:
            raise Wrong(f"{name} is one vector shared by every row of the batch: shape (D_out,) = ({D_out},), not {got}.")
        if name in grad_of:
            raise Wrong(f"a gradient always has the shape of the tensor it belongs to: {name} has the shape of "
                        f"{grad_of[name]}, {want}, not {got}.")
        raise Wrong(f"{name} should have shape {want}, not {got}; write its letters first, then substitute the sizes.")
    return "every gradient has the shape of its tensor, and b and db are the only 1-D rows."


ex1 = Exercise(
    "shapes-bias-ex1",
    _check_ledger,
    ["Start from X (B, D_in) and W (D_in, D_out). Y = X @ W has the outer sizes of the product.",
     "Each gradient dT has exactly the shape of T; b is one number per output feature."],
    'answer = {"X": (8, 5), "W": (5, 3), "b": (3,), "Y": (8, 3),\n'
    '          "dY": (8, 3), "dW": (5, 3), "db": (3,), "dX": (8, 5)}',
)

BROADCAST_CASES = (  # (shape of Y, shape of b) for `Y + b`
    ((4, 3), (3,)),
    ((4, 3), (1, 3)),
    ((4, 3), (4,)),
    ((4, 3), (4, 1)),
    ((4, 3), (3, 1)),
    ((3, 3), (3, 1)),
    ((4, 3), ()),
)


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _describe(answer: object) -> str:
    kind = type(answer).__name__
    return f"a {kind} of {len(answer)} entries" if isinstance(answer, (list, tuple)) else kind


def _check_broadcast(answer) -> str:
    if not isinstance(answer, (list, tuple)) or len(answer) != len(BROADCAST_CASES):
        raise Wrong(f"answer with a list of {len(BROADCAST_CASES)} entries, one per case: the shape of Y + b, "
                    f"or None when NumPy raises an error; got {_describe(answer)}.")
    for (y, b), got in zip(BROADCAST_CASES, answer, strict=True):
        want = _broadcast(y, b)
        case = f"Y {y} + b {b}"
        if got is None:
            if want is None:
                continue
            stretch = " A size-1 axis (or a missing leading axis) stretches to match." if 1 in b or len(b) < len(y) else ""
            raise Wrong(f"{case} does work: it gives shape {want}.{stretch}")
        got = _as_shape(got, case)
        if want is None:
            raise Wrong(f"{case} raises an error. Align the shapes from the right: "
                        f"{y} against {(1,) * (len(y) - len(b)) + b}; a pair of sizes must be equal or contain a 1.")
        if got != want:
            raise Wrong(f"{case} gives shape {want}, not {got}: each axis takes the larger of the two sizes.")
    return ("note the silent case: Y (3, 3) + b (3, 1) runs, but adds b[i] to every entry of row i, "
            "not b[j] to column j.")


ex2 = Exercise(
    "shapes-bias-ex2",
    _check_broadcast,
    ["Write both shapes right-aligned, pad the shorter one with 1s on the left, then compare axis by axis.",
     "Two sizes fit when they are equal or one of them is 1; the result takes the larger. (4,) pads to (1, 4)."],
    "answer = [(4, 3), (4, 3), None, (4, 3), None, (3, 3), (4, 3)]",
)

_rng = np.random.default_rng(11)
_COLUMN_CASES = [  # (X, W, b_col): the first is square (B == D_out), where the bug is silent
    (_rng.normal(size=(3, 4)), _rng.normal(size=(4, 3)), _rng.normal(size=(3, 1))),
    (_rng.normal(size=(5, 2)), _rng.normal(size=(2, 3)), _rng.normal(size=(3, 1))),
]


def _check_column_bias(fn) -> str:
    for X, W, b_col in _COLUMN_CASES:
        _check_column_case(fn, X, W, b_col)
    return "b_col.ravel() (or b_col[:, 0], or b_col.T) turns the column into a bias that broadcasts over the batch."


def _check_column_case(fn, X: np.ndarray, W: np.ndarray, b_col: np.ndarray) -> None:
    got = call(fn, X, W, b_col, name="your forward")
    XW = X @ W  # (B, D_in) @ (D_in, D_out) -> (B, D_out)
    compare(got, XW + b_col.T, name=f"forward for B={X.shape[0]}, D_out={W.shape[1]}", bugs={
        "you added the column b_col as it is: (B, D_out) + (D_out, 1) adds b[i] to every entry of row i "
        "(it only ran because B == D_out). Turn b_col into a (D_out,) vector first.": lambda: XW + b_col,
        "the bias is missing: add it after the matrix product.": XW,
        "that is one row per output feature; return (B, D_out), rows are examples.": lambda: (XW + b_col.T).T,
    })


ex3 = Exercise(
    "shapes-bias-ex3",
    _check_column_bias,
    ["Print the shapes: X @ W is (B, D_out), b_col is (D_out, 1). Which axis of b_col lines up with which axis of the product?",
     "Make the bias a 1-D (D_out,) vector with b_col.ravel() (or b_col[:, 0]) before adding."],
    "def forward(X, W, b_col):\n    return X @ W + b_col.ravel()  # (B, D_out) + (D_out,)",
)
