"""Exercises for the chapter `low-rank`: the best rank-k approximation, its error from the singular
values, the condition number, an initialisation scale, and a prediction that separates the gain of
a deep stack from its conditioning.

Letters: m, n the shape of A; k the rank kept; S the singular values, largest first.
"""

from __future__ import annotations

import numpy as np

from lib import svd as lib_svd
from lib.exercises import (
    Exercise,
    Wrong,
    call,
    cases,
    check_function,
    compare,
    need_function,
    not_applicable,
    refuse_lib,
    to_array,
)


# ---------------------------------------------------------------- ex1: rank_k
def _rank_case(m: int, n: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    return rng.normal(size=(m, n)), k


# k = 2 first, where keeping k - 1 or k + 1 terms differs from the right answer; square first too
_RANK_CASES = cases(_rank_case, dict(m=5, n=5, k=2), dict(m=6, n=4, k=1), dict(m=4, n=7, k=3), seed=21)


def _thin(A):
    return np.linalg.svd(A, full_matrices=False)


def _rank_k(A, k):
    U, S, Vt = _thin(A)
    return (U[:, :k] * S[:k]) @ Vt[:k]  # (m, k) @ (k, n) -> (m, n)


def _full_smallest(A, k):
    U, S, Vt = np.linalg.svd(A)  # full: U (m, m), Vt (n, n)
    return U[:, -k:] @ np.diag(S[-k:]) @ Vt[-k:]


def _check_rank_k(fn) -> str:
    refuse_lib(fn, {"lib.svd.rank_k_approx": lib_svd.rank_k_approx})
    (A, k) = _RANK_CASES[0].make()
    got = call(fn, A, k, name="your rank_k")
    if isinstance(got, (tuple, list)) and len(got) in (2, 3) and all(np.ndim(g) >= 1 for g in got):
        raise Wrong(f"your rank_k returned {len(got)} factors; multiply them and return one matrix of A's shape "
                    f"{A.shape}.")
    check_function(fn, _rank_k, _RANK_CASES, name="your rank_k", output="your approximation", rtol=1e-5,
                   atol=1e-6, bugs={
        "you kept the k SMALLEST singular values; the best approximation keeps the k largest (the first k, S[:k]).":
            lambda A, k: (_thin(A)[0][:, -k:] * _thin(A)[1][-k:]) @ _thin(A)[2][-k:],
        "you kept the last k singular triplets of a full SVD (the smallest values, and for a non-square A columns "
        "that do not even belong to them); keep the first k: U[:, :k], S[:k], Vt[:k].":
            _full_smallest,
        "you left out the singular values: multiply by np.diag(S[:k]) between U[:, :k] and Vt[:k].":
            lambda A, k: _thin(A)[0][:, :k] @ _thin(A)[2][:k],
        "you kept k + 1 terms; slices stop before their end: U[:, :k], S[:k], Vt[:k].":
            lambda A, k: _rank_k(A, k + 1),
        "you kept k - 1 terms; U[:, :k] already holds k columns.":
            lambda A, k: _rank_k(A, k - 1) if k > 1 else np.zeros_like(A),
        "you used V where Vt belongs (Vt.T[:k], or the columns of Vt): the right singular vectors are the ROWS "
        "of Vt, so take Vt[:k].":
            lambda A, k: (_thin(A)[0][:, :k] * _thin(A)[1][:k]) @ _thin(A)[2].T[:k],
        "U[:, k] is a single column, the (k+1)-th: you kept one term instead of the first k; slice U[:, :k], "
        "S[:k], Vt[:k].":
            lambda A, k: _thin(A)[1][k] * np.outer(_thin(A)[0][:, k], _thin(A)[2][k]),
        "you squared the kept singular values; A_k uses S[:k] itself.":
            lambda A, k: (_thin(A)[0][:, :k] * _thin(A)[1][:k] ** 2) @ _thin(A)[2][:k],
        f"you kept {_RANK_CASES[0].make()[1]} terms whatever k is: slice with the k you are given, U[:, :k], "
        "S[:k], Vt[:k].":
            lambda A, k: _rank_k(A, _RANK_CASES[0].make()[1]) if k != _RANK_CASES[0].make()[1] else not_applicable(),
        "your loop runs over range(1, k + 1): it skips the first term (i = 0, the largest) and adds the (k+1)-th; "
        "use range(k).":
            lambda A, k: _rank_k(A, k + 1) - _rank_k(A, 1),
        "that is what the approximation leaves out, A - A_k (the smallest terms, S[k:]); A_k keeps the first k "
        "terms.":
            lambda A, k: A - _rank_k(A, k),
    })
    return "keeping the k largest singular values gives the closest rank-k matrix (Eckart-Young)."


ex1 = Exercise(
    "low-rank-ex1",
    _check_rank_k,
    ["Take the thin SVD of A and keep only the part of the sum sigma_i u_i v_i^T that matters most.",
     "Slice the first k singular triplets out of U, S and Vt (mind which axis of each one holds them), then "
     "multiply them back as you would rebuild A."],
    "def rank_k(A, k):\n    U, S, Vt = np.linalg.svd(A, full_matrices=False)\n"
    "    return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]      # (m, k) @ (k, k) @ (k, n) -> (m, n)",
    why="A = sum_i sigma_i u_i v_i^T with sigma_1 >= sigma_2 >= ...; dropping the smallest terms changes A by "
        "sigma_{k+1} (spectral norm), and Eckart-Young says no rank-k matrix does better.",
)


# ---------------------------------------------------------------- ex2: the errors from S alone
def _spectra(n: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    if n == 5:
        return np.array([5.0, 3.0, 2.0, 1.0, 0.5]), k
    return np.sort(rng.uniform(0.1, 4.0, size=n))[::-1], k


# k = 2 first: there S[0] (the largest overall), S[k-1] and S[k] all differ
_ERR_CASES = cases(_spectra, dict(n=5, k=2), dict(n=8, k=1), dict(n=7, k=4), seed=22)


def _check_errors(fn) -> str:
    need_function(fn)
    refuse_lib(fn, {"lib.svd.tail_errors": lib_svd.tail_errors})
    for case in _ERR_CASES:
        S, k = case.make()
        got = call(fn, S, k, name="your errors")
        where = f"for S = {np.round(S, 2).tolist()}, k = {k}"
        if isinstance(got, dict):
            raise Wrong(f"return two numbers as a tuple, (spectral, frobenius); got a dict with keys {list(got)}.")
        arr = to_array(got, "your errors")
        if arr.shape != (2,):
            raise Wrong(f"return two numbers, (spectral, frobenius); got an answer of shape {arr.shape}.")
        spectral, frob = arr
        tail = np.sqrt(np.sum(S[k:] ** 2))
        if not np.isclose(S[k], tail) and np.allclose([spectral, frob], [tail, S[k]], rtol=1e-5):
            raise Wrong(f"{where}: the two are swapped; return (spectral, frobenius), the single value S[k] first.")
        compare(spectral, S[k], name=f"the spectral error {where}", reveal=False, bugs={
            "the spectral error is sigma_{k+1}, the largest singular value you DROPPED: with 0-based indexing that "
            "is S[k], not S[k-1].": S[k - 1],
            "that is the largest singular value overall, S[0]; the spectral error is the largest one dropped, S[k].":
                S[0],
            "that is the Frobenius error; the spectral (2-norm) error is the single value S[k].": tail,
            "that is the SMALLEST singular value, S[-1]; the spectral error is the largest one dropped, S[k].": S[-1],
            "you squared it: the spectral error is S[k] itself (S[k]**2 is the squared error).": S[k] ** 2,
        })
        compare(frob, tail, name=f"the Frobenius error {where}", reveal=False, bugs={
            "you summed the KEPT singular values; the error comes from the dropped tail S[k:].":
                np.sqrt(np.sum(S[:k] ** 2)),
            "you forgot the square root: sum(S[k:]**2) is the squared Frobenius error.": np.sum(S[k:] ** 2),
            "you added the dropped singular values without squaring them; Frobenius is sqrt(sum of squares).":
                np.sum(S[k:]),
            "your tail starts one too early: the dropped values are S[k:], not S[k-1:].":
                np.sqrt(np.sum(S[k - 1:] ** 2)),
            "your tail starts one too late: the dropped values are S[k:], not S[k+1:].":
                np.sqrt(np.sum(S[k + 1:] ** 2)),
            "that is the norm of ALL singular values, the norm of A itself; keep only the dropped ones, S[k:].":
                np.sqrt(np.sum(S**2)),
            "you took the MEAN of the squares (a root mean square); the Frobenius error is the square root of their "
            "SUM.": np.sqrt(np.mean(S[k:] ** 2)),
        })
    return "both errors come from the dropped singular values alone: no need to build A_k to know them."


ex2 = Exercise(
    "low-rank-ex2",
    _check_errors,
    ["Keeping k values drops sigma_{k+1}, sigma_{k+2}, ...: the errors depend on those only.",
     "With 0-based indexing the dropped values are S[k:]. One error is a single value of that tail, the other "
     "combines all of them."],
    "def errors(S, k):\n    dropped = S[k:]                      # sigma_{k+1}, ..., sigma_r\n"
    "    return dropped[0], np.sqrt(np.sum(dropped**2))",
    why="A - A_k = sum_{i>k} sigma_i u_i v_i^T has singular values S[k:], so its largest stretch is S[k] and its "
        "Frobenius norm is the root of the sum of their squares.",
)


# ---------------------------------------------------------------- ex3: the condition number
def _cond_case(m: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray]:
    if m == 2:
        return (np.array([[1.0, 2.0], [0.5, 1.5]]),)  # not symmetric: |eigenvalue| ratio differs from kappa
    return (rng.normal(size=(m, n)),)


_COND_CASES = cases(_cond_case, dict(m=2, n=2), dict(m=3, n=3), dict(m=5, n=3), dict(m=3, n=4), seed=23)


def _sv(A):
    return np.linalg.svd(A, compute_uv=False)


def _eig_ratio(A):
    if A.shape[0] != A.shape[1]:
        return not_applicable()
    lam = np.abs(np.linalg.eigvals(A))
    return lam.max() / lam.min()


def _gram_zero(fn) -> None:
    """Name the bug of the Gram-matrix route on a non-square A (zero eigenvalues, so inf or NaN or huge)."""
    for m, n in ((5, 3), (3, 4)):
        A = np.random.default_rng(m + 10 * n).normal(size=(m, n))
        kappa = _sv(A)[0] / _sv(A)[-1]
        try:
            with np.errstate(all="ignore"):
                got = to_array(call(fn, A, name="your condition"), "your condition number")
        except Wrong:
            return
        if got.shape == () and (not np.isfinite(got) or got > 1e6 * kappa):
            raise Wrong(f"for A of shape {A.shape} your condition number is {float(got):.3g}: the bigger of A.T @ A "
                        f"and A @ A.T ({max(m, n)} x {max(m, n)}) has zero eigenvalues for a non-square A. Use the "
                        "min(m, n) singular values of A (np.linalg.svd), or the smaller Gram matrix.")


def _check_condition(fn) -> str:
    refuse_lib(fn, {"lib.svd.condition_number": lib_svd.condition_number})
    try:
        check_function(fn, lambda A: _sv(A)[0] / _sv(A)[-1], _COND_CASES, name="your condition",
                       output="your condition number", bugs={
            "that is sigma_min / sigma_max, the inverse: the condition number is sigma_max / sigma_min >= 1.":
                lambda A: _sv(A)[-1] / _sv(A)[0],
            "you divided by the second singular value; sigma_min is the LAST one, S[-1].":
                lambda A: _sv(A)[0] / _sv(A)[1] if _sv(A).size > 2 else not_applicable(),
            "that is a ratio of |eigenvalues|; for a non-symmetric matrix use the singular values.": _eig_ratio,
            "that is sigma_max - sigma_min; the condition number is a ratio.": lambda A: _sv(A)[0] - _sv(A)[-1],
            "that is sigma_max alone; divide by sigma_min.": lambda A: _sv(A)[0],
            "that is the condition number in the Frobenius norm, ||A||_F ||A^+||_F; the condition number here is "
            "the 2-norm one, sigma_max / sigma_min (np.linalg.cond's default).":
                lambda A: np.linalg.norm(A) * np.linalg.norm(np.linalg.pinv(A)),
            "that is kappa squared: the eigenvalues of A.T @ A are the sigma_i**2, so take the square root of "
            "their ratio (or use the singular values directly).": lambda A: (_sv(A)[0] / _sv(A)[-1]) ** 2,
            "that is the condition number in the 1-norm (np.linalg.cond(A, 1)); the condition number here is the "
            "2-norm one, sigma_max / sigma_min (np.linalg.cond(A) with no second argument).":
                lambda A: np.linalg.cond(A, 1) if A.shape[0] == A.shape[1] else not_applicable(),
            "that is the condition number in the inf-norm (np.linalg.cond(A, np.inf)); the condition number here is "
            "the 2-norm one, sigma_max / sigma_min (np.linalg.cond(A) with no second argument).":
                lambda A: np.linalg.cond(A, np.inf) if A.shape[0] == A.shape[1] else not_applicable(),
            "that is the ratio of A's largest and smallest ENTRY (in absolute value); the condition number compares "
            "its largest and smallest singular values.": lambda A: np.abs(A).max() / np.abs(A).min(),
            "np.linalg.eigvalsh assumes a symmetric matrix and reads only one triangle of A; A is not symmetric: "
            "use its singular values (np.linalg.svd).":
                lambda A: (lambda lam: lam.max() / lam.min())(np.abs(np.linalg.eigvalsh(A)))
                if A.shape[0] == A.shape[1] else not_applicable(),
        })
    except Wrong:
        _gram_zero(fn)
        raise
    return "a condition number of 1 means every direction is stretched equally; large means nearly singular."


ex3 = Exercise(
    "low-rank-ex3",
    _check_condition,
    ["The condition number compares the largest and the smallest stretch of A.",
     "The stretches are the singular values; np.linalg.svd(A, compute_uv=False) returns them, largest first."],
    "def condition(A):\n    S = np.linalg.svd(A, compute_uv=False)   # largest first\n    return S[0] / S[-1]",
    why="sigma_max and sigma_min are the largest and smallest gains of A; their ratio says how much more one "
        "direction is amplified than another (and bounds how much A^-1 can amplify a relative error).",
)


# ---------------------------------------------------------------- ex4: an initialisation scale
def _init_case(D_in: int, D_out: int, activation: str) -> tuple[int, int, str]:
    return D_in, D_out, activation


# discriminating cases first: D_in != D_out, both activations
_INIT_CASES = cases(_init_case, dict(D_in=100, D_out=30, activation="linear"),
                    dict(D_in=256, D_out=1024, activation="relu"),
                    dict(D_in=64, D_out=64, activation="linear"), dict(D_in=50, D_out=80, activation="relu"))


def _init_scale(D_in, D_out, activation):
    return np.sqrt((2.0 if activation == "relu" else 1.0) / D_in)


def _gain(activation: str) -> float:
    return 2.0 if activation == "relu" else 1.0


def _check_init_scale(fn) -> str:
    refuse_lib(fn, {"lib.svd.init_std": lib_svd.init_std})
    check_function(fn, _init_scale, _INIT_CASES, name="your init_scale", output="your standard deviation", bugs={
        "that is the variance (1/D_in or 2/D_in), not the standard deviation: take its square root.":
            lambda D_in, D_out, a: _gain(a) / D_in,
        "you multiplied by sqrt(D_in); the sum over D_in inputs adds D_in mean squares, so DIVIDE: std = sqrt(1/D_in).":
            lambda D_in, D_out, a: np.sqrt(_gain(a) * D_in),
        "you used D_out: each output coordinate sums D_in products, so its mean square is D_in * std**2 * E[x^2]; use D_in "
        "(1/sqrt(D_out) keeps the norm of a row instead, and only when D_in = D_out does that agree).":
            lambda D_in, D_out, a: np.sqrt(_gain(a) / D_out),
        "that is Xavier/Glorot, sqrt(2/(D_in + D_out)), a compromise between forward and backward; keeping the "
        "forward variance needs sqrt(1/D_in), times sqrt(2) for ReLU.":
            lambda D_in, D_out, a: np.sqrt(2.0 / (D_in + D_out)),
        "the factor 2 is for ReLU only (it zeroes half the mean square); a linear layer needs sqrt(1/D_in).":
            lambda D_in, D_out, a: np.sqrt(2.0 / D_in) if a == "linear" else not_applicable(),
        "ReLU zeroes half of the mean square, so double the weight variance: sqrt(2/D_in) (He), not sqrt(1/D_in).":
            lambda D_in, D_out, a: np.sqrt(1.0 / D_in) if a == "relu" else not_applicable(),
        "the 2 goes inside the square root: the weights' VARIANCE doubles for ReLU, so std = sqrt(2/D_in), not "
        "2/sqrt(D_in).":
            lambda D_in, D_out, a: 2.0 / np.sqrt(D_in) if a == "relu" else not_applicable(),
        "ReLU halves the mean square, so the weights need twice the variance, not half: sqrt(2/D_in).":
            lambda D_in, D_out, a: np.sqrt(0.5 / D_in) if a == "relu" else not_applicable(),
        "your scale is 0, so every weight would be 0; if you wrote `1 // D_in` (or `2 // D_in`), that is integer "
        "division, which rounds down to 0: divide with `/`.": lambda D_in, D_out, a: 0.0,
        **{f"that is the right scale for D_in = {other}, not for this D_in: read D_in from the argument instead of "
           "a fixed number.": (lambda D_in, D_out, a, other=other: np.sqrt(_gain(a) / other)
                                                  if other not in (D_in, 2 * D_in, D_in / 2) else not_applicable())
           for other in sorted({c.make()[0] for c in _INIT_CASES})},
    }, allow_float16=True)
    return "sqrt(1/D_in) for a linear layer (LeCun, the course's init_linear), sqrt(2/D_in) for ReLU (He, init_mlp)."


ex4 = Exercise(
    "low-rank-ex4",
    _check_init_scale,
    ["An output coordinate is a sum of D_in products x_i W_ij with independent, zero-mean W_ij. What is the mean "
     "square of such a sum?",
     "E[(sum_i x_i W_ij)^2] = D_in * E[x^2] * std**2; ReLU then keeps only half of that mean square (the "
     "negative half of a symmetric distribution becomes 0)."],
    "def init_scale(D_in, D_out, activation):\n    gain = 2.0 if activation == \"relu\" else 1.0\n"
    "    return np.sqrt(gain / D_in)",
    why="Each output sums D_in independent zero-mean terms, each of mean square E[x^2] std^2, so std = "
        "1/sqrt(D_in) keeps the mean square (LeCun); ReLU zeroes the negative half, halving it, which a factor 2 "
        "in the weights' variance restores (He). D_out does not enter the forward pass.",
)


# ---------------------------------------------------------------- ex5: gain or conditioning?
LAYERS, SCALE = 20, 0.9


def _check_gain_or_condition(answer) -> str:
    got = to_array(answer, "your answer")
    if got.shape != (2,):
        raise Wrong(f"answer with two numbers, (gain, condition_number); got shape {got.shape}.")
    gain = SCALE**LAYERS
    compare(got, [gain, 1.0], name="your (gain, condition_number)", rtol=2e-2, reveal=False, bugs={
        "the gain is right, but the condition number is sigma_max / sigma_min of the product: every singular "
        "value of it equals 0.9**20, so the ratio is 1.": [gain, gain],
        "a scaled orthogonal matrix has condition number 1, right; but the gains multiply: 0.9 per layer gives "
        "0.9**20 after 20 layers, not 0.9 * 20.": [SCALE * LAYERS, 1.0],
        "0.9 is the gain of one layer; 20 layers multiply it 20 times.": [SCALE, 1.0],
        "orthogonal matrices keep lengths, but each one is multiplied by 0.9: the gain is 0.9**20.": [1.0, 1.0],
        "that is 1 / 0.9**20; a scale below 1 shrinks: the gain is 0.9**20.": [1 / gain, 1.0],
        "the condition number is a ratio of singular values, at least 1: here all of them are equal.": [gain, 0.0],
        "count the factors again: 20 layers multiply 0.9 twenty times, 0.9**20, not 0.9**19.": [SCALE ** (LAYERS - 1), 1.0],
        "count the factors again: 20 layers multiply 0.9 twenty times, 0.9**20, not 0.9**21.": [SCALE ** (LAYERS + 1), 1.0],
        "that is the square of the gain (0.81**20, what the squared length does); the gain of the length is "
        "0.9**20.": [gain**2, 1.0],
        "the gain is small, but not 0: 20 factors of 0.9 give 0.9**20.": [0.0, 1.0],
        "that is the Frobenius norm of the product, sqrt(64) * 0.9**20; the gain of one unit input is 0.9**20.":
            [gain * 8, 1.0],
        "the condition number is infinite only if some singular value is 0; here all of them equal 0.9**20, so it "
        "is 1.": [gain, np.inf],
        "the two are swapped: answer (gain, condition_number).": [1.0, gain],
    })
    return (f"gain 0.9**20 = {gain:.4f} in every direction, condition number 1: the stack vanishes although it is "
            "perfectly conditioned. Explosion and vanishing come from the gain, not from kappa.")


ex5 = Exercise(
    "low-rank-ex5",
    _check_gain_or_condition,
    ["What does an orthogonal matrix do to lengths, and what does multiplying it by 0.9 change?",
     "The product of the 20 layers is 0.9**20 times an orthogonal matrix: what are its singular values?"],
    "answer = (0.9**20, 1.0)   # every singular value of the product is 0.9**20",
    why="Each layer is 0.9 Q_l with Q_l orthogonal, so the product is 0.9^20 Q with Q orthogonal: all its singular "
        "values equal 0.9^20 = 0.12 (every direction shrinks the same), and their ratio is 1.",
)
