"""Exercises for the chapter `backward`: ex1 one central difference, ex2 a gradient check of your own,
ex3 a bug hunt with it, ex4 the backward pass of ReLU after a linear layer, ex5 the backward pass over
sequences (B, T, D_in), ex6 a prediction of what a sampled check misses.

Every function exercise runs on several layer sizes (a square one first, where transposed products
still run) and names a bug only when it explains every size.
"""

from __future__ import annotations

import numpy as np

from lib.exercises import (
    Exercise,
    NotAttempted,
    Wrong,
    as_values,
    call,
    close,
    judge,
    need_function,
    refuse_lib,
    run_cases,
    safe,
    to_number,
)
from lib.gradcheck import LinearBench, check_gradients, numerical_gradient, relative_error

# Several cases are judged at once by the engine's run_cases and judge: a bug is named only when it
# explains every case (an answer that merely resembles a bug on one case gets the plain comparison).
run = run_cases

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
        arrays.append(as_values(o, name))
    return arrays


def _judge_three(got: list[list[np.ndarray]], want: list[tuple], bugs: list[dict], where: list[str]) -> None:
    """got[case][k], want[case][k]; bugs[k] maps a sentence to a function of the case index."""
    for k in range(3):  # a right gradient in the wrong slot, on every case
        for j, other in enumerate(_NAMES):
            if k != j and all(close(g[k], w[j]) and not close(g[k], w[k]) for g, w in zip(got, want, strict=True)):  # noqa: E501
                raise Wrong(f"item {k + 1} of your tuple is {other}; return them in the order (dX, dW, db).")
    for k, name in enumerate(_NAMES):
        judge([g[k] for g in got], [w[k] for w in want],
              {s: [safe(lambda f=f, c=c: f(c)) for c in range(len(got))] for s, f in bugs[k].items()},
              [f"{name} {w}" for w in where])


def _linear_bugs(cases: list[tuple]) -> list[dict]:
    """The classic mistakes in dX, dW, db: sentence -> (case index -> what the bug returns)."""
    X = [c[0] for c in cases]
    W = [c[1] for c in cases]
    dY = [c[2] for c in cases]
    return [
        {
            "dX: you multiplied by W, not W.T; the product must undo X @ W, so dX = dY @ W.T.": lambda c: dY[c] @ W[c],
            "dX is transposed: W @ dY.T gives (D_in, B); write dY @ W.T to get (B, D_in).": lambda c: W[c] @ dY[c].T,
            "dX: W.T @ dY has the factors in the wrong order (it runs only when B = D_in); dY comes first, "
            "dX = dY @ W.T, (B, D_out) @ (D_out, D_in).": lambda c: W[c].T @ dY[c],
            "dX has the wrong sign: dX = dY @ W.T, with no minus (the minus of gradient descent comes later, "
            "in the update).": lambda c: -dY[c] @ W[c].T,
            "dX: you divided by B; the loss's own 1/B (if any) is already inside dY, so dX = dY @ W.T with no mean.":
                lambda c: dY[c] @ W[c].T / len(X[c]),
        },
        {
            "dW is transposed: dY.T @ X gives (D_out, D_in); write X.T @ dY to get (D_in, D_out).": lambda c: dY[c].T @ X[c],
            "dW: you divided by B; the loss's own 1/B (if any) is already inside dY, so dW = X.T @ dY with no mean.":
                lambda c: X[c].T @ dY[c] / len(X[c]),
            "dW misses one example: the sum over the batch must visit all B rows (a loop `range(B - 1)` or a "
            "slice [:-1] stops one early).": lambda c: X[c][:-1].T @ dY[c][:-1],
            "dW misses the first example: the sum over the batch must visit all B rows, from row 0.":
                lambda c: X[c][1:].T @ dY[c][1:],
            "dW has the wrong sign: dW = X.T @ dY, with no minus.": lambda c: -X[c].T @ dY[c],
            "dW: X @ dY misses the transpose of X (it runs only when B = D_in); contract the batch axis with "
            "X.T @ dY, (D_in, B) @ (B, D_out).": lambda c: X[c] @ dY[c],
        },
        {
            "db: you summed over axis 1 (the features); the bias is shared by the B rows, so sum over axis 0.":
                lambda c: dY[c].sum(axis=1),
            "db: you took the mean over the batch; the bias is broadcast over the B rows, so its gradient is "
            "their sum (any 1/B of the loss is already inside dY).": lambda c: dY[c].mean(axis=0),
            "db: that is only the first example's gradient; sum dY over all B rows.": lambda c: dY[c][0],
            "db: dY is not summed at all; the bias gradient is dY.sum(axis=0), shape (D_out,).": lambda c: dY[c],
            "db: you summed everything to one number; sum over axis 0 only, keeping one entry per output.":
                lambda c: dY[c].sum(),
            "db has shape (1, D_out): drop keepdims=True so it matches b's shape (D_out,).":
                lambda c: dY[c].sum(axis=0, keepdims=True),
            "db misses one example: the sum over the batch must visit all B rows (a loop `range(B - 1)` or a "
            "slice [:-1] stops one early).": lambda c: dY[c][:-1].sum(axis=0),
            "db has the wrong sign: db = dY.sum(axis=0), with no minus.": lambda c: -dY[c].sum(axis=0),
        },
    ]


# ---------------------------------------------------------------- ex1: one central difference
_CENTRAL_CASES = [((4, 3, 2), 5, (0, 1), 1e-3), ((3, 5, 4), 6, (4, 2), 1e-4)]  # bench sizes, seed, index, eps


def _check_central(fn) -> str:
    need_function(fn)
    note = ""
    got_all, want_all, bugs, names = [], [], {}, []
    for sizes, seed, index, eps in _CENTRAL_CASES:
        bench = LinearBench.random(*sizes, np.random.default_rng(seed))
        before = bench.W.copy()
        want = float(numerical_gradient(bench.loss, bench.W, eps=eps, entries=[index])[index])
        # the loss reads bench.W, so the learner must nudge the real array, not a copy
        got = call(fn, bench.loss, bench.W, index, eps, name="your central_difference", copy_args=False)
        drift = np.abs(bench.W - before)
        if drift.max() > 0:
            changed = tuple(int(i) for i in np.unravel_index(np.argmax(drift), drift.shape))
            if np.all(drift <= 8 * np.spacing(np.maximum(np.abs(before), eps))):
                note = (f" Your restore left W{list(changed)} off by {drift.max():.1e}: adding and subtracting eps "
                        "does not give a float back exactly; saving old and assigning it back does.")
            else:
                raise Wrong(f"the parameter was left changed (W{list(changed)} moved by {drift.max():.3g}); save "
                            "old = param[index] first and put it back (param[index] = old) before returning.")
        got = as_values(got, f"central_difference at {index}, eps={eps:g}")
        base, W = bench.loss(), bench.W

        def loss_with(value, whole=False, W=W, bench=bench, index=index):
            V = W.copy()
            if whole:
                V += value
            else:
                V[index] = value
            return LinearBench(bench.X, V, bench.b, bench.G).loss()

        plus, minus = loss_with(W[index] + eps), loss_with(W[index] - eps)
        case_bugs = {
            "that is the forward difference (L(p + eps) - L(p)) / eps; nudge both ways and divide by 2 eps.":
                (plus - base) / eps,
            "the nudges are both ways, but divide by 2 * eps, not eps.": (plus - minus) / eps,
            "the sign is flipped: it is (L(p + eps) - L(p - eps)), plus minus minus.": (minus - plus) / (2 * eps),
            "precedence: (plus - minus) / 2 * eps divides by 2 and then multiplies by eps; write "
            "(plus - minus) / (2 * eps).": (plus - minus) / 2 * eps,
            "you set param[index] to +eps and -eps instead of nudging it: use old + eps and old - eps.":
                (loss_with(eps) - loss_with(-eps)) / (2 * eps),
            "you nudged every entry of param at once (param + eps); nudge only param[index].":
                (loss_with(eps, True) - loss_with(-eps, True)) / (2 * eps),
            "that is half the forward difference: `old` changed with the nudge, so the second nudge landed back "
            "on the original value. Save the entry's value, old = param[index], not the array (old = param "
            "is the same array).": (plus - base) / (2 * eps),
            "your estimate is 0: the loss never saw the nudge. Either you nudged a copy (param.copy(), or "
            "param = param + ...), or you restored the entry before calling loss(). Nudge param[index] "
            "itself, call loss(), and restore afterwards.": 0.0,
        }
        for sentence, value in case_bugs.items():
            bugs.setdefault(sentence, []).append(value)
        got_all.append(got)
        want_all.append(want)
        names.append(f"central_difference at {index}, eps={eps:g}")
    judge(got_all, want_all, bugs, names, rtol=1e-6)
    return "central differences are accurate to order eps^2, and the parameter is left as you found it." + note


ex1 = Exercise(
    "backward-central-difference",
    _check_central,
    ["Evaluate the loss twice, once with the entry a little above its value and once a little below; "
     "the slope is the difference over the distance between the two points.",
     "Keep the original value in a variable first (old = param[index]): you need it for both nudges "
     "and to put the entry back."],
    "def central_difference(loss, param, index, eps):\n    old = param[index]\n    param[index] = old + eps\n"
    "    plus = loss()\n    param[index] = old - eps\n    minus = loss()\n    param[index] = old\n"
    "    return (plus - minus) / (2 * eps)",
    why="loss() reads param itself, so the nudge must happen in "
    "place; the two points are 2 eps apart; assigning old back restores the entry exactly.",
    formerly="backward-ex2",
)


# ---------------------------------------------------------------- ex2: a gradient check of your own
def _rel(a: np.ndarray, n: np.ndarray) -> float:
    scale = max(np.abs(a).max(), np.abs(n).max())
    return 0.0 if scale == 0 else float(np.abs(a - n).max() / scale)


def _forward_numeric(loss, param: np.ndarray, eps: float) -> np.ndarray:
    grad, base = np.zeros(param.shape), loss()
    for idx in np.ndindex(param.shape):
        old = param[idx]
        param[idx] = old + eps
        grad[idx] = (loss() - base) / eps
        param[idx] = old
    return grad


def _check_case_grads(bench: LinearBench, bug: str) -> dict[str, np.ndarray]:
    grads = bench.grads()
    if bug == "W+":
        grads["W"] = grads["W"].copy()
        grads["W"][-1, -1] += 0.2  # one wrong entry of dW
    if bug == "W-":
        grads["W"] = grads["W"] * 0.5  # too small: max|numeric| > max|analytic|
    return grads


def _read_report(out: object, names: list[str]) -> dict[str, float]:
    if not isinstance(out, dict):
        raise Wrong(f"grad_check should return a dict {{name: relative error}}, got {type(out).__name__}.")
    if set(out) != set(names):
        raise Wrong(f"grad_check should return one relative error for each name in params ({names}), got keys "
                    f"{sorted(map(str, out))}.")
    if any(v is Ellipsis for v in out.values()):
        raise NotAttempted
    return {k: to_number(v, f"the relative error of {k}", what="a number") for k, v in out.items()}


_GRAD_CHECK_CASES = [((4, 3, 2), 8, "W+", 1e-5), ((3, 5, 4), 9, "", 1e-5), ((3, 2, 3), 10, "W-", 1e-3),
                     ((4, 2, 3), 11, "", 0.3)]  # a large eps: truncation shows, so eps must really be used


def _check_grad_check(fn) -> str:
    need_function(fn)
    refuse_lib(fn, {"lib.gradcheck.check_gradients": check_gradients,
                    "lib.gradcheck.numerical_gradient": numerical_gradient,
                    "lib.gradcheck.relative_error": relative_error})
    note = ""
    got_all, want_all, bugs, names = [], [], {}, []
    for sizes, seed, bug, eps in _GRAD_CHECK_CASES:
        bench = LinearBench.random(*sizes, np.random.default_rng(seed))
        params, grads = bench.params(), _check_case_grads(bench, bug)
        before = {k: v.copy() for k, v in params.items()}
        out = call(fn, bench.loss, params, {k: v.copy() for k, v in grads.items()}, eps,
                   name="your grad_check", copy_args=False)
        for k in params:
            drift = np.abs(params[k] - before[k])
            if np.any(drift > 8 * np.spacing(np.maximum(np.abs(before[k]), eps))):
                raise Wrong(f"params[{k!r}] was left changed; put every entry back (param[idx] = old) after nudging it.")
            if drift.max() > 0:
                note = (" Your restore left some entries off by about one rounding step: adding and subtracting "
                        "eps does not give a float back exactly; saving old and assigning it back does.")
        report = _read_report(out, list(params))
        numeric = {k: numerical_gradient(bench.loss, params[k], eps=eps) for k in params}
        fixed = {k: numerical_gradient(bench.loss, params[k], eps=1e-5) for k in params}
        forward = {k: _forward_numeric(bench.loss, params[k], eps) for k in params}
        flat = {k: np.ravel(numeric[k])[0] for k in params}
        order = list(params)
        got_all.append(np.array([report[k] for k in order]))
        want_all.append(np.array([_rel(grads[k], numeric[k]) for k in order]))
        names.append(f"your relative errors for {order} on a bench {sizes}, eps={eps:g}")
        case_bugs = {
            "that is the forward difference (L(p + eps) - L(p)) / eps; nudge both ways and divide by 2 eps.":
                [_rel(grads[k], forward[k]) for k in order],
            "every relative error is 1: your numerical gradient is 0 everywhere, so loss() never saw the "
            "nudges. Nudge the arrays in params themselves (loss() reads them), not copies.":
                [1.0 if np.abs(grads[k]).max() > 0 else 0.0 for k in order],
            "that is the element-wise relative error, max of |a - n| / max(|a|, |n|) entry by entry; this "
            "exercise asks for the chapter's: the largest |a - n| over the largest |a| or |n| of the tensor.":
                [float(np.max(np.abs(grads[k] - numeric[k]) / np.maximum(np.maximum(np.abs(grads[k]), np.abs(numeric[k])), 1e-300)))
                 for k in order],
            "you divided by max|a| alone; the chapter's relative error divides by the larger of max|a| and max|n|.":
                [float(np.abs(grads[k] - numeric[k]).max() / np.abs(grads[k]).max()) for k in order],
            "that is the largest absolute difference max|a - n|, not yet divided by the size of the gradients.":
                [float(np.abs(grads[k] - numeric[k]).max()) for k in order],
            "you averaged |a - n| over the entries; the relative error takes the largest one (max, not mean).":
                [float(np.abs(grads[k] - numeric[k]).mean() / max(np.abs(grads[k]).max(), np.abs(numeric[k]).max()))
                 for k in order],
            "that is a norm-based relative error, |a - n| / (|a| + |n|) with whole-tensor norms; this exercise "
            "asks for the chapter's: the largest |a - n| over the largest |a| or |n|.":
                [float(np.linalg.norm(grads[k] - numeric[k]) / (np.linalg.norm(grads[k]) + np.linalg.norm(numeric[k])))
                 for k in order],
            "that is a norm-based relative error, |a - n| / max(|a|, |n|) with whole-tensor norms; this exercise "
            "asks for the chapter's: the largest |a - n| over the largest |a| or |n|.":
                [float(np.linalg.norm(grads[k] - numeric[k]) / max(np.linalg.norm(grads[k]), np.linalg.norm(numeric[k])))
                 for k in order],
            "every relative error of a correct gradient is 0.5: your numerical gradient is twice too large; "
            "the two nudges are 2 eps apart, so divide by 2 * eps, not eps.":
                [_rel(grads[k], 2 * numeric[k]) for k in order],
            "every relative error of a correct gradient is 2: your numerical gradient has the wrong sign; it is "
            "(L(p + eps) - L(p - eps)) / (2 eps), plus minus minus.":
                [_rel(grads[k], -numeric[k]) for k in order],
            "you divided by the smaller of max|a| and max|n|; the chapter's relative error divides by the larger.":
                [float(np.abs(grads[k] - numeric[k]).max() / min(np.abs(grads[k]).max(), np.abs(numeric[k]).max()))
                 for k in order],
            "you took the largest a - n without the absolute value, so differences of one sign are missed; use "
            "np.abs(a - n).max().":
                [float(np.max(grads[k] - numeric[k]) / max(np.abs(grads[k]).max(), np.abs(numeric[k]).max()))
                 for k in order],
            "your check ignores the eps it is given (a step fixed inside the function?); nudge by eps.":
                [_rel(grads[k], fixed[k]) for k in order],
            "you checked only one entry per tensor; estimate every entry (loop over np.ndindex(param.shape)).":
                [_rel(np.ravel(grads[k])[:1], np.array([flat[k]])) for k in order],
        }
        for sentence, values in case_bugs.items():
            bugs.setdefault(sentence, []).append(np.array(values))
    # relative errors below 1e-6 are round-off, as right as the reference's: compare them as 0
    def floor(v: np.ndarray) -> np.ndarray:
        return np.where((v >= 0) & (v < 1e-6), 0.0, v)

    judge([floor(g) for g in got_all], [floor(w) for w in want_all],
          {s: [floor(v) for v in vs] for s, vs in bugs.items()}, names, rtol=1e-3)
    return ("your check gives about 1e-10 for correct gradients and flags a wrong dW: the chapter's "
            "relative error, every entry, parameters restored." + note)


ex2 = Exercise(
    "backward-grad-check",
    _check_grad_check,
    ["For each name: an array of the same shape for the numerical gradient, one central difference per "
     "entry, then one relative error comparing it with grads[name].",
     "np.ndindex(param.shape) visits every index of an array of any shape; the relative error is "
     "np.abs(a - n).max() divided by the larger of np.abs(a).max() and np.abs(n).max()."],
    "def grad_check(loss, params, grads, eps):\n    report = {}\n    for name, param in params.items():\n"
    "        numeric = np.zeros(param.shape)\n        for idx in np.ndindex(param.shape):\n"
    "            old = param[idx]                       # exercise 1, inline\n"
    "            param[idx] = old + eps\n            plus = loss()\n            param[idx] = old - eps\n"
    "            minus = loss()\n            param[idx] = old\n            numeric[idx] = (plus - minus) / (2 * eps)\n"
    "        a = grads[name]\n"
    "        report[name] = np.abs(a - numeric).max() / max(np.abs(a).max(), np.abs(numeric).max())\n"
    "    return report",
    why="The loss is the independent referee; dividing the largest "
    "difference by the size of the tensor's gradient makes the verdict independent of its scale.",
    formerly="backward-ex3",
)


# ---------------------------------------------------------------- ex3: find the bug with your check
def mystery_backward(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    """A loop-based backward pass of the linear layer.

    X (B, D_in), W (D_in, D_out), dY (B, D_out) -> dX (B, D_in), dW (D_in, D_out), db (D_out,)
    """
    dX = np.zeros_like(X)
    for n in range(len(X)):
        dX[n] = W @ dY[n]  # (D_in, D_out) @ (D_out,) -> (D_in,)
    dW = np.zeros_like(W)
    for n in range(len(X) - 1):
        dW += np.outer(X[n], dY[n])  # (D_in,) outer (D_out,) -> (D_in, D_out)
    db = np.zeros_like(W[0])
    for n in range(len(X)):
        db += dY[n]
    return dX, dW, db


def _check_mystery(answer) -> str:
    if not isinstance(answer, str):
        raise Wrong(f"answer with the name of a tensor as a string ('X', 'W' or 'b'), got {type(answer).__name__}.")
    key = answer.strip().strip("'\"`").strip().lower()
    key = {"dx": "x", "dw": "w", "db": "b", "weights": "w", "bias": "b", "input": "x"}.get(key, key)
    if key not in ("x", "w", "b"):
        raise Wrong(f"{answer!r} is not one of 'X', 'W', 'b'.")
    if key != "w":
        tensor = {"x": "X", "b": "b"}[key]
        raise Wrong(f"the gradient of {tensor} is right: a correct check gives it a relative error near 1e-10. "
                    "Look for the tensor whose relative error is far above 1e-6.")
    return ("dW fails (a relative error of a few tenths): its loop `range(len(X) - 1)` skips the last example, "
            "an off-by-one in the batch sum; dX and db visit every example.")


ex3 = Exercise(
    "backward-find-bug",
    _check_mystery,
    ["Run your grad_check (or bench4.check, the chapter's) with the gradients mystery_backward returns.",
     "A correct gradient gives about 1e-10; the wrong one stands out by many orders of magnitude."],
    "bench4 = LinearBench.random(6, 4, 3, np.random.default_rng(7))\n"
    "dX4, dW4, db4 = mystery_backward(bench4.X, bench4.W, bench4.upstream())\n"
    "print(bench4.check(lambda X, W, dY: (dX4, dW4, db4)))   # or your grad_check of exercise 2\n"
    "answer = 'W'   # the one far above 1e-6",
    why="A check compares each tensor separately, so it points at the "
    "wrong one without reading the code (here a batch loop that stops one example early).",
    formerly="backward-ex4",
)


# ---------------------------------------------------------------- ex4: ReLU after a linear layer
_RELU_SIZES = [(3, 3, 3), (6, 4, 5), (4, 2, 3)]


def _relu_case(B: int, D_in: int, D_out: int, seed: int):
    rng = np.random.default_rng(seed)
    X, W = rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out))
    b, dH = rng.normal(size=D_out), rng.normal(size=(B, D_out))
    Z = X @ W + b
    while (Z > 0).all() or (Z < 0).all() or np.abs(Z).min() < 1e-3:  # both signs, no ties at 0
        b = rng.normal(size=D_out)
        Z = X @ W + b
    return X, W, b, dH


_RELU_CASES = [_relu_case(*s, seed=30 + k) for k, s in enumerate(_RELU_SIZES)]


def _check_relu_linear(fn) -> str:
    need_function(fn)
    got, error = run(fn, _RELU_CASES, _read_three, "your relu_linear_backward")

    def grads(c: int, dZ) -> tuple:
        X, W = _RELU_CASES[c][0], _RELU_CASES[c][1]
        return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)

    n = len(got)
    Z = [X @ W + b for X, W, b, _ in _RELU_CASES[:n]]
    dH = [c[3] for c in _RELU_CASES[:n]]
    dZ = [dH[c] * (Z[c] > 0) for c in range(n)]
    want = [grads(c, dZ[c]) for c in range(n)]
    where = [f"(B={B}, D_in={i}, D_out={o})" for B, i, o in _RELU_SIZES[:n]]
    whole = {  # a wrong dZ fed to the right linear backward: named once for all three gradients
        "that is the linear layer's backward pass without the ReLU: either you skipped the mask, or your mask "
        "is 1 everywhere (H >= 0 is always true, since H = max(Z, 0)). Use dZ = dH * (Z > 0).": lambda c: dH[c],
        "you masked by the sign of dH; the mask comes from the forward pass: dZ = dH * (Z > 0).":
            lambda c: dH[c] * (dH[c] > 0),
        "you multiplied dH by Z (or by H = ReLU(Z)); the derivative of ReLU is 1 where Z > 0 and 0 elsewhere, "
        "so dZ = dH * (Z > 0).": lambda c: dH[c] * Z[c],
        "you multiplied dH by H = ReLU(Z); the derivative of ReLU is 1 where Z > 0 and 0 elsewhere, "
        "so dZ = dH * (Z > 0).": lambda c: dH[c] * np.maximum(Z[c], 0),
        "you masked where Z < 0; ReLU passes the gradient where Z > 0: dZ = dH * (Z > 0).":
            lambda c: dH[c] * (Z[c] < 0),
        "your mask leaves out the bias: the ReLU acts on Z = X @ W + b, so mask with Z > 0.":
            lambda c: dH[c] * (_RELU_CASES[c][0] @ _RELU_CASES[c][1] > 0),
    }
    for sentence, dz in whole.items():
        if all(all(close(got[c][k], safe(lambda c=c, k=k, dz=dz: grads(c, dz(c))[k])) for k in range(3)) for c in range(n)):
            raise Wrong(sentence)
    partial = {  # the mask used for some gradients and not for others
        k: {f"{name} uses dH; it must use the masked gradient dZ = dH * (Z > 0), like the others.":
            (lambda c, k=k: grads(c, dH[c])[k])}
        for k, name in enumerate(_NAMES)
    }
    bugs = _linear_bugs([(c[0], c[1], dZ[i]) for i, c in enumerate(_RELU_CASES[:n])])
    for k in range(3):
        bugs[k].update(partial[k])
    _judge_three(got, want, bugs, where)
    if error:
        raise error
    return ("dZ = dH * (Z > 0), then the linear layer's three formulas with dZ in place of dY: "
            "the ReLU lets the gradient through where it was on and stops it where it was off.")


ex4 = Exercise(
    "backward-relu-linear",
    _check_relu_linear,
    ["Chain rule in two steps: first the gradient with respect to Z, then the linear layer's backward pass "
     "with that gradient in place of dY. What is the slope of max(z, 0) for z > 0, and for z < 0?",
     "Recompute Z = X @ W + b from the inputs; the slope of the ReLU is an array of 0s and 1s of Z's shape."],
    "def relu_linear_backward(X, W, b, dH):\n    Z = X @ W + b               # (B, D_out), recomputed\n"
    "    dZ = dH * (Z > 0)           # ReLU's slope: 1 where Z > 0, else 0\n"
    "    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)",
    why="H depends on Z entry by entry with slope 1 (on) or 0 (off), so "
    "dZ is dH masked; after that the layer is the plain linear layer of the chapter.",
    formerly="backward-ex5",
)




# ---------------------------------------------------------------- ex5: the backward pass over sequences
_SEQ_SIZES = [(2, 3, 4, 5), (3, 4, 5, 2), (4, 2, 3, 6)]  # (B, T, D_in, D_out): every size distinct in each case
_seq_rng = np.random.default_rng(61)
_SEQ_CASES = [(_seq_rng.normal(size=(B, T, i)), _seq_rng.normal(size=(i, o)), _seq_rng.normal(size=(B, T, o)))
              for B, T, i, o in _SEQ_SIZES]


def _seq_bugs(cases: list[tuple]) -> list[dict]:
    """The mistakes of a 3-D backward pass: sentence -> (case index -> what the bug returns)."""
    X, W, dY = ([c[k] for c in cases] for k in range(3))
    dW = lambda c: np.einsum("bti,bto->io", X[c], dY[c])  # noqa: E731
    return [
        {
            "dX: you summed it over an axis; each token has its own row of X, so dX = dY @ W.T keeps the shape "
            "(B, T, D_in).": lambda c: (dY[c] @ W[c].T).sum(axis=0),
        },
        {
            "dW has one matrix per sequence, (B, D_in, D_out): W is shared by the B sequences too, so sum over "
            "the batch axis as well as the positions.": lambda c: np.swapaxes(X[c], 1, 2) @ dY[c],
            "dW uses only the first sequence: W is used by every sequence, so sum over the batch axis too.":
                lambda c: X[c][0].T @ dY[c][0],
            "dW uses only one position per sequence: W is used at every position, so sum over T too.":
                lambda c: X[c][:, 0].T @ dY[c][:, 0],
            "dW: you divided by B; any 1/B of the loss is already inside dY, so just sum.":
                lambda c: dW(c) / len(X[c]),
            "dW: you divided by B * T (a mean over the tokens); any mean of the loss is already inside dY, so just "
            "sum.": lambda c: dW(c) / (X[c].shape[0] * X[c].shape[1]),
            "dW is transposed: it must have W's shape (D_in, D_out).": lambda c: dW(c).T,
        },
        {
            "db: you summed over the batch axis only, which leaves (T, D_out); b is broadcast over both B and T, "
            "so sum over axes 0 and 1.": lambda c: dY[c].sum(axis=0),
            "db: you summed over the positions only, which leaves (B, D_out); b is broadcast over both B and T, "
            "so sum over axes 0 and 1.": lambda c: dY[c].sum(axis=1),
            "db: you summed over the features; b has one entry per output feature, so keep the last axis and sum "
            "over axes 0 and 1.": lambda c: dY[c].sum(axis=(1, 2)),
            "db: you took the mean over the tokens; b is broadcast, so its gradient is the sum over axes 0 and 1.":
                lambda c: dY[c].mean(axis=(0, 1)),
            "db: you summed everything to one number; keep one entry per output, sum over axes 0 and 1 only.":
                lambda c: dY[c].sum(),
            "db: that is only the first sequence; b is used by every sequence, so sum over the batch axis too.":
                lambda c: dY[c][0].sum(axis=0),
        },
    ]


def _check_seq_backward(fn) -> str:
    need_function(fn)
    from lib.linear import linear_backward

    refuse_lib(fn, {"lib.linear.linear_backward": linear_backward})
    got, error = run(fn, _SEQ_CASES, _read_three, "your seq_backward")
    cases = _SEQ_CASES[:len(got)]
    want = [(dY @ W.T, np.einsum("bti,bto->io", X, dY), dY.sum(axis=(0, 1))) for X, W, dY in cases]
    where = [f"(B={B}, T={T}, D_in={i}, D_out={o})" for B, T, i, o in _SEQ_SIZES]
    _judge_three(got, want, _seq_bugs(cases), where[:len(got)])
    if error:
        raise error
    return ("dX = dY @ W.T (one row per token), dW sums X[n, t] outer dY[n, t] over every sequence and position, "
            "db = dY.sum(axis=(0, 1)): a parameter broadcast over B and T sums its gradient over exactly those axes.")


ex5 = Exercise(
    "backward-sequence-layer",
    _check_seq_backward,
    ["In Y = X @ W + b with X of shape (B, T, D_in), which axes of Y was W used along, and which was b "
     "broadcast along? A parameter's gradient sums over the axes it was shared along.",
     "Merge the two leading axes first: X.reshape(-1, D_in) is (B*T, D_in), a batch of B*T tokens; or write "
     "dW with np.einsum and name the axes 'bti,bto->io'. db must come out with shape (D_out,)."],
    "def seq_backward(X, W, dY):\n    dX = dY @ W.T                                # (B, T, D_out) @ (D_out, D_in)\n"
    "    dW = np.einsum(\"bti,bto->io\", X, dY)        # sum over B and T -> (D_in, D_out)\n"
    "    db = dY.sum(axis=(0, 1))                     # (D_out,)\n    return dX, dW, db",
    why="W and b are shared by every token of every sequence, so their gradients sum over both leading axes; "
    "each token keeps its own row of dX.",
)


# ---------------------------------------------------------------- ex6: predict what a sampled check misses
SAMPLE_N, SAMPLE_ENTRIES = 20, 64 * 32  #: 20 sampled entries of the 2,048 of dW on the (16, 64, 32) bench
_MISS = 1 - SAMPLE_N / SAMPLE_ENTRIES  # without replacement: 0.990...
MISS_ATOL = 0.002  #: absolute tolerance: with-replacement (1 - 1/2048)**20 = 0.99028 is right too


def _check_sample_miss(answer) -> str:
    p = to_number(answer, "your probability")
    if not 0 <= p <= 1 and 1 <= p <= 100:
        raise Wrong("give the probability as a number between 0 and 1, not a percentage.")
    if abs(p - _MISS) <= MISS_ATOL:
        return (f"{_MISS:.3f}: the sample sees 20 of {SAMPLE_ENTRIES:,} entries, so it passes a dW with one bad entry "
                "99 times in 100. Sampling catches bugs that spoil a whole tensor, not a few entries.")
    bugs = {
        "that is the probability that the sample *catches* the bad entry (20/2048); the question asks how often "
        "it misses it.": SAMPLE_N / SAMPLE_ENTRIES,
        "that counts the entries of all three tensors; the bad entry is in dW, whose 2,048 entries are sampled "
        "separately (20 per tensor).": 1 - 3 * SAMPLE_N / (16 * 64 + SAMPLE_ENTRIES + 32),
        "1 would mean a sample never finds it; 20 of the 2,048 entries are checked, so it is found now and then.":
            1.0,
        "0 would mean a sample always finds it; 20 of 2,048 entries leave most of dW unchecked.": 0.0,
    }
    for sentence, value in bugs.items():
        if abs(p - value) <= 1e-3 * max(1.0, abs(value)) or (value and abs(p / value - 1) < 0.01):
            raise Wrong(sentence)
    raise Wrong(f"got {p:g}: count the entries of dW (D_in x D_out) and the share of them a sample of 20 visits.")


ex6 = Exercise(
    "backward-sampled-check",
    _check_sample_miss,
    ["How many entries does dW have on this bench, and how many of them does samples=20 look at?",
     "The check passes W unless one of the 20 sampled indices is the bad one: that happens with probability "
     "(number of samples) / (entries of dW). What is left for the miss?"],
    "answer = 1 - 20 / (64 * 32)   # 0.990: 20 of 2,048 entries checked, the bad one seen 1 time in 100",
    why="A sample of k of N entries sees one given entry with probability k/N; a bug confined to one entry "
    "needs the full check.",
)
