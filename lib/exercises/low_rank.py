"""Exercises for the chapter `low-rank`: find the bug in a rank-k approximation, choose the smallest
rank for a target error, predict the gain of a LeCun layer that is not square, and a prediction that
separates the gain of a deep stack from its conditioning.

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
    "low-rank-rank-k-bug",
    _check_rank_k,
    ["What does np.linalg.svd return as its third output: V, or something else? What does the colleague's "
     "code assume?",
     "Write the shapes for A of shape (4, 7): U (4, 4), S (4,), and the third output (4, 7). Which of its axes "
     "holds the k right singular vectors you want, and what does .T[:k] take instead?"],
    "def rank_k(A, k):\n    U, S, Vt = np.linalg.svd(A, full_matrices=False)\n"
    "    return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]      # (m, k) @ (k, k) @ (k, n) -> (m, n)",
    why="A = sum_i sigma_i u_i v_i^T with sigma_1 >= sigma_2 >= ...; dropping the smallest terms changes A by "
        "sigma_{k+1} (spectral norm), and Eckart-Young says no rank-k matrix does better. NumPy's third output "
        "is already V^T: its ROWS are the v_i, so the first k of them are Vt[:k]; transposing it first takes "
        "columns instead, which runs silently whenever Vt is square.",
    solution_text="The fixed function (the third output is Vt, already transposed):",
    formerly="low-rank-ex1",
)


# ---------------------------------------------------------------- choose_k: the smallest rank for a target error
def _rel_errors(S: np.ndarray) -> np.ndarray:
    """Relative Frobenius error of the best rank-k approximation for k = 0, 1, ..., r: (r + 1,)."""
    tail = np.sqrt(np.cumsum((S**2)[::-1])[::-1])  # tail[k] = sqrt(sum S[k:]**2)
    return np.append(tail, 0.0) / tail[0]


def _first(ok: np.ndarray) -> int:
    return int(np.argmax(ok)) if ok.any() else len(ok) - 1


def _smallest_k(S, target):
    return _first(_rel_errors(S) <= target)


_SPECTRA = {
    # first: every named slip gives its own k here, and no error lies within 0.01 of the target
    "mixed": np.array([8.8, 8.7, 7.2, 6.8, 6.6, 6.4, 6.3, 6.1, 5.3, 4.3, 4.1, 2.8, 2.3, 0.5]),
    "fast": 20.0 * 0.6 ** np.arange(12),
    "slow": np.array([10.0, 8.0, 6.0, 5.0, 4.0, 3.0, 2.5, 2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.2]),
    "flat": np.array([3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4]),
}
_CHOOSE_CASES = [(_SPECTRA["mixed"], 0.3), (_SPECTRA["fast"], 0.05), (_SPECTRA["slow"], 0.35),
                 (_SPECTRA["flat"], 0.5), (_SPECTRA["slow"], 0.7)]


def _choose_bugs(S, target) -> dict[str, int]:
    r = len(S)
    rel = _rel_errors(S)
    energy = np.append(0.0, np.cumsum(S**2)) / np.sum(S**2)  # energy kept by rank k = 0..r
    tail_abs = rel * np.sqrt(np.sum(S**2))
    spectral = np.append(S, 0.0) / S[0]  # relative spectral error S[k] / S[0]
    plain = np.append(np.cumsum(S[::-1])[::-1], 0.0) / np.sum(S)
    k = _smallest_k(S, target)
    return {
        "you used the spectral error S[k] / S[0]; the target is on the Frobenius error, "
        "sqrt(sum(S[k:]**2) / sum(S**2)), which counts every dropped value, not only the largest.":
            _first(spectral <= target),
        "you compared the dropped ENERGY sum(S[k:]**2) / sum(S**2) with the target (the same as keeping "
        "1 - target of the energy); that is the squared error: an error below the target means a dropped energy "
        "below target**2.": _first(1 - energy <= target + 1e-12),
        "you compared the absolute error sqrt(sum(S[k:]**2)) with the target; the target is relative: divide by "
        "||A||_F = sqrt(sum(S**2)).": _first(tail_abs <= target),
        "you added the dropped singular values without squaring them; the Frobenius error is sqrt(sum(S[k:]**2)), "
        "relative to sqrt(sum(S**2)).": _first(plain <= target),
        "off by one: that k is one too many. With 0-based slices, S[k:] are the values a rank-k approximation "
        "drops, so test the error of S[k:] and return that k.": min(k + 1, r),
        "off by one: that k is one too few, the largest rank whose error is still above the target; return the "
        "smallest k whose error is at or below it.": k - 1 if k > 0 else None,
    }


def _check_choose_k(fn) -> str:
    need_function(fn)
    refuse_lib(fn, {"lib.svd.tail_errors": lib_svd.tail_errors, "lib.svd.energy_rank": lib_svd.energy_rank})
    for i, (S, target) in enumerate(_CHOOSE_CASES):
        got = call(fn, S.copy(), target, name="your smallest_k")
        where = f"for S = {np.array2string(S, precision=3, max_line_width=200)}, target = {target}"
        try:
            k = float(to_array(got, "your k"))
        except (TypeError, ValueError):
            raise Wrong(f"{where}: your smallest_k should return one whole number k, got {got!r}.") from None
        want = _smallest_k(S, target)
        if k == want:
            continue
        named = [sentence for sentence, b in _choose_bugs(S, target).items() if b == k and b != want]
        if len(named) == 1:
            raise Wrong(f"{where}: {named[0]}")
        if named:
            raise Wrong(f"{where}: More than one mistake gives k = {k:g}. Either: " + " Or: ".join(named))
        rel = _rel_errors(S)
        detail = (f" Rank {int(k)} leaves a relative error of {rel[int(k)]:.3f}." if k == int(k) and 0 <= k <= len(S)
                  else "")
        raise Wrong(f"{where}: your k is {k:g}, which is not the smallest rank whose relative Frobenius error is at "
                    f"most the target.{detail}" + (" Is a value from an earlier case hard-coded?" if i else ""))
    return ("the error of rank k is sqrt(sum(S[k:]**2) / sum(S**2)); scan k = 0, 1, ... and stop at the first one "
            "at or below the target. On a slowly decaying spectrum a small error costs many ranks.")


choose_k = Exercise(
    "low-rank-choose-k",
    _check_choose_k,
    ["Eckart-Young gives the error of every rank from S alone. Which k are candidates, and in which order would "
     "you try them?",
     "Compute the relative Frobenius error for k = 0, 1, ..., len(S): the square root of the dropped energy "
     "sum(S[k:]**2) over the total sum(S**2). Where in that list is the first entry at or below the target?"],
    "def smallest_k(S, target):\n    S = np.asarray(S, dtype=float)\n    for k in range(len(S) + 1):\n"
    "        if np.sqrt(np.sum(S[k:] ** 2) / np.sum(S**2)) <= target:\n            return k",
    why="||A - A_k||_F / ||A||_F = sqrt(sum(S[k:]**2) / sum(S**2)) decreases with k, so the first k that meets "
        "the target is the smallest; an error below 10% means keeping 99% of the energy, not 90%.",
)


# ---------------------------------------------------------------- init_gain: the gain of a LeCun layer that is not square
#: (D_in, D_out) of the compressing layer in the init_gain prediction
INIT_D_IN, INIT_D_OUT = 1024, 256


def _check_init_gain(answer) -> str:
    want = np.sqrt(INIT_D_OUT / INIT_D_IN)
    compare(answer, want, name="your gain", rtol=2e-2, reveal=False, bugs={
        "LeCun keeps the mean square of each COORDINATE, not the length of the row: with 256 coordinates out for "
        "1,024 in, the squared length shrinks by 256 / 1024.": 1.0,
        "upside down: the row goes from 1,024 coordinates to 256, so its length shrinks: sqrt(D_out / D_in).":
            1 / want,
        "that is the ratio of the squared lengths, D_out / D_in; the gain of the length is its square root.":
            want**2,
        "sqrt(2) belongs to He's rule for ReLU layers; init_linear is LeCun, std 1/sqrt(D_in), with no "
        "activation: the gain is sqrt(D_out / D_in).": want * np.sqrt(2),
        "that is the per-coordinate std of the weights, 1/sqrt(D_in); the question asks for |x W| / |x|.":
            1 / np.sqrt(INIT_D_IN),
    })
    return (f"sqrt(D_out / D_in) = sqrt(256 / 1024) = {want:g}: each of the 256 outputs keeps the inputs' mean "
            "square, but there are 4 times fewer of them, so the row's length halves. LeCun keeps the gain at 1 "
            "only for a square layer.")


init_gain = Exercise(
    "low-rank-init-gain-predict",
    _check_init_gain,
    ["LeCun's rule keeps one quantity the same from input to output. Is it the length of the row, or something "
     "per coordinate?",
     "|x W|^2 is a sum over D_out coordinates, each with the same mean square as one input coordinate; |x|^2 "
     "is a sum over D_in of them. Write the ratio of the two sums, then take the root."],
    "answer = np.sqrt(256 / 1024)    # 0.5",
    why="With std 1/sqrt(D_in), E[(xW)_j^2] = |x|^2 / D_in for each of the D_out outputs, so "
        "E|xW|^2 = |x|^2 D_out / D_in and the gain is about sqrt(D_out / D_in).",
    solution_text="The answer:",
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


ex4 = Exercise(
    "low-rank-gain-or-condition",
    _check_gain_or_condition,
    ["What does an orthogonal matrix do to lengths, and what does multiplying it by 0.9 change?",
     "Write the product as (0.9 Q_1)(0.9 Q_2)...(0.9 Q_20) and pull the scalars to the front. Is a product "
     "of orthogonal matrices orthogonal, and what are the singular values of c times an orthogonal matrix?"],
    "answer = (0.9**20, 1.0)   # every singular value of the product is 0.9**20",
    why="Each layer is 0.9 Q_l with Q_l orthogonal, so the product is 0.9^20 Q with Q orthogonal: all its singular "
        "values equal 0.9^20 = 0.12 (every direction shrinks the same), and their ratio is 1.",
    formerly="low-rank-ex5",
)
