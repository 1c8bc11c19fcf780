"""Exercises for the chapter `backward`: the linear layer's backward pass, central differences,
reading a gradient-check report, and choosing eps in float32."""

from __future__ import annotations

import numpy as np

from lib.exercises import Exercise, NotAttempted, Wrong, call, compare, need_function, to_number
from lib.gradcheck import LinearBench, numerical_gradient

_rng = np.random.default_rng(21)
_BACKWARD_CASES = [  # (X, W, dY); the first is square (B == D_in == D_out) so wrong products still run
    (_rng.normal(size=(3, 3)), _rng.normal(size=(3, 3)), _rng.normal(size=(3, 3))),
    (_rng.normal(size=(5, 4)), _rng.normal(size=(4, 3)), _rng.normal(size=(5, 3))),
]
_NAMES = ("dX", "dW", "db")


def _read_three(out: object) -> list[np.ndarray]:
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Wrong(f"return the three gradients as a tuple `return dX, dW, db`, got {type(out).__name__}"
                    + (f" of length {len(out)}." if isinstance(out, (tuple, list)) else "."))
    if any(o is Ellipsis for o in out):
        raise NotAttempted
    arrays = []
    for name, o in zip(_NAMES, out, strict=True):
        if o is None:
            raise Wrong(f"{name} is None; compute it and return it.")
        try:
            arrays.append(np.asarray(o, dtype=float))
        except (TypeError, ValueError):
            raise Wrong(f"{name} should be an array of numbers, got {type(o).__name__}.") from None
    return arrays


def _check_backward(fn) -> str:
    for X, W, dY in _BACKWARD_CASES:
        _check_backward_case(fn, X, W, dY)
    return "dX = dY @ W.T, dW = X.T @ dY and db = dY.sum(axis=0), right on a square and a non-square layer."


def _check_backward_case(fn, X: np.ndarray, W: np.ndarray, dY: np.ndarray) -> None:
    B, D_in = X.shape
    D_out = W.shape[1]
    got = _read_three(call(fn, X, W, dY, name="your linear_backward"))
    want = (dY @ W.T, X.T @ dY, dY.sum(axis=0))  # (B, D_in), (D_in, D_out), (D_out,)
    for i in range(3):  # a right gradient in the wrong slot
        for j, other in enumerate(_NAMES):
            if i != j and got[i].shape == want[j].shape and np.allclose(got[i], want[j]) and not np.allclose(got[i], want[i]):
                raise Wrong(f"item {i + 1} of your tuple is {other}; return them in the order (dX, dW, db).")
    where = f" (B={B}, D_in={D_in}, D_out={D_out})"
    compare(got[0], want[0], name="dX" + where, bugs={
        "dX: you multiplied by W, not W.T; the product must undo X @ W, so dX = dY @ W.T.": lambda: dY @ W,
        "dX is transposed: W @ dY.T gives (D_in, B); write dY @ W.T to get (B, D_in).": lambda: W @ dY.T,
        "dX: the factors are in the wrong order (W.T @ dY); write dY @ W.T.": lambda: W.T @ dY,
    })
    compare(got[1], want[1], name="dW" + where, bugs={
        "dW is transposed: dY.T @ X gives (D_out, D_in); write X.T @ dY to get (D_in, D_out).": lambda: dY.T @ X,
        "dW: X @ dY forgets to transpose X; X.T @ dY sums over the batch axis.": lambda: X @ dY,
        "dW: you divided by B; the loss's own scale is already in dY, so dW = X.T @ dY with no mean.": lambda: X.T @ dY / B,
    })
    compare(got[2], want[2], name="db" + where, bugs={
        "db: you summed over axis 1 (the features); the bias is shared by the B rows, so sum over axis 0.": lambda: dY.sum(axis=1),
        "db: you took the mean over the batch; every row adds its own share, so take the sum.": lambda: dY.mean(axis=0),
        "db: that is only the first example's gradient; sum dY over all B rows.": lambda: dY[0],
        "db: dY is not summed at all; the bias gradient is dY.sum(axis=0), shape (D_out,).": dY,
        "db: you summed everything to one number; sum over axis 0 only, keeping one entry per output.": lambda: dY.sum(),
        "db has shape (1, D_out): drop keepdims=True so it matches b's shape (D_out,).": lambda: dY.sum(axis=0, keepdims=True),
    })


ex1 = Exercise(
    "backward-ex1",
    _check_backward,
    ["Use the ledger: dX must be (B, D_in), dW (D_in, D_out), db (D_out,). Which products of X, W, dY "
     "(and their transposes) have those shapes?",
     "dX = dY @ W.T, dW = X.T @ dY, and the bias, used by every row, collects dY summed over the batch axis 0."],
    "def linear_backward(X, W, dY):\n    dX = dY @ W.T          # (B, D_out) @ (D_out, D_in)\n"
    "    dW = X.T @ dY          # (D_in, B) @ (B, D_out)\n    db = dY.sum(axis=0)    # (D_out,)\n"
    "    return dX, dW, db",
)


def _check_central(fn) -> str:
    need_function(fn)
    for index, eps in (((0, 1), 1e-3), ((2, 0), 1e-4)):
        bench = LinearBench.random(4, 3, 2, np.random.default_rng(5))
        before = bench.W.copy()
        want = numerical_gradient(bench.loss, bench.W, eps=eps, entries=[index])[index]
        # the loss reads bench.W, so the learner must nudge the real array, not a copy
        got = call(fn, bench.loss, bench.W, index, eps, name="your central_difference", copy_args=False)
        if not np.array_equal(bench.W, before):
            raise Wrong("the parameter was left changed; put the old value back (param[index] = old) before returning.")
        base = bench.loss()
        plus = bench.W.copy()
        plus[index] += eps
        minus = bench.W.copy()
        minus[index] -= eps
        L_plus = LinearBench(bench.X, plus, bench.b, bench.G).loss()
        L_minus = LinearBench(bench.X, minus, bench.b, bench.G).loss()
        compare(got, want, name=f"central_difference at {index}, eps={eps:g}", rtol=1e-6, bugs={
            "that is the forward difference (L(p + eps) - L(p)) / eps; nudge both ways and divide by 2 eps.": (L_plus - base) / eps,
            "the nudges are both ways, but divide by 2 * eps, not eps.": (L_plus - L_minus) / eps,
            "the sign is flipped: it is (L(p + eps) - L(p - eps)), plus minus minus.": (L_minus - L_plus) / (2 * eps),
        })
    return "central differences are accurate to order eps^2, and the parameter is left as you found it."


ex2 = Exercise(
    "backward-ex2",
    _check_central,
    ["Save old = param[index]; set param[index] = old + eps and call loss(); then old - eps; then restore.",
     "Return (plus - minus) / (2 * eps), after putting param[index] = old back."],
    "def central_difference(loss, param, index, eps):\n    old = param[index]\n    param[index] = old + eps\n"
    "    plus = loss()\n    param[index] = old - eps\n    minus = loss()\n    param[index] = old\n"
    "    return (plus - minus) / (2 * eps)",
)


def mystery_backward(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    """A loop-based backward pass with one bug in it (exercise `backward-ex3`).

    X (B, D_in), W (D_in, D_out), dY (B, D_out) -> dX (B, D_in), dW (D_in, D_out), db (D_out,)
    """
    dX = dY @ W.T  # (B, D_out) @ (D_out, D_in) -> (B, D_in)
    dW = np.zeros_like(W)
    for i in range(len(X) - 1):
        dW += np.outer(X[i], dY[i])  # (D_in,) outer (D_out,) -> (D_in, D_out)
    db = np.zeros_like(W[0])
    for i in range(len(X)):
        db += dY[i]
    return dX, dW, db


def _check_mystery(answer) -> str:
    if not isinstance(answer, str):
        raise Wrong(f"answer with the name of a tensor as a string ('X', 'W' or 'b'), got {type(answer).__name__}.")
    name = answer.strip().removeprefix("d")
    if name not in ("X", "W", "b"):
        raise Wrong(f"{answer!r} is not one of 'X', 'W', 'b'.")
    if name != "W":
        raise Wrong(f"the row for {name} says ok in the report; look for the row that says FAIL.")
    return "dW fails: the loop `range(len(X) - 1)` skips the last example (an off-by-one); db's loop is right."


ex3 = Exercise(
    "backward-ex3",
    _check_mystery,
    ["Run LinearBench.random(...).check(mystery_backward) and read the verdict column.",
     "Then read the loops in mystery_backward: which one does not visit every example?"],
    "bench = LinearBench.random(5, 4, 3, np.random.default_rng(0))\nprint(bench.check(mystery_backward))\n"
    "answer = 'W'",
)

EPS_CHOICES = (1e-1, 1e-2, 1e-3, 1e-5, 1e-8)


def float32_errors() -> np.ndarray:
    """Relative error of the float32 check at each of EPS_CHOICES on the exercise's bench."""
    bench = LinearBench.random(5, 4, 3, np.random.default_rng(3), "float32")
    return bench.sweep(list(EPS_CHOICES))


def _check_eps(answer) -> str:
    answer = to_number(answer, what=f"a number from {EPS_CHOICES}")
    matches = [e for e in EPS_CHOICES if np.isclose(answer, e, rtol=1e-6, atol=0)]
    if not matches:
        raise Wrong(f"{answer!r} is not one of the choices {EPS_CHOICES}.")
    errors = float32_errors()
    k = EPS_CHOICES.index(matches[0])
    best = int(np.argmin(errors))
    if k == best:
        return (f"eps = {EPS_CHOICES[best]:g} gives {errors[best]:.1e}; in float32 the best step is near the cube "
                "root of float32's machine epsilon (1.2e-7), about 5e-3: far bigger than the float64 habit of 1e-5.")
    if EPS_CHOICES[k] <= 1e-5:
        raise Wrong(f"eps = {EPS_CHOICES[k]:g} gives {errors[k]:.1e}: round-off. float32 keeps about 7 digits, so "
                    "L(p + eps) - L(p - eps) loses most of them (at 1e-8, p + eps is just p).")
    if k < best:
        raise Wrong(f"eps = {EPS_CHOICES[k]:g} gives {errors[k]:.1e}: the step is so large that the curvature "
                    "of the loss (truncation error, ~eps^2) dominates. Try smaller.")
    raise Wrong(f"eps = {EPS_CHOICES[k]:g} gives {errors[k]:.1e}; a slightly larger step does better.")


ex4 = Exercise(
    "backward-ex4",
    _check_eps,
    ["Sweep: LinearBench.random(5, 4, 3, np.random.default_rng(3), 'float32').sweep(list(EPS_CHOICES)).",
     "Pick the eps with the smallest error; it is much larger than the float64 habit of 1e-5."],
    "errors = LinearBench.random(5, 4, 3, np.random.default_rng(3), 'float32').sweep(list(EPS_CHOICES))\n"
    "answer = EPS_CHOICES[int(np.argmin(errors))]",
)
