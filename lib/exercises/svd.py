"""Exercises for the chapter `svd`: rebuild A from its factors, the most stretched direction,
singular values of a symmetric matrix from its eigenvalues."""

from __future__ import annotations

import numpy as np

from lib.exercises import Exercise, Wrong, call, compare, to_array

_rng = np.random.default_rng(11)
_SQUARE = [_rng.normal(size=(3, 3)) for _ in range(2)]
_RECT = _rng.normal(size=(4, 3))  # (m, n) with m != n

A_STRETCH = np.array([[1.0, 2.0, 0.0],  # (3, 3), not symmetric: its eigenvectors are not its singular vectors
                      [0.0, 1.0, 1.5],
                      [0.5, 0.0, 1.0]])


def _factors(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.linalg.svd(A, full_matrices=False)


def _check_reconstruct(fn) -> str:
    for A in [*_SQUARE, _RECT]:
        U, S, Vt = _factors(A)
        got = call(fn, U, S, Vt, name="your reconstruct")
        compare(got, A, name=f"reconstruct for A of shape {A.shape}", bugs={
            "you used Vt.T (that is V); np.linalg.svd already returns Vt, the transposed factor: use it as it is.":
                lambda U=U, S=S, Vt=Vt: U @ np.diag(S) @ Vt.T,
            "you left out the singular values: U @ Vt is orthogonal, put np.diag(S) between the two factors.":
                lambda U=U, Vt=Vt: U @ Vt,
            "the factors are in the wrong order: that product is A.T; the order is U, then diag(S), then Vt.":
                lambda U=U, S=S, Vt=Vt: Vt.T @ np.diag(S) @ U.T,
            "S * Vt scales the columns of Vt; the singular values scale its rows (np.diag(S) @ Vt, or U * S).":
                lambda U=U, S=S, Vt=Vt: U @ (Vt * S),
            "you squared the singular values; A = U diag(S) Vt uses S itself.":
                lambda U=U, S=S, Vt=Vt: U @ np.diag(S**2) @ Vt,
        })
    return "U @ np.diag(S) @ Vt gives A back, square or not (`(U * S) @ Vt` is the same product without building diag(S))."


ex1 = Exercise(
    "svd-ex1",
    _check_reconstruct,
    ["np.linalg.svd(A, full_matrices=False) returns U (m, r), S (r,) and Vt (r, n); S is a 1-D array, not a matrix.",
     "Turn S into a diagonal matrix with np.diag(S) and multiply U, diag(S), Vt in that order."],
    "def reconstruct(U, S, Vt):\n    return U @ np.diag(S) @ Vt",
)


def _unit_up_to_sign(got: object, want: np.ndarray) -> np.ndarray:
    arr = to_array(got, "your direction")
    if arr.shape == want.shape and np.all(np.isfinite(arr)) and arr @ want < 0:
        arr = -arr  # a singular vector is defined up to its sign
    return arr


def _check_most_stretched(answer) -> str:
    U, S, Vt = np.linalg.svd(A_STRETCH)
    want = Vt[0]
    arr = _unit_up_to_sign(answer, want)
    if arr.shape == want.shape and np.all(np.isfinite(arr)) and not np.isclose(np.linalg.norm(arr), 1.0, atol=1e-6):
        raise Wrong(f"your direction has length {np.linalg.norm(arr):.4g}; give a unit vector (length 1).")
    eigvals, eigvecs = np.linalg.eig(A_STRETCH)
    top = eigvecs[:, np.argmax(np.abs(eigvals))].real
    compare(arr, want, name="your direction", rtol=1e-5, atol=1e-6, bugs={
        "that is a column of Vt; the right singular vectors are the rows of Vt (the columns of V), so v1 is Vt[0].":
            Vt[:, 0] * np.sign(Vt[:, 0] @ want or 1.0),
        "that is u1, the direction A's output points along (left singular vector); the input direction is v1 = Vt[0].":
            U[:, 0] * np.sign(U[:, 0] @ want or 1.0),
        "that is the direction A shrinks the most (the last row of Vt); the largest singular value comes first.":
            Vt[-1] * np.sign(Vt[-1] @ want or 1.0),
        "that is an eigenvector; A is not symmetric, so its eigenvectors are not its singular vectors.":
            top * np.sign(top @ want or 1.0),
    })
    return (f"|A v1| = sigma1 = {S[0]:.4f}, more than for any other unit vector; A sends v1 to sigma1 u1.")


ex2 = Exercise(
    "svd-ex2",
    _check_most_stretched,
    ["The input direction stretched most is the first right singular vector v1, and |A v1| = sigma1.",
     "U, S, Vt = np.linalg.svd(A_STRETCH); the right singular vectors are the ROWS of Vt."],
    "U, S, Vt = np.linalg.svd(A_STRETCH)\nanswer = Vt[0]",
)

_SYMMETRIC = [np.array([[1.0, 2.0], [2.0, -2.0]])]  # eigenvalues 2 and -3: singular values 3 and 2
for _ in range(2):
    _M = _rng.normal(size=(4, 4))
    _SYMMETRIC.append(_M + _M.T)


def _check_sv_from_eigs(fn) -> str:
    for A in _SYMMETRIC:
        lam = np.linalg.eigvalsh(A)  # ascending
        got = call(fn, A.copy(), name="your singular_values")
        compare(got, np.sort(np.abs(lam))[::-1], name=f"singular_values for a {A.shape[0]}x{A.shape[0]} symmetric A", bugs={
            "those are the eigenvalues themselves; a negative eigenvalue lambda gives the singular value |lambda|.":
                np.sort(lam)[::-1],
            "those are the eigenvalues in ascending order and with their signs; take |lambda| and sort from largest to smallest.":
                lam,
            "the values are right but in the wrong order: singular values are listed from largest to smallest.":
                np.sort(np.abs(lam)),
            "you squared them: |lambda|^2 are the eigenvalues of A.T @ A; the singular values are |lambda|.":
                np.sort(lam**2)[::-1],
        })
    return "for a symmetric matrix the singular values are the absolute eigenvalues, largest first."


ex3 = Exercise(
    "svd-ex3",
    _check_sv_from_eigs,
    ["For symmetric A, A = Q diag(lambda) Q.T; moving each sign of lambda into one copy of Q gives an SVD.",
     "np.linalg.eigvalsh(A) gives the eigenvalues; take np.abs and sort in descending order."],
    "def singular_values(A):\n    lam = np.linalg.eigvalsh(A)\n    return np.sort(np.abs(lam))[::-1]",
)
