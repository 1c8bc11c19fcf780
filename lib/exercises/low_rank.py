"""Exercises for the chapter `low-rank`: the best rank-k approximation, its error from the
singular values, the parameters of a factorisation, the condition number."""

from __future__ import annotations

import numpy as np

from lib.exercises import Exercise, Wrong, call, compare, to_array

_rng = np.random.default_rng(21)
_MATRICES = [_rng.normal(size=(6, 5)), _rng.normal(size=(4, 7))]


def _check_rank_k(fn) -> str:
    for A in _MATRICES:
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        for k in (1, 2, 3):
            got = call(fn, A, k, name="your rank_k")
            want = U[:, :k] @ np.diag(S[:k]) @ Vt[:k]
            compare(got, want, name=f"rank_k(A of shape {A.shape}, k={k})", bugs={
                "you kept the k SMALLEST singular values; the best approximation keeps the k largest (the first k, S[:k]).":
                    U[:, -k:] @ np.diag(S[-k:]) @ Vt[-k:],
                "you left out the singular values: multiply by np.diag(S[:k]) between U[:, :k] and Vt[:k].":
                    U[:, :k] @ Vt[:k],
                "you kept k + 1 terms; slices stop before their end: U[:, :k], S[:k], Vt[:k].":
                    U[:, :k + 1] @ np.diag(S[:k + 1]) @ Vt[:k + 1],
                "you kept k - 1 terms; U[:, :k] already holds k columns.":
                    (U[:, :k - 1] @ np.diag(S[:k - 1]) @ Vt[:k - 1]) if k > 1 else np.zeros_like(A),
            })
    return "keeping the k largest singular values gives the closest rank-k matrix (Eckart-Young)."


ex1 = Exercise(
    "low-rank-ex1",
    _check_rank_k,
    ["Take the SVD with full_matrices=False and keep only the first k singular triplets.",
     "U[:, :k] @ np.diag(S[:k]) @ Vt[:k]"],
    "def rank_k(A, k):\n    U, S, Vt = np.linalg.svd(A, full_matrices=False)\n    return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]",
)

_SPECTRA = [np.array([5.0, 3.0, 2.0, 1.0, 0.5]), np.sort(_rng.uniform(0.1, 4.0, size=8))[::-1]]


def _check_errors(fn) -> str:
    for S in _SPECTRA:
        for k in (1, 2, 3):
            got = call(fn, S, k, name="your errors")
            if not isinstance(got, (tuple, list, np.ndarray)) or np.ndim(got) != 1 or len(got) != 2:
                raise Wrong(f"return two numbers, (spectral, frobenius); got {type(got).__name__} {got!r:.60}.")
            spectral, frob = got
            where = f"for S = {np.round(S, 2).tolist()}, k = {k}"
            compare(spectral, S[k], name=f"the spectral error {where}", bugs={
                "the spectral error is sigma_{k+1}, the largest singular value you DROPPED: with 0-based indexing that is S[k], not S[k-1].":
                    S[k - 1],
                "that is the largest singular value overall; the spectral error is the largest one dropped, S[k].":
                    S[0],
                "that is the Frobenius error; the spectral (2-norm) error is the single value S[k].":
                    np.sqrt(np.sum(S[k:] ** 2)),
            })
            compare(frob, np.sqrt(np.sum(S[k:] ** 2)), name=f"the Frobenius error {where}", bugs={
                "you summed the KEPT singular values; the error comes from the dropped tail S[k:].":
                    np.sqrt(np.sum(S[:k] ** 2)),
                "you forgot the square root: sum(S[k:]**2) is the squared Frobenius error.":
                    np.sum(S[k:] ** 2),
                "you added the dropped singular values without squaring them; Frobenius is sqrt(sum of squares).":
                    np.sum(S[k:]),
                "your tail starts one too early: the dropped values are S[k:], not S[k-1:].":
                    np.sqrt(np.sum(S[k - 1:] ** 2)),
            })
    return "both errors come from the dropped singular values alone: no need to build A_k to know them."


ex2 = Exercise(
    "low-rank-ex2",
    _check_errors,
    ["Keeping k values drops S[k], S[k+1], ... (0-based). The errors depend on those only.",
     "spectral = S[k]; frobenius = np.sqrt(np.sum(S[k:] ** 2))"],
    "def errors(S, k):\n    return S[k], np.sqrt(np.sum(S[k:] ** 2))",
)

_SHAPES = [(4096, 4096, 16), (768, 3072, 8), (5, 3, 2)]


def _check_params(fn) -> str:
    for m, n, k in _SHAPES:
        got = call(fn, m, n, k, name="your factored_params")
        compare(got, k * (m + n), name=f"factored_params({m}, {n}, {k})", rtol=0, atol=0.5, bugs={
            "k * m * n is k times the dense matrix; the factors are L (m, k) and R (k, n): k*m + k*n numbers.": k * m * n,
            "that is the dense count m * n; the factors L (m, k) and R (k, n) hold k * (m + n).": m * n,
            "you counted only L (m, k); add the k * n numbers of R (k, n) too.": k * m,
            "you counted only R (k, n); add the m * k numbers of L (m, k) too.": k * n,
            "you multiplied by k twice; L (m, k) and R (k, n) hold k * (m + n) numbers.": k * k * (m + n),
        })
    got = to_array(call(fn, 4096, 4096, 16, name="your factored_params"))
    return f"for a 4096 x 4096 matrix at rank 16: {int(got):,} numbers instead of {4096 * 4096:,}, {4096 * 4096 // int(got)}x fewer."


ex3 = Exercise(
    "low-rank-ex3",
    _check_params,
    ["A rank-k factorisation stores two matrices: L with shape (m, k) and R with shape (k, n).",
     "m*k + k*n = k * (m + n)"],
    "def factored_params(m, n, k):\n    return k * (m + n)",
)

_COND = [np.array([[3.0, 0.0], [0.0, 0.5]]), np.array([[1.0, 2.0], [0.5, 1.5]]), _rng.normal(size=(3, 3)),
         _rng.normal(size=(5, 3))]


def _check_condition(fn) -> str:
    for A in _COND:
        S = np.linalg.svd(A, compute_uv=False)
        got = call(fn, A, name="your condition")
        lam = np.abs(np.linalg.eigvals(A)) if A.shape[0] == A.shape[1] else None
        compare(got, S[0] / S[-1], name=f"condition for A of shape {A.shape}", bugs={
            "that is sigma_min / sigma_max, the inverse: the condition number is sigma_max / sigma_min >= 1.": S[-1] / S[0],
            "you divided by the second singular value; sigma_min is the LAST one, S[-1].": S[0] / S[1] if S.size > 2 else None,
            "that is a ratio of |eigenvalues|; for a non-symmetric matrix use the singular values.":
                (lam.max() / lam.min()) if lam is not None and not np.allclose(A, A.T) else None,
            "that is sigma_max - sigma_min; the condition number is a ratio.": S[0] - S[-1],
            "that is sigma_max alone; divide by sigma_min.": S[0],
        })
    return "a condition number of 1 means every direction is stretched equally; large means nearly singular."


ex4 = Exercise(
    "low-rank-ex4",
    _check_condition,
    ["The condition number compares the largest and the smallest stretch of A.",
     "S = np.linalg.svd(A, compute_uv=False); return S[0] / S[-1]"],
    "def condition(A):\n    S = np.linalg.svd(A, compute_uv=False)\n    return S[0] / S[-1]",
)
