"""Exercises for the chapter `shapes-bias`.

ex1 the whole ledger by hand; ex2 which shapes broadcast; ex3 fix a column bias; ex4 a bias guard
that catches the silent cases (B = 1 among them); ex5 recover W and b of an affine map from its
outputs. Letters: B batch, D_in features in, D_out features out; the course orientation is
`Y = X @ W + b` with X (B, D_in), W (D_in, D_out), b (D_out,).
"""

from __future__ import annotations

import numbers

import numpy as np

from lib.exercises import (
    Exercise,
    NotAttempted,
    Wrong,
    call,
    cases,
    check_function,
    compare,
    explain_crashes,
    need_function,
)
from lib.ledger import linear_ledger

# ---------------------------------------------------------------- ex1: the ledger by hand
LEDGER_SIZES = {"B": 8, "D_in": 5, "D_out": 3}
LEDGER_NAMES = ("X", "W", "b", "Y", "dY", "dW", "db", "dX")
_LETTERS = {"X": "(B, D_in)", "W": "(D_in, D_out)", "b": "(D_out,)", "Y": "(B, D_out)"}
_GRAD_OF = {"dY": "Y", "dW": "W", "db": "b", "dX": "X"}


def _as_shape(value: object, name: str) -> tuple[int, ...]:
    """Read a learner's shape (a tuple, list or 1-D integer array; a bare int for 1-D), or raise Wrong."""
    if value is Ellipsis:
        raise Wrong(f"the shape of {name} is still `...`; fill in every row.")
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.dtype.kind in "iu":
        value = tuple(value.tolist()) if value.ndim else int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        raise Wrong(f"the shape of {name} should be a tuple of integers such as (2, 7), got {value!r}.")
    return tuple(int(v) for v in value)


def _check_ledger(answer) -> str:
    if not isinstance(answer, dict):
        raise Wrong(f"answer with a dict mapping each tensor name to its shape, got {type(answer).__name__}.")
    if answer and all(v is Ellipsis for v in answer.values()):
        raise NotAttempted
    by_lower = {str(k).lower(): v for k, v in answer.items()}
    answer = {n: answer[n] if n in answer else by_lower.get(n.lower(), answer.get(n)) for n in LEDGER_NAMES
              if n in answer or n.lower() in by_lower}  # "x" for "X" is fine: the eight names differ in lower case
    missing = [n for n in LEDGER_NAMES if n not in answer]
    if missing:
        raise Wrong(f"the dict has no entry for {missing}; the ledger has the rows {list(LEDGER_NAMES)}.")
    B, D_in, D_out = LEDGER_SIZES.values()
    ledger = linear_ledger(B, D_in, D_out)
    for name in LEDGER_NAMES:  # the rule that is broken, never the shape itself
        got, want = _as_shape(answer[name], name), ledger.shape(name)
        if got == want:
            continue
        base = _GRAD_OF.get(name, name)
        if name in _GRAD_OF and got != ledger.shape(base) and any(got == ledger.shape(o) for o in _LETTERS):
            raise Wrong(f"{name} is shaped like another tensor: a gradient always has the shape of the tensor "
                        f"it belongs to, here {base}.")
        if len(want) == 2 and got == want[::-1]:
            raise Wrong(f"{name} is transposed: rows are examples and W is (D_in, D_out) in this course.")
        if base == "b" and got == (B,):
            raise Wrong(f"{name} has one entry per output feature, not one per example.")
        if base == "b" and got == (D_in,):
            raise Wrong(f"{name} has one entry per output feature (D_out), not one per input feature (D_in).")
        if base == "b" and len(got) == 2:
            raise Wrong(f"{name} is one vector shared by every row of the batch: 1-D, (D_out,).")
        if base == "b" and got == ():
            raise Wrong(f"{name} is a vector with one entry per output feature, not a single number.")
        raise Wrong(f"the shape of {name} is not right; write it in letters first, {name} "
                    f"{_LETTERS[base]}, then put in B = {B}, D_in = {D_in}, D_out = {D_out}.")
    return "every gradient has the shape of its tensor, and b and db are the only 1-D rows."


ex1 = Exercise(
    "shapes-bias-ex1",
    _check_ledger,
    ["Start from X (B, D_in) and W (D_in, D_out). Y = X @ W has the outer sizes of the product.",
     "A gradient dT always has exactly the shape of T; b holds one number per output feature."],
    'answer = {"X": (8, 5), "W": (5, 3), "b": (3,), "Y": (8, 3),\n'
    '          "dY": (8, 3), "dW": (5, 3), "db": (3,), "dX": (8, 5)}',
    why="Write each row in letters, X (B, D_in), W (D_in, D_out), b (D_out,), Y (B, D_out), "
    "and copy each shape to its gradient; then substitute the sizes.",
)


# ---------------------------------------------------------------- ex2: which shapes broadcast?
BROADCAST_CASES = (  # (shape of Y, shape of b) for `Y + b`
    ((4, 3), (3,)),
    ((4, 3), (1, 3)),
    ((4, 3), (4,)),
    ((4, 3), (4, 1)),
    ((4, 3), (3, 1)),
    ((3, 3), (3, 1)),
    ((1, 3), (3, 1)),
    ((4, 3), ()),
    ((2, 5, 3), (3,)),
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
            raise Wrong(f"{case} does work.{stretch}")
        if isinstance(got, str):
            raise Wrong(f"for {case} write None (not a string) when NumPy raises an error, or the shape as a tuple.")
        got = _as_shape(got, case)
        if want is None:
            raise Wrong(f"{case} raises an error. Align the shapes from the right: "
                        f"{y} against {(1,) * (len(y) - len(b)) + b}; a pair of sizes must be equal or contain a 1.")
        if got != want:
            hint = " A size-1 axis stretches on both sides: the result can be larger than Y." if len(want) == len(y) and want != y else ""
            raise Wrong(f"{case} does not give {got}: each axis takes the larger of the two sizes.{hint}")
    return ("note the silent cases: Y (3, 3) + b (3, 1) adds b[i] to every entry of row i, and with one "
            "example Y (1, 3) + b (3, 1) turns one row into three.")


ex2 = Exercise(
    "shapes-bias-ex2",
    _check_broadcast,
    ["Write both shapes right-aligned, pad the shorter one with 1s on the left, then compare axis by axis.",
     "Two sizes fit when they are equal or one of them is 1; the result takes the larger. (4,) pads to (1, 4)."],
    "answer = [(4, 3), (4, 3), None, (4, 3), None, (3, 3), (3, 3), (4, 3), (2, 5, 3)]",
    why="Pad on the left, then each axis takes the larger size if the two are equal or one is 1; "
    "otherwise NumPy raises. A size-1 axis of Y stretches too, which is how (1, 3) + (3, 1) becomes (3, 3).",
)


# ---------------------------------------------------------------- ex3: fix a column bias
def _forward(X: np.ndarray, W: np.ndarray, b_col: np.ndarray) -> np.ndarray:
    """X (B, D_in), W (D_in, D_out), b_col (D_out, 1) -> Y (B, D_out)."""
    return X @ W + b_col[:, 0]  # (B, D_out) + (D_out,)


COLUMN_CASES = cases(  # the first two run silently with the column as it is: B = 1 and B = D_out
    lambda B, D_in, D_out, rng: (rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)),
                                 rng.normal(size=(D_out, 1))),
    dict(B=1, D_in=4, D_out=3), dict(B=3, D_in=4, D_out=3), dict(B=5, D_in=2, D_out=3), dict(B=2, D_in=3, D_out=4),
    seed=11)


def _only_if(condition: bool, value: np.ndarray) -> np.ndarray:
    if not condition:
        raise ValueError("this bug does not apply here")
    return value


COLUMN_BUGS = {
    "you added the column b_col as it is: with one example, (1, D_out) + (D_out, 1) broadcasts to (D_out, D_out). "
    "Turn b_col into a (D_out,) vector first.": lambda X, W, b_col: _only_if(len(X) == 1, X @ W + b_col),
    "you added the column b_col as it is: (B, D_out) + (D_out, 1) adds b[i] to every entry of row i; it only ran "
    "because B == D_out. Turn b_col into a (D_out,) vector first.":
        lambda X, W, b_col: _only_if(len(X) > 1, X @ W + b_col),
    "the bias is missing: add it after the matrix product.": lambda X, W, b_col: X @ W,
    "b_col[0] is the first entry only (a length-1 row); b_col[:, 0] is the whole column as a vector.":
        lambda X, W, b_col: X @ W + b_col[0],
    "you added the sum of the bias entries to every feature; each output feature gets its own entry.":
        lambda X, W, b_col: X @ W + b_col.sum(),
    "that is one row per output feature; return (B, D_out), rows are examples.":
        lambda X, W, b_col: (X @ W + b_col.T).T,
    "you added the mean of the bias entries to every feature; each output feature gets its own entry.":
        lambda X, W, b_col: X @ W + b_col.mean(),
    "the bias is subtracted; add it.": lambda X, W, b_col: X @ W - b_col[:, 0],
    "the bias is added twice; add it once.": lambda X, W, b_col: X @ W + 2 * b_col[:, 0],
    "the bias went into W before the product, X @ (W + b); add it after the product, X @ W + b.":
        lambda X, W, b_col: X @ (W + b_col.T),
}

COLUMN_CRASHES = {  # a fragment of NumPy's error -> what to change
    "matmul": "X (B, D_in) @ W (D_in, D_out) lines up as it is: only the bias needs a new shape.",
}


def _check_column_bias(fn) -> str:
    check_function(explain_crashes(fn, COLUMN_CRASHES), _forward, COLUMN_CASES, name="your forward",
                   output="your Y", bugs=COLUMN_BUGS)
    return "b_col.ravel() (or b_col[:, 0], or b_col.T) turns the column into a bias that broadcasts over the batch."


ex3 = Exercise(
    "shapes-bias-ex3",
    _check_column_bias,
    ["Print the shapes: X @ W is (B, D_out), b_col is (D_out, 1). Which axis of b_col lines up with which axis "
     "of the product when NumPy aligns them from the right?",
     "Make the bias 1-D, shape (D_out,), before adding; NumPy has several ways to drop an axis of size 1."],
    "def forward(X, W, b_col):\n    return X @ W + b_col.ravel()  # (B, D_out) + (D_out,)",
    why="A (D_out,) bias pads to (1, D_out) and lines up with the features; the column lined up with the "
    "examples instead.",
)


# ---------------------------------------------------------------- ex4: a guard for the bias
_GUARD_GOOD = [(1, 3), (4, 4), (5, 2), (2, 6)]  # (B, D_out) with a correct (D_out,) bias
_GUARD_BAD = [  # (B, D_out, shape of b, why it runs silently)
    (1, 3, (3, 1), "runs silently with one example and returns a (3, 3) array: the B = 1 trap"),
    (1, 3, (1,), "runs silently: a one-entry bias is added to every feature"),
    (4, 4, (4, 1), "runs silently when B == D_out and adds b[i] to every entry of row i"),
    (5, 2, (5, 1), "runs silently: a (B, 1) bias adds one number per example"),
    (5, 2, (5,), "raises inside NumPy with a message that does not name the bias"),
    (2, 6, (2, 6), "runs silently: a (B, D_out) array is a different bias for every example"),
    (2, 6, (), "runs silently: a single number is added to every feature"),
]
_GUARD_OK_EITHER = [(3, 4, (1, 4))]  # a (1, D_out) bias broadcasts correctly: raising or adding are both fine


def _guard_data(n: int, d_out: int, b_shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d_out)), np.asarray(rng.normal(size=b_shape) + 1.0)  # a 0-d array, not a float


def _call_guard(fn, Y: np.ndarray, b: np.ndarray) -> tuple[object, Exception | None]:
    """Run the learner's add_bias; return (result, None), or (None, the exception it raised)."""
    need_function(fn)

    def guarded(Y, b):
        try:
            return fn(Y, b), None
        except TimeoutError:
            raise
        except Exception as err:  # a refusal; _check_guard asks for a ValueError
            return None, err

    got, err = call(guarded, Y, b, name="your add_bias")
    if got is Ellipsis:
        raise NotAttempted
    if isinstance(got, BaseException):
        raise Wrong(f"your add_bias returned a {type(got).__name__} instead of raising it: write "
                    f"`raise {type(got).__name__}(...)`.")
    return got, err


def _is(got: object, want: np.ndarray) -> bool:
    try:
        compare(got, want)
    except Wrong:
        return False
    return True


def _check_guard(fn) -> str:
    for k, (n, d_out) in enumerate(_GUARD_GOOD):
        Y, b = _guard_data(n, d_out, (d_out,), k)
        got, err = _call_guard(fn, Y, b)
        if err is not None:
            earlier = (f" It accepted the bias for Y {_GUARD_GOOD[0]}: is a size hard-coded? Read D_out from "
                       "Y.shape[1]." if k else "")
            raise Wrong(f"your add_bias rejected a correct bias of shape ({d_out},) for Y ({n}, {d_out}) "
                        f"({type(err).__name__}: {err}); a bias of shape (Y.shape[1],) must pass.{earlier}")
        compare(got, Y + b, name=f"add_bias for Y ({n}, {d_out}) and b ({d_out},)")
    for k, (n, d_out, b_shape, why) in enumerate(_GUARD_BAD):
        Y, b = _guard_data(n, d_out, b_shape, 10 + k)
        got, err = _call_guard(fn, Y, b)
        if isinstance(err, AssertionError):
            raise Wrong(f"your add_bias refused b of shape {b_shape} with an assert, which raises AssertionError "
                        "(and is skipped under python -O); the exercise asks for `raise ValueError(...)`.")
        if err is not None and not isinstance(err, ValueError):
            raise Wrong(f"your add_bias raised {type(err).__name__} ({err}) for b of shape {b_shape}; the exercise "
                        "asks for a ValueError: check the shape first and `raise ValueError(...)`.")
        if err is not None:
            continue
        fixed = np.ravel(b)
        if fixed.shape == (d_out,) and _is(got, Y + fixed):
            raise Wrong(f"your add_bias repaired b of shape {b_shape} instead of rejecting it; the guard should "
                        "raise ValueError, so that the code that made the wrong bias gets fixed.")
        raise Wrong(f"your add_bias accepted b of shape {b_shape} for Y ({n}, {d_out}); that addition {why}. "
                    "Compare the whole shape, b.shape == (Y.shape[1],): len(b) or b.size can match for a "
                    "wrong shape too.")
    for k, (n, d_out, b_shape) in enumerate(_GUARD_OK_EITHER):
        Y, b = _guard_data(n, d_out, b_shape, 20 + k)
        got, err = _call_guard(fn, Y, b)
        if err is None:
            compare(got, Y + b, name=f"add_bias for Y ({n}, {d_out}) and b {b_shape}")
    return ("a bias must have exactly the shape (D_out,); checking the shape, not just that the addition runs, "
            "catches the B = 1 and B = D_out cases that broadcasting lets through.")


ex4 = Exercise(
    "shapes-bias-ex4",
    _check_guard,
    ["Which shapes of b run without an error in Y + b, and which of them is the only one that adds the "
     "right thing? What then must the guard look at: the size of b, its length, or something else?",
     "Start from the shape the ledger gives b, written as a tuple built from Y.shape. Which comparisons "
     "would a (D_out, 1) or a (1, D_out) bias still pass?"],
    "def add_bias(Y, b):\n"
    "    if b.shape != (Y.shape[1],):   # exactly (D_out,), nothing that merely broadcasts\n"
    '        raise ValueError(f"b should have shape ({Y.shape[1]},), got {b.shape}")\n'
    "    return Y + b",
    why="Only the full shape tells a (D_out,) bias from a column, a scalar or a one-entry vector "
    "at B = 1; lib.linear.linear_forward checks it the same way.",
)


# ---------------------------------------------------------------- ex5: recover an affine map
def _make_layer(W: np.ndarray, b: np.ndarray):
    def layer(x):
        x = np.asarray(x, dtype=float)
        if x.shape[-1:] != (W.shape[0],):
            raise ValueError(f"layer: x should end with D_in = {W.shape[0]} features, got shape {x.shape}")
        return x @ W + b  # (..., D_in) @ (D_in, D_out) + (D_out,)

    return layer


AFFINE_CASES = cases(lambda D_in, D_out, rng: (_make_layer(rng.normal(size=(D_in, D_out)), rng.normal(size=D_out) + 0.5),
                                               D_in),
                     dict(D_in=3, D_out=2), dict(D_in=2, D_out=4), dict(D_in=4, D_out=4), dict(D_in=1, D_out=3),
                     seed=23)


def _recover(layer, D_in: int) -> tuple[np.ndarray, np.ndarray]:
    b = layer(np.zeros(D_in))  # f(0) = b
    return layer(np.eye(D_in)) - b, b  # row i: f(e_i) - b = W[i]


def _with(layer, D_in: int, W=None, b=None) -> tuple[np.ndarray, np.ndarray]:
    right_W, right_b = _recover(layer, D_in)
    return (right_W if W is None else W(right_W, right_b)), (right_b if b is None else b(right_W, right_b))


AFFINE_BUGS = {
    "each row you found is f(e_i) = W[i] + b: subtract b = f(0) to keep W[i].":
        lambda layer, D_in: _with(layer, D_in, W=lambda W, b: W + b),
    "you stacked the outputs f(e_i) - b as columns; in y = x W + b, x = e_i picks row i of W.":
        lambda layer, D_in: _with(layer, D_in, W=lambda W, b: W.T),
    "the sign is flipped: row i is f(e_i) - f(0), not f(0) - f(e_i).": lambda layer, D_in: _with(layer, D_in, W=lambda W, b: -W),
    "that b is f of a vector of ones, the sum of all rows of W plus b; b is f(0).":
        lambda layer, D_in: _with(layer, D_in, b=lambda W, b: W.sum(axis=0) + b),
    "b should be 1-D, (D_out,): you called the layer on a batch of one, (1, D_in); pass a 1-D zero vector or "
    "take row 0.": lambda layer, D_in: _with(layer, D_in, b=lambda W, b: b[None, :]),
    "return them in the order (W, b): the matrix first, then the bias.": lambda layer, D_in: _recover(layer, D_in)[::-1],
    "b was subtracted twice: row i is f(e_i) - f(0), once.": lambda layer, D_in: _with(layer, D_in, W=lambda W, b: W - b),
    "b is f(0), the output for the zero input; the mean of the f(e_i) is b plus the mean row of W.":
        lambda layer, D_in: _with(layer, D_in, W=lambda W, b: W - W.mean(axis=0), b=lambda W, b: b + W.mean(axis=0)),
    "f(ones) - f(0) is the sum of all the rows of W; call the layer on each unit vector (the rows of "
    "np.eye(D_in)) to get one row each.": lambda layer, D_in: _with(layer, D_in, W=lambda W, b: np.tile(W.sum(axis=0), (len(W), 1))),
    **{f"operator precedence: (f(x + h e_i) - f(x)) / h needs the parentheses; f(x + h e_i) - f(x) / h divides "
       f"only f(x) by h (here h = {h:g}).": (lambda layer, D_in, h=h: _with(layer, D_in, W=lambda W, b: h * W + b - b / h))
       for h in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)},
}

AFFINE_CRASHES = {  # a fragment of NumPy's error -> what to change
    "cannot reshape": "D_out is not given: read it from what the layer returns, e.g. len(layer(np.zeros(D_in))).",
}


def _check_recover(fn) -> str:
    check_function(explain_crashes(fn, AFFINE_CRASHES), _recover, AFFINE_CASES, name="your recover", parts=("W", "b"),
                   bugs=AFFINE_BUGS)
    return ("f(0) = b, and f(e_i) - f(0) = row i of W: D_in + 1 calls identify the whole affine map, which is the "
            "augmented-matrix trick read backwards.")


ex5 = Exercise(
    "shapes-bias-ex5",
    _check_recover,
    ["An affine map hides its bias at one special input. Which one? Then feed inputs that each pick out one row "
     "of W.",
     "Write f(x) = x @ W + b with the indices: f(x)_j = sum_i x_i W_ij + b_j. Which input makes the sum "
     "vanish, and which inputs leave exactly one term i in it?"],
    "def recover(layer, D_in):\n"
    "    b = layer(np.zeros(D_in))                # f(0) = 0 @ W + b = b\n"
    "    W = layer(np.eye(D_in)) - b              # row i: f(e_i) - b = e_i @ W = W[i]\n"
    "    return W, b",
    why="The bias is the image of the origin, and each basis vector selects one row of W once the bias is "
    "taken away.",
)
