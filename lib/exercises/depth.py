"""Exercises for the chapter `depth`: collapse two layers, stable softmax, the cross-entropy gradient,
and the number of regions a layer of ReLUs can cut the plane into."""

from __future__ import annotations

import numpy as np

from lib import nn
from lib.exercises import Exercise, Wrong, call, compare, to_array, to_number

_rng = np.random.default_rng(11)


# ---------------------------------------------------------------- ex1: two linear layers are one
_LAYER_CASES = [  # square first, so that the wrong order still runs and can be diagnosed
    (_rng.normal(size=(3, 3)), _rng.normal(size=3), _rng.normal(size=(3, 3)), _rng.normal(size=3)),
    (_rng.normal(size=(2, 4)), _rng.normal(size=4), _rng.normal(size=(4, 3)), _rng.normal(size=3)),
]


def _check_combine(fn) -> str:
    for case in _LAYER_CASES:
        _check_combine_case(fn, *case)
    return "two linear layers are one linear layer, W = W1 @ W2 and b = b1 @ W2 + b2, whatever their widths."


def _check_combine_case(fn, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> None:
    got = call(fn, W1, b1, W2, b2, name="your combine")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Wrong(f"combine should return a pair (W, b), got {type(got).__name__}; end with `return W, b`.")
    W, b = got
    shapes = f"W1 {W1.shape}, W2 {W2.shape}"
    compare(W, W1 @ W2, name=f"W for {shapes}", bugs={
        "W is W2 @ W1: the product is in the wrong order. X goes through W1 first, so W = W1 @ W2.": lambda: W2 @ W1,
        "W is W1 + W2: stacking layers multiplies their matrices, it does not add them.": lambda: W1 + W2,
    })
    compare(b, b1 @ W2 + b2, name=f"b for {shapes}", bugs={
        "b is b1 + b2, but b1 also passes through the second layer: b = b1 @ W2 + b2.": lambda: b1 + b2,
        "b is b2 alone: the first bias still counts, after passing through W2 (b1 @ W2).": b2,
        "b is b1 @ W2 but the second layer's own bias b2 is missing.": b1 @ W2,
        "b uses W2 @ b1: with rows as examples the bias row vector goes on the left, b1 @ W2.": lambda: W2 @ b1 + b2,
    })


ex1 = Exercise(
    "depth-ex1",
    _check_combine,
    ["Expand (X @ W1 + b1) @ W2 + b2 and group the terms that multiply X and the terms that do not.",
     "X @ (W1 @ W2) + (b1 @ W2 + b2)."],
    "def combine(W1, b1, W2, b2):\n    return W1 @ W2, b1 @ W2 + b2",
)


# ---------------------------------------------------------------- ex2: a stable softmax
_Z_SMALL = _rng.normal(size=(3, 4)) * 2  # (B, V) = (3, 4)
_Z_LARGE = np.array([[1000.0, 1001.0, 1002.0, 999.0], [1000.0, 1000.0, 995.0, 1003.0]])  # exp overflows
_Z_MIXED = np.array([[-1000.0, -999.0, -1001.0], [0.0, 1.0, 2.0]])  # rows far apart


def _softmax_axis0(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _check_softmax(fn) -> str:
    with np.errstate(all="ignore"):  # learners' overflows become a diagnosis, not a warning
        got = call(fn, _Z_SMALL, name="your softmax")
        Z = _Z_SMALL
        compare(got, nn.softmax(Z), name="softmax of a (3, 4) array of small logits", bugs={
            "wrong axis: your columns sum to 1, not your rows; softmax runs over the last axis (axis=-1 or axis=1), "
            "one distribution per example.": _softmax_axis0(Z),
            "the rows do not sum to 1: you forgot to normalize (divide by the row sums).":
                np.exp(Z - Z.max(axis=1, keepdims=True)),
            "that is exp(Z) alone: you forgot to normalize (divide each row by its sum).": np.exp(Z),
            "you divided by the sum of the whole array; divide each row by its own sum (axis=1, keepdims=True).":
                np.exp(Z) / np.exp(Z).sum(),
        })
        for Z, name, nan_means in (
            (_Z_LARGE, "softmax of logits near 1000",
             "right for small logits, but logits near 1000 give NaN: exp(1000) overflows to inf and "
             "inf / inf is NaN. Subtract each row's maximum before exp (no max subtraction so far)."),
            (_Z_MIXED, "softmax of rows near -1000 and near 0",
             "a row of logits near -1000 next to a row near 0 gives NaN: you subtracted the max of the "
             "whole array. Subtract each row's own max (axis=1, keepdims=True)."),
        ):
            arr = to_array(call(fn, Z, name="your softmax"), name)
            if arr.shape == Z.shape and not np.all(np.isfinite(arr)):
                raise Wrong(nan_means)
            compare(arr, nn.softmax(Z), name=name)
    return "every row sums to 1, and logits of 1000 or -1000 cause no overflow."


ex2 = Exercise(
    "depth-ex2",
    _check_softmax,
    ["exp of each entry, divided by the sum of its row. Then make it safe for logits of 1000.",
     "E = np.exp(Z - Z.max(axis=1, keepdims=True)); return E / E.sum(axis=1, keepdims=True)"],
    "def softmax(Z):\n    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # (B, V), every entry <= 1\n"
    "    return E / E.sum(axis=1, keepdims=True)",
)


# ---------------------------------------------------------------- ex3: the cross-entropy gradient
_LOGITS = _rng.normal(size=(5, 4)) * 1.5  # (B, V) = (5, 4)
_LABELS = np.array([2, 0, 3, 3, 1])


def _check_ce_grad(fn) -> str:
    Z, y = _LOGITS, _LABELS
    B, V = Z.shape
    P, Y = nn.softmax(Z), nn.one_hot(y, V)
    got = call(fn, Z, y, name="your ce_grad")
    compare(got, nn.cross_entropy_backward(Z, y), name="dlogits", bugs={
        "missing /B: the loss is the mean over the B examples, so its gradient is (P - onehot) / B.": P - Y,
        "missing -onehot: the correct class's probability must be lowered by 1, (P - onehot) / B.": P / B,
        "you used the logits instead of the probabilities: apply softmax first, (softmax(Z) - onehot) / B.":
            (Z - Y) / B,
        "the sign is flipped: it is (P - onehot) / B, which points uphill; gradient descent subtracts it.":
            (Y - P) / B,
        "you divided by B * V: the loss averages over the B rows only, so divide by B.": (P - Y) / (B * V),
    })
    return "each row is the probabilities minus the one-hot target, averaged over the batch."


ex3 = Exercise(
    "depth-ex3",
    _check_ce_grad,
    ["Start from P = softmax(Z). The gradient of -log P[label] with respect to the logits is P - onehot.",
     "P = nn.softmax(Z); P[np.arange(len(y)), y] -= 1; return P / len(y)"],
    "def ce_grad(Z, y):\n    P = nn.softmax(Z)                 # (B, V)\n"
    "    P[np.arange(len(y)), y] -= 1.0    # P - onehot\n    return P / len(y)",
)


# ---------------------------------------------------------------- ex4: regions of one ReLU layer
def _check_regions(answer) -> str:
    answer = to_number(answer, what="a whole number")
    bugs = {
        32: "32 = 2**5 is the number of on/off patterns of 5 units, but 5 lines in the plane cannot "
            "produce all of them: most patterns are empty.",
        10: "10 is what 5 lines through one common point give; lines in general position also cross each other.",
        6: "6 is what 5 parallel lines give; lines in general position cross each other, adding regions.",
        15: "close: 5 + 10 = 15 counts the regions added by the lines and their crossings, but not the one "
            "region the plane was before any line was drawn.",
    }
    if answer in bugs:
        raise Wrong(bugs[int(answer)])
    if answer != nn.max_regions_one_layer(5):
        raise Wrong(f"{answer} is not it: add the lines one at a time; the k-th new line is cut by the "
                    "k - 1 earlier ones into k pieces, and each piece splits a region in two.")
    return "1 + 5 + C(5, 2) = 16: each of the 5 ReLU units draws one line, and 5 lines make at most 16 regions."


ex4 = Exercise(
    "depth-ex4",
    _check_regions,
    ["Each hidden unit of the single layer is on one side of the line w . x + b = 0.",
     "Start with 1 region. The k-th line crosses at most k - 1 earlier lines, so it adds at most k regions."],
    "answer = 1 + 5 + 5 * 4 // 2  # 16",
    solution_text="Count the regions line by line:",
)
