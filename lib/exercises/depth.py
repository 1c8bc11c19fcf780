"""Exercises for the chapter `depth`: collapse two layers, a stable softmax, the cross-entropy gradient,
and depth against width: how wide one layer must be to match a deep network's pieces."""

from __future__ import annotations

import re

import numpy as np

from lib import nn
from lib.exercises import Exercise, Wrong, call, compare, compare_count, refuse_lib, to_array

_rng = np.random.default_rng(11)


# ---------------------------------------------------------------- ex1: two linear layers are one
_LAYER_CASES = [  # square first, so that the wrong order still runs and can be diagnosed
    (_rng.normal(size=(3, 3)), _rng.normal(size=3), _rng.normal(size=(3, 3)), _rng.normal(size=3)),
    (_rng.normal(size=(2, 4)), _rng.normal(size=4), _rng.normal(size=(4, 3)), _rng.normal(size=3)),
    (_rng.normal(size=(5, 2)), _rng.normal(size=2), _rng.normal(size=(2, 6)), _rng.normal(size=6)),
]


def _check_combine(fn) -> str:
    refuse_lib(fn, {"lib.nn.collapse_linear": nn.collapse_linear})
    for case in _LAYER_CASES:
        _check_combine_case(fn, *case)
    return "two linear layers are one linear layer, W = W1 @ W2 and b = b1 @ W2 + b2, whatever their widths."


def _check_combine_case(fn, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> None:
    got = call(fn, W1, b1, W2, b2, name="your combine")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Wrong(f"combine should return a pair (W, b), got {type(got).__name__}; end with `return W, b`.")
    W, b = got
    if np.ndim(W) == 1 and np.ndim(b) == 2:
        raise Wrong("your pair is (b, W): return the matrix first, `return W, b`.")
    if isinstance(b, np.ndarray) and b.shape == (1, W2.shape[1]):  # a (1, D_out) row works in X @ W + b too
        b = b[0]
    shapes = f"W1 {W1.shape}, W2 {W2.shape}"
    compare(W, W1 @ W2, name=f"W for {shapes}", bugs={
        "W is W2 @ W1: the product is in the wrong order. X goes through W1 first, so W = W1 @ W2.": lambda: W2 @ W1,
        "W is W1 + W2: stacking layers multiplies their matrices, it does not add them.": lambda: W1 + W2,
        "W is W1.T @ W2: W1 is already (D_in, H) with rows as examples, so use it as it is, W1 @ W2.":
            lambda: W1.T @ W2,
        "W is (W1 @ W2).T: with rows as examples the combined W is (D_in, D_out), W1 @ W2 as it is.":
            lambda: (W1 @ W2).T,
    })
    compare(b, b1 @ W2 + b2, name=f"b for {shapes}", bugs={
        "b is b1 + b2, but b1 also passes through the second layer: b = b1 @ W2 + b2.": lambda: b1 + b2,
        "b is b2 alone: the first bias still counts, after passing through W2 (b1 @ W2).": b2,
        "b is b1 @ W2 but the second layer's own bias b2 is missing.": b1 @ W2,
        "b uses W2 @ b1 (the same as b1 @ W2.T): with rows as examples the bias row vector goes on the left of "
        "W2 as it is, b1 @ W2.": lambda: W2 @ b1 + b2,
        "b is (b1 + b2) @ W2, but b2 is added after the second layer's product: b = b1 @ W2 + b2.":
            lambda: (b1 + b2) @ W2,
    })


ex1 = Exercise(
    "depth-ex1",
    _check_combine,
    ["Expand (X @ W1 + b1) @ W2 + b2 and group the terms that multiply X and the terms that do not.",
     "Matrix products distribute: (A + C) @ W2 = A @ W2 + C @ W2. Which group has X in it?"],
    "def combine(W1, b1, W2, b2):\n    return W1 @ W2, b1 @ W2 + b2",
    why="(X @ W1 + b1) @ W2 + b2 = X @ (W1 @ W2) + (b1 @ W2 + b2): a matrix times X plus a constant row.",
)


# ---------------------------------------------------------------- ex2: a stable softmax
_Z_SMALL = _rng.normal(size=(3, 4)) * 2  # (B, V) = (3, 4)
_Z_LARGE = np.array([[1000.0, 1001.0, 1002.0, 999.0], [1000.0, 1000.0, 995.0, 1003.0]])  # exp overflows
_Z_MIXED = np.array([[-1000.0, -999.0, -1001.0], [0.0, 1.0, 2.0]])  # rows far apart
_Z_WIDE = np.array([[1000.0, -1000.0, 0.0], [3.0, -2000.0, 5.0], [600.0, 0.0, -1000.0],
                    [-1000.0, 1000.0, 0.0]])  # one row spans 2000: min or mean shifts overflow


def _shifted(Z: np.ndarray, shift: np.ndarray) -> np.ndarray:
    E = np.exp(Z - shift)
    return E / E.sum(axis=1, keepdims=True)


def _softmax_axis0(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _same_nan(arr: np.ndarray, ref: np.ndarray) -> bool:
    return arr.shape == ref.shape and bool(np.all(np.isnan(arr) == np.isnan(ref))) and np.allclose(
        np.nan_to_num(arr), np.nan_to_num(ref), atol=1e-6)


def _check_softmax(fn) -> str:
    refuse_lib(fn, {"lib.nn.softmax": nn.softmax, "lib.nn.log_softmax": nn.log_softmax})
    with np.errstate(all="ignore"):  # learners' overflows become a diagnosis, not a warning
        try:
            got = call(fn, _Z_SMALL, name="your softmax")
        except Wrong as wrong:
            if re.search(r"broadcast.*(\(3,4\) \(3,\)|\(3,\) \(3,4\))", str(wrong)):
                raise Wrong("a per-row max or sum of shape (B,) does not broadcast against the (B, V) logits: keep "
                            "the row axis with keepdims=True, shape (B, 1).") from None
            raise
        Z = _Z_SMALL
        compare(got, nn.softmax(Z), name="softmax of a (3, 4) array of small logits", bugs={
            "wrong axis: your columns sum to 1, not your rows; softmax runs over the last axis (axis=-1 or axis=1), "
            "one distribution per example.": _softmax_axis0(Z),
            "the rows do not sum to 1: you forgot to normalize (divide by the row sums).":
                np.exp(Z - Z.max(axis=1, keepdims=True)),
            "that is exp(Z) alone: you forgot to normalize (divide each row by its sum).": np.exp(Z),
            "that is log-softmax, the log of the probabilities; softmax is its exp (divide exp(Z - max) by its row "
            "sum).": lambda: Z - Z.max(axis=1, keepdims=True)
            - np.log(np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)),
            "you divided by the sum of the whole array; divide each row by its own sum (axis=1, keepdims=True).":
                np.exp(Z) / np.exp(Z).sum(),
            "you divided by the sum of the whole array (after subtracting the max); divide each row by its own "
            "sum (axis=1, keepdims=True).": lambda: np.exp(Z - Z.max(axis=1, keepdims=True))
            / np.exp(Z - Z.max(axis=1, keepdims=True)).sum(),
        })
        for Z, name, nan_means in (
            (_Z_LARGE, "softmax of logits near 1000",
             "right for small logits, but logits near 1000 give NaN: exp(1000) overflows to inf and "
             "inf / inf is NaN. Subtract each row's maximum before exp (no max subtraction so far)."),
            (_Z_MIXED, "softmax of rows near -1000 and near 0",
             "a row of logits near -1000 next to a row near 0 gives NaN: you subtracted the max of the "
             "whole array. Subtract each row's own max (axis=1, keepdims=True)."),
            (_Z_WIDE, "softmax of the rows [1000, -1000, 0], [3, -2000, 5], [600, 0, -1000] and [-1000, 1000, 0]",
             ""),
        ):
            arr = to_array(call(fn, Z, name="your softmax"), name)
            if Z is _Z_LARGE and arr.shape == Z.shape and np.allclose(arr, 1 / Z.shape[1]):
                raise Wrong("logits 1000, 1001, 1002 and 999 all got the same probability: did you clip the logits? "
                            "Clipping erases their differences; subtract each row's maximum instead, which changes none.")
            if arr.shape == Z.shape and not np.all(np.isfinite(arr)):
                if Z is _Z_WIDE:
                    shifts = {"minimum": Z.min(axis=1, keepdims=True), "mean": Z.mean(axis=1, keepdims=True),
                              "first entry": Z[:, :1]}
                    for what, shift in shifts.items():
                        if _same_nan(arr, _shifted(Z, shift)):
                            raise Wrong(f"you subtracted each row's {what}: on a row like [-1000, 1000, 0] the "
                                        "largest shifted logit is still far above 0 and exp overflows to inf, "
                                        "so the row becomes NaN. Subtract each row's maximum: then every exponent "
                                        "is at most 0.")
                    raise Wrong("a row whose logits span 2000, such as [1000, -1000, 0], gives NaN or inf: after the "
                                "shift, every exponent must be at most 0. Subtract each row's maximum.")
                raise Wrong(nan_means)
            compare(arr, nn.softmax(Z), name=name)
    return "every row sums to 1, and logits of 1000, -1000 or both in one row cause no overflow."


ex2 = Exercise(
    "depth-ex2",
    _check_softmax,
    ["exp of each entry, divided by the sum of its row. Then make it safe for logits of 1000: which shift "
     "of a row leaves the ratios unchanged and keeps every exponent at most 0?",
     "Work along axis=1 with keepdims=True, so that a (B, 1) column of per-row numbers broadcasts against "
     "the (B, V) logits."],
    "def softmax(Z):\n    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # (B, V), every entry <= 1\n"
    "    return E / E.sum(axis=1, keepdims=True)",
    why="Subtracting a row's max changes no ratio (it multiplies top and bottom by the same e**-m) and makes the "
    "largest exponent exactly 0, so nothing overflows and the sum is at least 1.",
)


# ---------------------------------------------------------------- ex3: the cross-entropy gradient
_CE_CASES = [(_rng.normal(size=(5, 4)) * 1.5, np.array([2, 0, 3, 3, 1])),    # (B, V) = (5, 4)
             (_rng.normal(size=(3, 6)) * 1.5, np.array([5, 1, 1]))]          # (B, V) = (3, 6)


def _check_ce_grad(fn) -> str:
    refuse_lib(fn, {"lib.nn.cross_entropy_backward": nn.cross_entropy_backward}, how="from softmax")
    for Z, y in _CE_CASES:
        B, V = Z.shape
        P, Y = nn.softmax(Z), nn.one_hot(y, V)
        columns = P.copy()
        columns[:, y] -= 1  # the fancy-index slip: whole columns of P lose 1
        got = call(fn, Z, y, name="your ce_grad")
        compare(got, (P - Y) / B, name=f"dlogits for B={B}, V={V}", bugs={
            "missing /B: the loss is the mean over the B examples, so its gradient is (P - onehot) / B.": P - Y,
            "missing -onehot: the correct class's probability must be lowered by 1, (P - onehot) / B.": P / B,
            "you used the logits instead of the probabilities: apply softmax first, (softmax(Z) - onehot) / B.":
                (Z - Y) / B,
            "the sign is flipped: it is (P - onehot) / B, which points uphill; gradient descent subtracts it.":
                (Y - P) / B,
            "you divided by B * V: the loss averages over the B rows only, so divide by B.": (P - Y) / (B * V),
            "you divided by V, the number of classes; the loss averages over the B examples, so divide by B.":
                (P - Y) / V,
            "P[:, y] -= 1 subtracts 1 from whole columns (every row, at every label); subtract it once per row "
            "with P[np.arange(B), y] -= 1.": columns / B,
            "you divided by B twice: the mean over the batch divides once, (P - onehot) / B.": (P - Y) / B**2,
            "you used log P; the gradient with respect to the logits uses the probabilities themselves, "
            "(P - onehot) / B.": (np.log(P) - Y) / B,
            "P * (1 - P) is only the diagonal of the softmax's derivative; the off-diagonal terms cancel it down "
            "to (P - onehot) / B for the cross-entropy.": (P * (1 - P) - Y) / B,
            "you averaged the rows into one: each example keeps its own row of the gradient, (P - onehot) / B of "
            "shape (B, V).": (P - Y).mean(axis=0),
            "that is the gradient with respect to the probabilities, -onehot / P / B; chain it through the softmax: "
            "with respect to the logits it is (P - onehot) / B.": -Y / P / B,
            "softmax over the wrong axis: each row of logits is one example, so softmax runs along axis 1.":
                lambda Z=Z, Y=Y, B=B: (_softmax_axis0(Z) - Y) / B,
        })
    return "each row is the probabilities minus the one-hot target, averaged over the batch."


ex3 = Exercise(
    "depth-ex3",
    _check_ce_grad,
    ["Start from P = softmax(Z). For one example, the gradient of -log P[label] with respect to its logits is "
     "P minus the one-hot vector of the label; then remember that the loss is a mean.",
     "To subtract 1 at one position per row, index with a pair of arrays: rows np.arange(B) and columns y."],
    "def ce_grad(Z, y):\n    P = nn.softmax(Z)                      # (B, V)\n"
    "    P[np.arange(len(y)), y] -= 1.0         # P - onehot, one entry per row\n    return P / len(y)",
    why="d(-log p_y)/dz = p - onehot(y) for one example; the mean over B examples divides each row by B.",
)


# ---------------------------------------------------------------- ex4: depth against width
DEEP_DEPTH = 4  # the sawtooth with 4 layers of 2 units: 2**4 = 16 pieces on [0, 1]


def _check_width(answer) -> str:
    pieces = 2**DEEP_DEPTH
    want = pieces - 1
    try:
        _compare_width(answer, want, pieces)
    except Wrong as wrong:
        n = answer if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool) else None
        if n is not None and 0 < n < want and "pieces" not in str(wrong) and "2-D" not in str(wrong):
            raise Wrong(f"one layer of {n} units makes at most {n + 1} pieces on a line (one breakpoint per "
                        f"unit), fewer than {pieces}.") from None
        if n is not None and n > want and "pieces" not in str(wrong) and "patterns" not in str(wrong):
            raise Wrong(f"{n} units can make {pieces} pieces, but a narrower layer can too: find the smallest.") from None
        raise
    return ("15: on a line each unit of a single layer bends the function at one point, so 16 pieces need "
            "15 breakpoints, 15 units: almost twice the deep network's 8, and the gap doubles with each layer.")


def _compare_width(answer: object, want: int, pieces: int) -> None:
    compare_count(answer, want, name="your width", what="a whole number of units", bugs={
        "16 is the number of pieces; one layer of n units on a line makes at most n + 1 of them (each unit "
        "adds one breakpoint). How many units do 16 pieces need?": pieces,
        "8 is how many units the deep network uses; one layer of 8 units makes at most 9 pieces on a line.":
            2 * DEEP_DEPTH,
        "4 is the depth; one layer of 4 units makes at most 5 pieces on a line.": DEEP_DEPTH,
        "that solves 1 + n + n(n - 1)/2 >= 16, the count for a 2-D input; here the input is a line, where "
        "each unit adds one breakpoint.": 5,
        "2**16 would be the number of on/off patterns of 16 units, not a width.": 2**16,
    })


ex4 = Exercise(
    "depth-ex4",
    _check_width,
    ["On a line (a 1-D input), where can one hidden unit ReLU(w x + b) bend the output of a single-layer "
     "network, and how many times?",
     "Count breakpoints, not pieces: a function made of k linear pieces on [0, 1] has k - 1 breakpoints."],
    "answer = 2**4 - 1   # 16 pieces need 15 breakpoints, one per unit",
    why="A single layer adds its units' bends side by side (one breakpoint each), while each layer of the "
    "deep network folds the line and doubles the pieces: width grows linearly, depth exponentially.",
    solution_text="The count:",
)
