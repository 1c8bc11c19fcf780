"""Exercises for the chapter `lora`: ex1 the paper's initialisation; ex2 find the bug in a merge that
forgets the 1/r; ex3 the backward pass; ex4 the data-weighted best rank-r update through the SVD of X (a
new case); ex5 which factor has moved after one step (a prediction, before the cell that shows it).

Convention (see `lib.lora`): Y = X @ W0 + (alpha / r) * (X @ A) @ B with A (D_in, r) random and
B (r, D_out) zero at the start. Letters: N examples, D_in / D_out layer widths, r rank.
"""

from __future__ import annotations

import numpy as np

from lib import lora
from lib.exercises import (
    Exercise,
    Wrong,
    call,
    cases,
    check_function,
    check_rng,
    compare_choice,
    refuse_lib,
    to_array,
)

# ---------------------------------------------------------------- ex1: the paper's initialisation
_INIT_SIZES = ((6, 4, 3), (5, 9, 2), (8, 8, 1))  # (D_in, D_out, r): two values of each, non-square


def _shift(A: np.ndarray, B: np.ndarray, D_in: int) -> float:
    """How far the adapted layer's output moves at step 0 (alpha = r, so s = 1)."""
    X = np.random.default_rng(1).standard_normal((5, D_in))
    return float(np.abs((X @ A) @ B).max())


def _check_one_init(out: object, D_in: int, D_out: int, r: int, passed: bool = False) -> None:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Wrong(f"init_lora should return two arrays (A, B), got {type(out).__name__}"
                    f"{f' of length {len(out)}' if isinstance(out, (tuple, list)) else ''}.")
    A, B = to_array(out[0], "A"), to_array(out[1], "B")
    want_A, want_B = (D_in, r), (r, D_out)
    if (A.shape, B.shape) == (want_B, want_A) and want_A != want_B:
        raise Wrong(f"you returned (B, A); return (A, B) with A of shape (D_in, r) = {want_A} and B of shape "
                    f"(r, D_out) = {want_B}.")
    if (A.shape, B.shape) == ((r, D_in), (D_out, r)) and (r, D_in) != want_A:
        raise Wrong(f"those are the paper's (out, in) shapes, A (r, D_in) and B (D_out, r); in the course's row "
                    f"convention X @ A @ B, A is (D_in, r) = {want_A} and B is (r, D_out) = {want_B}.")
    if A.shape != want_A or B.shape != want_B:
        raise Wrong(f"A should have shape (D_in, r) = {want_A} and B (r, D_out) = {want_B}; got A {A.shape}, "
                    f"B {B.shape}{': is a size hard-coded? Use the D_in, D_out and r you are given' if passed else ''}.")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise Wrong("A or B contains NaN or inf.")
    if np.all(A == 0) and np.all(B == 0):
        raise Wrong("both factors are zero: then dB = s (X @ A).T @ dY and dA = s X.T @ dY @ B.T are both zero "
                    "too, so gradient descent never moves. Keep B at zero but draw A at random.")
    if np.all(A == 0):
        raise Wrong("you zeroed A (the factor that touches X) and drew B at random. The output is unchanged at step "
                    "0 that way too, but it is the mirror of the paper's choice and trains differently (Hayou et "
                    "al., 2024): the paper, PEFT and this chapter draw A at random and start B, the factor that "
                    "produces the output, at zero.")
    if np.any(B != 0):
        raise Wrong(f"B is not zero, so at step 0 the adapted layer already differs from the pretrained one "
                    f"(outputs move by up to {_shift(A, B, D_in):.3g} here, with alpha = r). Start B at "
                    "zeros so that training starts exactly at W0.")
    rank = int(np.linalg.matrix_rank(A))
    if rank < r:
        raise Wrong(f"A has rank {rank}, not r = {r}: its columns are equal (or dependent). The r bottleneck units "
                    "X @ A then get identical gradients and stay identical, so the adapter never learns more than "
                    f"a rank-{rank} update. Draw every entry of A independently.")
    std = float(np.sqrt(np.mean(A**2)))
    if std > 10:
        raise Wrong(f"A's entries have a root mean square of {std:.3g}: X @ A is then huge, and so are B's first "
                    "gradients and steps. Use a scale of order 1/sqrt(D_in) (or at most 1).")
    if std < 1e-4:
        raise Wrong(f"A's entries have a root mean square of {std:.3g}, almost zero: B's first gradient "
                    "s (X @ A).T @ dY is then almost zero and training barely starts. Use a scale of order "
                    "1/sqrt(D_in).")


def _check_init(fn) -> str:
    refuse_lib(fn, {"lib.lora.init_lora": lora.init_lora})
    for i, (D_in, D_out, r) in enumerate(_INIT_SIZES):
        try:
            out = call(fn, D_in, D_out, r, np.random.default_rng(0), name="your init_lora")
            _check_one_init(out, D_in, D_out, r, passed=i > 0)
            try:
                check_rng(fn, (D_in, D_out, r), name="your init_lora")
            except Wrong as wrong:
                if "same result for different rng seeds" in str(wrong):
                    raise Wrong("your A is the same whatever the rng you are given: either it comes from a generator "
                                "of your own (such as np.random.default_rng(7)) or it is a fixed pattern (such as "
                                "np.eye). The paper draws A at random: draw its entries from the rng argument.") from None
                raise
        except Wrong as wrong:
            raise Wrong(f"with D_in={D_in}, D_out={D_out}, r={r}: {wrong}") from None
    return ("A (D_in, r) random and B (r, D_out) zero: A @ B = 0 exactly, so the first forward pass is the "
            "pretrained layer, and B's gradient s (X @ A).T @ dY is not zero, so training starts.")


ex1 = Exercise(
    "lora-init",
    _check_init,
    ["Two conditions: A @ B must be exactly zero at step 0, and some factor must still get a non-zero gradient. "
     "Which factor does the paper start at zero: the one that touches X, or the one that produces the output?",
     "In the row convention A is (D_in, r) and B is (r, D_out). Draw the random one from rng (a scale of order "
     "1/sqrt(D_in) is usual)."],
    "def init_lora(D_in, D_out, r, rng):\n"
    "    A = rng.standard_normal((D_in, r)) / np.sqrt(D_in)   # (D_in, r): touches X, random\n"
    "    B = np.zeros((r, D_out))                             # (r, D_out): produces the output, zero\n"
    "    return A, B",
    why="B = 0 makes A @ B = 0, so training starts exactly at W0; A random (with independent entries) makes "
        "dB = s (X A)^T dY non-zero and lets each of the r directions learn something different.",
)


# ---------------------------------------------------------------- ex2: merging
def _merge_case(D_in: int, D_out: int, r: int, alpha: float, rng: np.random.Generator) -> tuple:
    return (rng.standard_normal((D_in, D_out)), rng.standard_normal((D_in, r)), rng.standard_normal((r, D_out)),
            alpha)


# a square case with r = D_in = D_out first: there every wrong order or scale still has the right shape
_MERGE_CASES = cases(_merge_case, dict(D_in=3, D_out=3, r=3, alpha=6.0), dict(D_in=5, D_out=4, r=2, alpha=3.0),
                     dict(D_in=4, D_out=7, r=1, alpha=16.0), seed=31)


def _merge(W0, A, B, alpha):
    return W0 + (alpha / A.shape[1]) * (A @ B)  # (D_in, D_out) + (D_in, r) @ (r, D_out)


def _scale_used(fn) -> None:
    """Name an update W0 + c * A @ B with a constant c other than alpha / r (such as a hard-coded r)."""
    for case in _MERGE_CASES:
        W0, A, B, alpha = case.make()
        try:
            got = to_array(call(fn, W0.copy(), A, B, alpha, name="your merge"), "your merged W")
        except Wrong:
            return
        if got.shape != W0.shape:
            return
        update, s = A @ B, alpha / A.shape[1]
        c = float(np.sum((got - W0) * update) / np.sum(update * update))
        if not np.allclose(got, W0 + c * update, rtol=1e-5, atol=1e-6):
            return
        if not np.isclose(c, s, rtol=1e-5):
            raise Wrong(f"with D_in={A.shape[0]}, D_out={B.shape[1]}, r={A.shape[1]}, alpha={alpha:g}: your update "
                        f"is {c:.4g} * A @ B, but the scale is alpha / r = {s:.4g}; is r (or alpha) a fixed "
                        "number in your code? Read r from A.shape[1].")


def _check_merge(fn) -> str:
    refuse_lib(fn, {"lib.lora.merge_lora": lora.merge_lora})
    try:
        _check_merge_cases(fn)
    except Wrong as wrong:
        if "different values" in str(wrong):
            _scale_used(fn)
        raise
    return "the merged W gives the same outputs as the adapter, with no extra cost at inference."


def _check_merge_cases(fn) -> None:
    check_function(fn, _merge, _MERGE_CASES, name="your merge", output="your merged W", rtol=1e-5, atol=1e-6, bugs={
        "you forgot the scale: the merged weight is W0 + (alpha / r) * A @ B, not W0 + A @ B.":
            lambda W0, A, B, alpha: W0 + A @ B,
        "the scale is upside down: use alpha / r, not r / alpha.":
            lambda W0, A, B, alpha: W0 + (A.shape[1] / alpha) * A @ B,
        "that is still the function as given, W0 + alpha * A @ B: the scale is alpha / r, so divide by r = "
        "A.shape[1] (the two agree only when r = 1).": lambda W0, A, B, alpha: W0 + alpha * A @ B,
        "that is the rsLoRA scale alpha / sqrt(r); this chapter (and the paper) uses alpha / r.":
            lambda W0, A, B, alpha: W0 + (alpha / np.sqrt(A.shape[1])) * A @ B,
        "the order is A @ B, (D_in, r) @ (r, D_out); B @ A is a different matrix.":
            lambda W0, A, B, alpha: W0 + (alpha / A.shape[1]) * B @ A,
        "your update is transposed: A @ B is already (D_in, D_out), like W0.":
            lambda W0, A, B, alpha: W0 + (alpha / A.shape[1]) * (A @ B).T,
        "you returned only the update; add it to the frozen W0.":
            lambda W0, A, B, alpha: (alpha / A.shape[1]) * A @ B,
        "you subtracted the update; merging adds it: W0 + (alpha / r) * A @ B.":
            lambda W0, A, B, alpha: W0 - (alpha / A.shape[1]) * A @ B,
        "you read r from the wrong axis (A.shape[0] or W0.shape[0] is D_in): r is A.shape[1], or B.shape[0].":
            lambda W0, A, B, alpha: W0 + (alpha / A.shape[0]) * A @ B,
        "you read r from the wrong axis (B.shape[1] or W0.shape[1] is D_out): r is A.shape[1], or B.shape[0].":
            lambda W0, A, B, alpha: W0 + (alpha / B.shape[1]) * A @ B,
        "`alpha // r` is integer division (it rounds alpha / r down); use alpha / r.":
            lambda W0, A, B, alpha: W0 + (alpha // A.shape[1]) * A @ B,
        "you scaled W0 as well: only the update is scaled, W0 + (alpha / r) * A @ B.":
            lambda W0, A, B, alpha: (alpha / A.shape[1]) * (W0 + A @ B),
    })


ex2 = Exercise(
    "lora-merge-bug",
    _check_merge,
    ["The merged model agrees with the adapter at r = 1 and disagrees at every other rank. Which factor of the "
     "adapter's forward pass depends on r?",
     "Write the adapter's output X W0 + s (X A) B with s spelled out, factor X out on the left, and compare what "
     "is left with the function's W0 + alpha * A @ B."],
    "def merge(W0, A, B, alpha):\n    r = A.shape[1]\n"
    "    return W0 + (alpha / r) * (A @ B)    # (D_in, D_out) + (D_in, r) @ (r, D_out)",
    why="X W0 + s (X A) B = X (W0 + s A B) by associativity and distributivity, so one (D_in, D_out) matrix does "
        "the work of the frozen layer and the adapter together. (Libraries such as PEFT add the update to W0 in "
        "place, which saves a copy; keep the original if you want to unmerge exactly.)",
    formerly="lora-ex2",
)


# ---------------------------------------------------------------- ex3: the backward pass
def _grad_case(N: int, D_in: int, D_out: int, r: int, alpha: float, rng: np.random.Generator) -> tuple:
    # B is random here (not the zero of the start), so that a mistake in dA cannot hide behind B = 0
    return (rng.standard_normal((N, D_in)), rng.standard_normal((D_in, D_out)), rng.standard_normal((D_in, r)),
            rng.standard_normal((r, D_out)), alpha, rng.standard_normal((N, D_out)))


_GRAD_CASES = cases(_grad_case, dict(N=5, D_in=4, D_out=3, r=2, alpha=3.0), dict(N=3, D_in=6, D_out=5, r=1, alpha=4.0),
                    dict(N=4, D_in=3, D_out=7, r=3, alpha=6.0), seed=32)


def _grads(X, W0, A, B, alpha, dY, *, s_dB=True, s_dH=True, s2=False, adapter_dX=True, s_dX=True):
    s = alpha / A.shape[1]
    H = X @ A  # (N, r)
    dB = (s if s_dB else 1.0) * H.T @ dY  # (r, D_out)
    dH = (s if s_dH else 1.0) * dY @ B.T  # (N, r)
    dA = (s if s2 else 1.0) * X.T @ dH  # (D_in, r)
    dH_x = dH if s_dX else dY @ B.T  # what reaches dX through the adapter
    dX = dY @ W0.T + (dH_x @ A.T if adapter_dX else 0.0)  # (N, D_in)
    return dX, dA, dB


def _check_grads(fn) -> str:
    refuse_lib(fn, {"lib.lora.lora_backward": lora.lora_backward})
    check_function(fn, _grads, _GRAD_CASES, name="your lora_grads", parts=("dX", "dA", "dB"), rtol=1e-5,
                   atol=1e-6, bugs={
        "you forgot the scale s = alpha / r everywhere: it multiplies the adapter's output, so it multiplies dB, "
        "dH = s dY B.T and everything after.":
            lambda *a: _grads(*a, s_dB=False, s_dH=False),
        "dB lacks the scale: dB = s (X @ A).T @ dY, with s = alpha / r.":
            lambda *a: _grads(*a, s_dB=False),
        "dA (and the adapter's share of dX) lack the scale: dH = s dY @ B.T, then dA = X.T @ dH.":
            lambda *a: _grads(*a, s_dH=False),
        "dA has the scale twice: s is already inside dH = s dY @ B.T, so dA = X.T @ dH.":
            lambda *a: _grads(*a, s2=True),
        "dX misses the adapter's path: X feeds both W0 and A, so dX = dY @ W0.T + dH @ A.T.":
            lambda *a: _grads(*a, adapter_dX=False),
        "dX's adapter path lacks the scale: it is dH @ A.T with dH = s dY @ B.T.":
            lambda *a: _grads(*a, s_dX=False),
        "you returned (dX, dB, dA); return them in the order (dX, dA, dB).":
            lambda *a: (lambda g: (g[0], g[2], g[1]))(_grads(*a)),
        "dA lacks the scale: dA = X.T @ dH with dH = s dY @ B.T, so dA = s X.T @ dY @ B.T.":
            lambda *a: (lambda g, u: (g[0], u[1], g[2]))(_grads(*a), _grads(*a, s_dH=False)),
        "dX misses the frozen path: X feeds both W0 and A, so dX = dY @ W0.T + dH @ A.T.":
            lambda X, W0, A, B, alpha, dY: (lambda g: (g[0] - dY @ W0.T, g[1], g[2]))(_grads(X, W0, A, B, alpha, dY)),
        "every gradient has the wrong sign: dY is the gradient of the loss, and the chain rule only multiplies by "
        "the layer's matrices (the minus sign belongs to the update step, W -= lr * dW).":
            lambda *a: tuple(-g for g in _grads(*a)),
        "your scale is alpha, not alpha / r: divide by r = A.shape[1].":
            lambda X, W0, A, B, alpha, dY: _grads(X, W0, A, B, alpha * A.shape[1], dY),
        "you read r from the wrong axis (A.shape[0] is D_in): r is A.shape[1], or B.shape[0].":
            lambda X, W0, A, B, alpha, dY: _grads(X, W0, A, B, alpha * A.shape[1] / A.shape[0], dY),
    })
    return ("dB = s (XA)^T dY, dH = s dY B^T, dA = X^T dH, dX = dY W0^T + dH A^T: each gradient has the shape of "
            "its matrix, and finite differences agree.")


ex3 = Exercise(
    "lora-backward",
    _check_grads,
    ["Name the intermediate H = X @ A (N, r). Then Y = X @ W0 + s * H @ B is two linear layers: apply the rule "
     "of the linear layer (dW = input.T @ dOutput, dInput = dOutput @ W.T) to each.",
     "Go backwards through s * H @ B first: that gives dB and dH, both with a factor s. Then H = X @ A gives dA "
     "and a second contribution to dX."],
    "def lora_grads(X, W0, A, B, alpha, dY):\n    s = alpha / A.shape[1]\n    H = X @ A                  # (N, r)\n"
    "    dB = s * H.T @ dY          # (r, D_out)\n    dH = s * dY @ B.T          # (N, r)\n"
    "    dA = X.T @ dH              # (D_in, r)\n    dX = dY @ W0.T + dH @ A.T  # (N, D_in): two paths from X\n"
    "    return dX, dA, dB",
    why="Each product is a linear layer whose gradient rule you know; s multiplies H @ B, so it reaches dB and dH "
        "once; X feeds both W0 and A, so its gradient is the sum of the two paths.",
    formerly="lora-ex3",
)


# ---------------------------------------------------------------- ex4: the data-weighted best rank-r update (new case)
def _best(X: np.ndarray, delta: np.ndarray, r: int, *, whiten: str = "S", rank_shift: int = 0) -> np.ndarray:
    """Reference (and slips): X = U S Vt, ||X M|| = ||S Vt M||, D = V S^-1 [S Vt delta]_r."""
    _, S, Vt = np.linalg.svd(X, full_matrices=False)  # S (D_in,), Vt (D_in, D_in)
    W = {"S": S, "S2": S**2, "none": np.ones_like(S)}[whiten][:, None] * Vt  # the change of variables
    Z = W @ delta  # (D_in, D_out)
    U2, S2, Vt2 = np.linalg.svd(Z, full_matrices=False)
    k = r + rank_shift
    Zr = (U2[:, :k] * S2[:k]) @ Vt2[:k]  # best rank k of Z
    return np.linalg.solve(W, Zr)  # back to the original variables


def _best_case(N: int, D_in: int, D_out: int, r: int, rng: np.random.Generator) -> tuple:
    X = rng.standard_normal((N, D_in)) * np.linspace(0.3, 3.0, D_in)  # columns of very different sizes
    return X, rng.standard_normal((D_in, D_out)), r


_BEST_CASES = cases(_best_case, dict(N=40, D_in=6, D_out=5, r=2), dict(N=30, D_in=5, D_out=7, r=1),
                    dict(N=50, D_in=8, D_out=6, r=3), seed=44)

_BEST_BUGS = {
    "that is the truncated SVD of delta itself, the best rank-r matrix in the plain Frobenius norm; the loss "
    "measures the error through X, ||X (delta - D)||, so take the SVD of X first and change variables.":
        lambda X, delta, r: _best(X, delta, r, whiten="none"),
    "you weighted by S^2 (X^T X) instead of S: ||X M||_F = ||S Vt M||_F, one factor of S, not two.":
        lambda X, delta, r: _best(X, delta, r, whiten="S2"),
    "your update has rank r + 1: keep exactly r singular values of S Vt delta.":
        lambda X, delta, r: _best(X, delta, r, rank_shift=1),
    "you did not map back: [S Vt delta]_r is the best update in the new variables; D = V S^-1 [S Vt delta]_r.":
        lambda X, delta, r: (lambda Z: (lambda U, S, Vt: (U[:, :r] * S[:r]) @ Vt[:r])(*np.linalg.svd(Z, full_matrices=False)))(
            np.linalg.svd(X, full_matrices=False)[1][:, None] * np.linalg.svd(X, full_matrices=False)[2] @ delta),
}


def _check_best(fn) -> str:
    refuse_lib(fn, {"lib.lora.best_update": lora.best_update})
    check_function(fn, _best, _BEST_CASES, name="your best_update", rtol=1e-6, atol=1e-8, bugs=_BEST_BUGS)
    return ("D = V S^-1 [S Vt delta]_r: with X = U S Vt, ||X M||_F = ||S Vt M||_F, so the loss is the plain "
            "Frobenius norm in the variables S Vt M, where Eckart-Young applies; mapping back gives the best rank-r "
            "update for the loss, the same as lora.best_update.")


ex4 = Exercise(
    "lora-best-update",
    _check_best,
    ["The loss is ||X (delta - D)||_F. Which factors of X = U S Vt leave a Frobenius norm unchanged, so that "
     "you may drop them?",
     "With M = delta - D, ||X M||_F = ||S Vt M||_F. Call Z = S Vt delta: the best rank-r approximation of Z is "
     "Eckart-Young; then solve S Vt D = [Z]_r for D."],
    "def best_update(X, delta, r):\n"
    "    _, S, Vt = np.linalg.svd(X, full_matrices=False)      # X = U S Vt\n"
    "    Z = S[:, None] * Vt @ delta                           # ||X M|| = ||S Vt M||\n"
    "    U2, S2, Vt2 = np.linalg.svd(Z, full_matrices=False)\n"
    "    Zr = (U2[:, :r] * S2[:r]) @ Vt2[:r]                   # Eckart-Young in the new variables\n"
    "    return Vt.T @ (Zr / S[:, None])                       # back: D = V S^-1 Zr",
    why="U has orthonormal columns and Vt is a rotation, so only the stretch S weights the error; in the variables "
        "S Vt D the loss is a plain Frobenius distance, where the truncated SVD is optimal.",
)


# ---------------------------------------------------------------- ex5: which factor moves first
def _check_first_mover(answer) -> str:
    if isinstance(answer, str):  # "B only", "only B", "B." all mean "B"
        words = answer.strip().strip("'\"`.!").strip().split()
        answer = " ".join(w for w in words if w.casefold() != "only") or answer
    if isinstance(answer, str) and answer.strip().strip("'\"`").strip().casefold() in ("a and b", "a & b", "a, b",
                                                                                          "a+b", "ab"):
        answer = "both"
    if isinstance(answer, str) and answer.strip().strip("'\"`").strip().casefold() in ("neither", "none", "no"):
        raise Wrong("one factor does move: dB = s (X @ A).T @ dY is not zero, because A is random; only dA = "
                    "s X.T @ dY @ B.T vanishes at the start, because B = 0. Answer \"A\", \"B\" or \"both\".")
    compare_choice(answer, ("A", "B", "both"), "B", name="your answer", bugs={
        "A": "dA = s X.T @ dY @ B.T, and B is zero at the start, so dA is zero: A does not move at the first step. "
             "dB = s (X @ A).T @ dY is not zero, because A is random.",
        "both": "only one gradient is non-zero at the start: dA = s X.T @ dY @ B.T vanishes because B = 0. B moves "
                "first (dB = s (X @ A).T @ dY, A random), and A follows one step later.",
    })
    return "B: its gradient s (X A)^T dY uses the random A, while A's gradient s X^T dY B^T is zero as long as B = 0."


ex5 = Exercise(
    "lora-first-step",
    _check_first_mover,
    ["A factor moves when its gradient is not zero. Which matrices appear in the gradient of A, and which in "
     "the gradient of B?",
     "Write Y = X W0 + s (X A) B as a chain of two linear layers and apply dW = input^T @ dOutput to each: "
     "which factor is the 'input' or the 'weight' in the other's gradient?"],
    'answer = "B"',
    why="dB = s (XA)^T dY depends on A, which is random, so it is not zero; dA = s X^T dY B^T depends on B, which is "
        "zero at the start. After one step B is non-zero, and from then on A moves too.",
    formerly="lora-ex5",
)
