"""Exercises for the chapter `linear-layer`: y by hand, shapes and parameters, the forward pass,
PyTorch's weight layout.

Letters: B batch, D_in features in, D_out features out. The course orientation is
`Y = X @ W + b` with X (B, D_in), W (D_in, D_out), b (D_out,).
"""

from __future__ import annotations

import numbers

import numpy as np

from lib.exercises import Exercise, Wrong, call, compare, need_function, to_array

# the 3-to-2 example layer in the math orientation y = W x
X_HAND = np.array([2.0, 3.0, 1.0])  # (D_in,) = (3,)
W_HAND = np.array([[0.5, -0.3, 0.1],
                   [0.2, 0.4, -0.2]])  # (D_out, D_in) = (2, 3)


# ---------------------------------------------------------------- ex1: y = W x by hand
def _check_hand(answer) -> str:
    want = W_HAND @ X_HAND  # (2, 3) @ (3,) -> (2,) = [0.2, 1.4]
    compare(answer, want, name="your y", rtol=1e-9, atol=1e-9, bugs={
        "you took the rows of W in the opposite order: y[0] comes from row 0, [0.5, -0.3, 0.1].": want[::-1],
        "you dropped the minus signs: (-0.3) * 3 is -0.9, not +0.9; keep each weight's sign.":
            np.abs(W_HAND) @ X_HAND,  # (2, 3) @ (3,) -> (2,)
        "you multiplied pairwise but did not sum: each output is the sum of its three products.": W_HAND * X_HAND,
    })
    return "y = [0.2, 1.4]: row 0 of W dotted with x gives 1.0 - 0.9 + 0.1, row 1 gives 0.4 + 1.2 - 0.2."


ex1 = Exercise(
    "linear-layer-ex1",
    _check_hand,
    ["Each output is one dot product: a row of W with x. Two rows, so two outputs.",
     "y[0] = 0.5*2 + (-0.3)*3 + 0.1*1 and y[1] = 0.2*2 + 0.4*3 + (-0.2)*1."],
    "answer = [0.5*2 + (-0.3)*3 + 0.1*1,   # 1.0 - 0.9 + 0.1 = 0.2\n"
    "          0.2*2 + 0.4*3 + (-0.2)*1]   # 0.4 + 1.2 - 0.2 = 1.4",
)


# ---------------------------------------------------------------- ex2: output shape and parameters
B, D_IN, D_OUT = 32, 128, 64


def _as_shape(x: object) -> tuple[int, ...]:
    if not isinstance(x, (tuple, list)) or not all(isinstance(s, numbers.Integral) for s in x):
        raise Wrong(f"the shape should be a tuple of integers such as (3, 4), got {x!r}.")
    return tuple(int(s) for s in x)


def _check_count(answer) -> str:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong(f"answer with a pair: (output_shape, n_params), e.g. ((3, 4), 12); got {type(answer).__name__}.")
    shape, n_params = _as_shape(answer[0]), answer[1]
    if shape != (B, D_OUT):
        diagnosis = {
            (D_OUT, B): "that is (D_out, B): rows are examples, so Y is (B, D_out).",
            (B, D_IN): "that is the input's shape; the layer changes the width from D_in to D_out.",
            (D_IN, D_OUT): "that is the shape of W; the output has one row per example.",
            (D_OUT,): "that is the shape of one output row (or of b); the batch axis B stays.",
        }
        raise Wrong(diagnosis.get(shape, f"the output shape {shape} is not right: "
                                          "(B, D_in) @ (D_in, D_out) cancels D_in."))
    if isinstance(n_params, bool) or not isinstance(n_params, numbers.Integral):
        raise Wrong(f"the parameter count should be an integer, got {n_params!r}.")
    wrong = {
        D_IN * D_OUT: "you counted the weights only; the bias adds D_out more parameters.",
        D_IN * D_OUT + D_IN: "the bias has one entry per output, D_out, not per input.",
        D_IN * D_OUT + B * D_OUT: "the bias is shared by every example: D_out entries, not B * D_out.",
        B * D_IN + D_IN * D_OUT + D_OUT: "X is data, not a parameter: count only W and b.",
        D_IN + D_OUT: "W has D_in * D_out entries (one per input-output pair), not D_in + D_out.",
    }
    if n_params != D_IN * D_OUT + D_OUT:
        raise Wrong(wrong.get(int(n_params), f"{n_params} parameters is not right: count the entries of W and b."))
    return f"Y is (32, 64) and the layer has 128 * 64 + 64 = {D_IN * D_OUT + D_OUT:,} parameters."


ex2 = Exercise(
    "linear-layer-ex2",
    _check_count,
    ["Write the shapes: (B, D_in) @ (D_in, D_out) -> ?. Then count the entries of W and of b.",
     "Y is (B, D_out); W has D_in * D_out entries and b has D_out."],
    "answer = ((32, 64), 128 * 64 + 64)   # 8,256 parameters",
)


# ---------------------------------------------------------------- ex3: the forward pass
_rng = np.random.default_rng(11)
_FORWARD_CASES = [  # (B, D_in, D_out): square first so a transposed W runs and can be diagnosed
    (3, 3, 3),
    (4, 3, 2),
    (1, 5, 2),
]
_FORWARD_DATA = [
    (_rng.normal(size=(n, i)), _rng.normal(size=(i, o)), _rng.normal(size=o) + 1.0)
    for n, i, o in _FORWARD_CASES
]


def _check_forward(fn) -> str:
    need_function(fn)
    for X, W, b in _FORWARD_DATA:
        shapes = f"X {X.shape}, W {W.shape}, b {b.shape}"
        try:
            got = call(fn, X, W, b, name="your linear_forward")
        except Wrong as wrong:
            raise Wrong(f"with {shapes}: {wrong}") from None
        want = X @ W + b  # (B, D_in) @ (D_in, D_out) + (D_out,) -> (B, D_out)
        arr = to_array(got, "your output")
        bugs = {
            "the weights are used transposed (X @ W.T): W is already (D_in, D_out), multiply X @ W as it is.":
                lambda X=X, W=W, b=b: X @ W.T + b,
            "the weights are transposed and the bias is missing: use X @ W + b.":
                lambda X=X, W=W: X @ W.T,
            "the bias is added along the wrong axis (one value per example): b has one entry per output "
            "column, so add it as a row, X @ W + b.": lambda X=X, W=W, b=b: X @ W + b[:, None],
            "the bias is missing: add b after the product, X @ W + b.": lambda X=X, W=W: X @ W,
            "the output is transposed (D_out, B): rows must stay examples, so compute X @ W + b, not W.T @ X.T.":
                want.T,
        }
        if arr.shape != want.shape:
            for sentence, bug in bugs.items():
                try:
                    value = np.asarray(bug() if callable(bug) else bug)
                except ValueError:  # this bug cannot even run on these shapes
                    continue
                if value.shape == arr.shape and np.allclose(arr, value):
                    raise Wrong(f"with {shapes}: {sentence}")
            raise Wrong(f"with {shapes}: the output has the wrong shape {arr.shape}; a linear layer maps "
                        f"(B, D_in) to (B, D_out) = {want.shape}.")
        try:
            compare(arr, want, name="your output", bugs=bugs)
        except Wrong as wrong:
            raise Wrong(f"with {shapes}: {wrong}") from None
    return "X @ W + b, with b broadcast over the batch, for square and non-square layers alike."


ex3 = Exercise(
    "linear-layer-ex3",
    _check_forward,
    ["(B, D_in) @ (D_in, D_out) -> (B, D_out); then add b, which NumPy broadcasts over the rows.",
     "return X @ W + b"],
    "def linear_forward(X, W, b):\n    return X @ W + b  # (B, D_in) @ (D_in, D_out) + (D_out,) -> (B, D_out)",
)


# ---------------------------------------------------------------- ex4: PyTorch's layout
_TORCH_WEIGHTS = [  # PyTorch nn.Linear stores weight as (out, in)
    _rng.normal(size=(2, 3)),
    _rng.normal(size=(4, 4)),
]


def _check_torch(fn) -> str:
    need_function(fn)
    for weight in _TORCH_WEIGHTS:
        out_f, in_f = weight.shape
        where = f"for a weight of shape (out, in) = {weight.shape}"
        try:
            got = call(fn, weight, name="your to_course_layout")
        except Wrong as wrong:
            raise Wrong(f"{where}: {wrong}") from None
        try:
            compare(got, weight.T, name="your W", bugs={
                "that is the PyTorch weight unchanged, still (out, in); the course wants (D_in, D_out).": weight,
                "reshape keeps the entries in memory order and scrambles them; a transpose (.T) swaps the axes.":
                    weight.reshape(in_f, out_f),
            })
        except Wrong as wrong:
            raise Wrong(f"{where}: {wrong}") from None
    return "weight.T turns (out, in) into (D_in, D_out), and X @ weight.T is exactly what nn.Linear computes."


ex4 = Exercise(
    "linear-layer-ex4",
    _check_torch,
    ["PyTorch's weight is (out, in) = (D_out, D_in). Which operation swaps the two axes?",
     "return weight.T"],
    "def to_course_layout(weight):\n    return weight.T  # (D_out, D_in) -> (D_in, D_out)",
)
