"""Exercises for the chapter `svd`: find the bug in a reconstruction from the factors, the most
stretched direction, singular values of a symmetric matrix from its eigenvalues, the most amplified
input of a layer `y = x @ W` (the course's row convention), and a prediction of the smallest gain of
a compressing and an expanding layer.

Letters: m, n the shape of A; r = min(m, n); D_in, D_out the shape of a weight W.
"""

from __future__ import annotations

import contextlib

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
    refuse_lib,
    to_array,
)

_rng = np.random.default_rng(11)



# ---------------------------------------------------------------- ex1: reconstruct
def _svd_case(m: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.linalg.svd(rng.normal(size=(m, n)), full_matrices=False)  # U (m, r), S (r,), Vt (r, n)


# the square case comes first: there every bug still has a shape, so it can be named
_RECONSTRUCT_CASES = cases(_svd_case, dict(m=3, n=3), dict(m=5, n=3), dict(m=2, n=4), seed=11)


def _reconstruct(U, S, Vt):
    return (U * S) @ Vt  # (m, r) * (r,) scales the columns; (m, r) @ (r, n) -> (m, n)


def _check_reconstruct(fn) -> str:
    refuse_lib(fn, {"lib.svd.reconstruct": lib_svd.reconstruct})
    check_function(fn, _reconstruct, _RECONSTRUCT_CASES, name="your reconstruct", output="your matrix",
                   rtol=1e-5, atol=1e-6, bugs={
        "S is a 1-D array, so U @ S is a matrix-vector product (a vector), not a scaling of U's columns: "
        "use U @ np.diag(S) @ Vt, or (U * S) @ Vt.":
            lambda U, S, Vt: U @ S @ Vt,
        "you used Vt.T (that is V); np.linalg.svd already returns Vt, the transposed factor: use it as it is.":
            lambda U, S, Vt: U @ np.diag(S) @ Vt.T,
        "you left out the singular values: U @ Vt is orthogonal, put np.diag(S) between the two factors.":
            lambda U, S, Vt: U @ Vt,
        "the factors are in the wrong order: that product is A.T; the order is U, then diag(S), then Vt.":
            lambda U, S, Vt: Vt.T @ np.diag(S) @ U.T,
        "S * Vt scales the columns of Vt; the singular values scale its rows (np.diag(S) @ Vt, or U * S).":
            lambda U, S, Vt: U @ (Vt * S),
        "np.diag(S) stands in the wrong place: it goes between U and Vt, U @ np.diag(S) @ Vt.":
            lambda U, S, Vt: np.diag(S) @ U @ Vt,
        "you squared the singular values; A = U diag(S) Vt uses S itself.":
            lambda U, S, Vt: U @ np.diag(S**2) @ Vt,
        "you used U.T; U's columns are the left singular vectors, use U as it is.":
            lambda U, S, Vt: U.T @ np.diag(S) @ Vt,
        "the factors are reversed: U, then diag(S), then Vt (U @ np.diag(S) @ Vt), not Vt first.":
            lambda U, S, Vt: Vt @ np.diag(S) @ U,
        "you left out Vt: U @ np.diag(S) is only the first two factors; multiply by Vt as well.":
            lambda U, S, Vt: U @ np.diag(S),
        "you left out U: np.diag(S) @ Vt is only the last two factors; multiply U in front.":
            lambda U, S, Vt: np.diag(S) @ Vt,
        "your sum leaves out the first term (i = 0, the largest singular value): loop over range(len(S)).":
            lambda U, S, Vt: (U[:, 1:] * S[1:]) @ Vt[1:],
        "your sum stops one term early (range(len(S) - 1)): loop over all r = len(S) terms.":
            lambda U, S, Vt: (U[:, :-1] * S[:-1]) @ Vt[:-1],
        "that is only the first term sigma_1 u_1 v_1^T; A is the sum of all r terms sigma_i u_i v_i^T.":
            lambda U, S, Vt: S[0] * np.outer(U[:, 0], Vt[0]),
        "you took the square root of the singular values; A = U diag(S) Vt uses S itself.":
            lambda U, S, Vt: (U * np.sqrt(S)) @ Vt,
        "you divided by the singular values (that builds the pseudo-inverse's middle factor); A = U diag(S) Vt "
        "multiplies by them.":
            lambda U, S, Vt: (U / S) @ Vt,
    })
    return "U @ np.diag(S) @ Vt gives A back, square or not (`(U * S) @ Vt` is the same product without building diag(S))."


ex1 = Exercise(
    "svd-reconstruct-bug",
    _check_reconstruct,
    ["Write the three shapes: U (m, r), S (r,), Vt (r, n). When NumPy broadcasts a 1-D array against a 2-D "
     "one, which axis does it line up with?",
     "Try the buggy line on A of shape (2, 4): what shapes meet in S * Vt? Then decide whether sigma_i must "
     "scale row i or column i of Vt (or column i of U)."],
    "def reconstruct(U, S, Vt):\n    return U @ np.diag(S) @ Vt      # (m, r) @ (r, r) @ (r, n) -> (m, n)",
    why="A = U diag(S) Vt; S comes back as a 1-D array, and broadcasting lines it up with the LAST axis: "
        "U * S scales U's columns (right), S * Vt scales Vt's columns (wrong; it runs silently whenever Vt is "
        "square). S[:, None] * Vt, or np.diag(S) @ Vt, scales its rows.",
    solution_text="The fixed function (S * Vt scaled the columns of Vt, not its rows):",
    formerly="svd-ex1",
)


# ---------------------------------------------------------------- ex2: the most stretched direction, y = A x
A_STRETCH = np.array([[1.0, 2.0, 0.0],  # (3, 3), not symmetric: its eigenvectors are not its singular vectors
                      [0.0, 1.0, 1.5],
                      [0.5, 0.0, 1.0]])


def _aligned(arr: np.ndarray, want: np.ndarray) -> np.ndarray:
    """arr with its sign flipped if that brings it closer to want (a singular vector has no fixed sign)."""
    if arr.shape == want.shape and np.all(np.isfinite(arr)) and float(arr @ want) < 0:
        return -arr
    return arr


def _unit(arr: np.ndarray, what: str) -> None:
    norm = float(np.linalg.norm(arr))
    if np.all(np.isfinite(arr)) and abs(norm - 1.0) > 2e-3:  # a vector rounded to 3 decimals is still a unit vector
        raise Wrong(f"{what} has length {norm:.4g}; give a unit vector (divide it by its length).")


def _check_most_stretched(answer) -> str:
    U, S, Vt = np.linalg.svd(A_STRETCH)
    want = Vt[0]
    arr = _aligned(to_array(answer, "your direction"), want)
    if arr.shape == want.shape:
        _unit(arr, "your direction")
    lam, vecs = np.linalg.eig(A_STRETCH)
    top = vecs[:, np.argmax(np.abs(lam))].real
    compare(arr, want, name="your direction", rtol=1e-5, atol=6e-4, bugs={  # atol: printed to 3 decimals is fine
        "that is a column of Vt; the right singular vectors are the rows of Vt (the columns of V), so v1 is Vt[0].":
            _aligned(Vt[:, 0], want),
        "that is u1, the direction A's output points along (left singular vector); the input direction is v1 = Vt[0].":
            _aligned(U[:, 0], want),
        "that is the direction A shrinks the most (the last row of Vt); the largest singular value comes first.":
            _aligned(Vt[-1], want),
        "that is an eigenvector; A is not symmetric, so its eigenvectors are not its singular vectors.":
            _aligned(top / np.linalg.norm(top), want),
        "that is a row of U; the left singular vectors are U's COLUMNS, and the input direction is v1 = Vt[0] "
        "anyway.":
            _aligned(U[0], want),
        "that is a ROW of the eigenvector matrix of A.T @ A; np.linalg.eigh returns the eigenvectors as its "
        "COLUMNS (ascending), so take the last column, vecs[:, -1].":
            _aligned(np.linalg.eigh(A_STRETCH.T @ A_STRETCH)[1][-1], want),
    })
    return f"|A v1| = sigma1 = {S[0]:.4f}, more than for any other unit vector; A sends v1 to sigma1 u1."


ex2 = Exercise(
    "svd-most-stretched",
    _check_most_stretched,
    ["A v_i = sigma_i u_i: the input that A stretches most is the right singular vector with the largest sigma.",
     "np.linalg.svd returns U, S, Vt: which of the three holds the right singular vectors, and are they its rows "
     "or its columns?"],
    "U, S, Vt = np.linalg.svd(A_STRETCH)\nanswer = Vt[0]                 # v1: row 0 of Vt",
    why="For y = A x the inputs are the right singular vectors (rows of Vt), and A v1 = sigma1 u1 with sigma1 the "
        "largest gain; every other unit input mixes in directions with smaller gains.",
    formerly="svd-ex2",
)


# ---------------------------------------------------------------- ex3: singular values of a symmetric matrix
def _symmetric(n: int, rng: np.random.Generator) -> tuple[np.ndarray]:
    if n == 2:
        return (np.array([[1.0, 2.0], [2.0, -2.0]]),)  # eigenvalues 2 and -3: singular values 3 and 2
    M = rng.normal(size=(n, n))
    Q = np.linalg.qr(M)[0]
    lam = np.array([-5.0, 4.0, -1.5, 0.5, 2.5, -0.2])[:n]  # big negative ones, so signs and order matter
    return (Q @ np.diag(lam) @ Q.T,)


_SYM_CASES = cases(_symmetric, dict(n=4), dict(n=2), dict(n=5), seed=12)


_SVD_ROUTES = {"np.linalg.svd": np.linalg.svd, "np.linalg.svdvals": getattr(np.linalg, "svdvals", None),
               "lib.svd.rank_k_approx": getattr(lib_svd, "rank_k_approx", None),
               "lib.svd.condition_number": getattr(lib_svd, "condition_number", None),
               "lib.svd.reconstruct": lib_svd.reconstruct}
_NO_SVD = ("your singular_values calls {what}, which computes an SVD; this exercise asks you to get the "
           "singular values from np.linalg.eigvalsh alone.")
# where NumPy's own SVD lives: np.linalg.svdvals, norm(A, 2), cond, pinv and matrix_rank all call it there
_LINALG_IMPL = getattr(np.linalg, "_linalg", None) or getattr(np.linalg, "linalg", np.linalg)


@contextlib.contextmanager
def _watch_svd(used: list[str]):
    """Record every call into NumPy's SVD while the body runs, by whatever route it was reached."""
    real = np.linalg.svd

    def watched(*args, **kwargs):
        used.append("np.linalg.svd")
        return real(*args, **kwargs)

    homes = [m for m in {id(np.linalg): np.linalg, id(_LINALG_IMPL): _LINALG_IMPL}.values()
             if getattr(m, "svd", None) is real]
    for m in homes:
        m.svd = watched
    try:
        yield
    finally:
        for m in homes:
            m.svd = real


def _check_sv_from_eigs(fn) -> str:
    need_function(fn)
    forbidden = {k: v for k, v in _SVD_ROUTES.items() if v is not None}
    try:  # by name: np.linalg.svd, a name imported before the check (`from numpy.linalg import svd`), lib's helpers
        refuse_lib(fn, forbidden)
    except Wrong as wrong:
        what = next((k for k in forbidden if k in str(wrong)), "an SVD routine")
        raise Wrong(_NO_SVD.format(what=what)) from None
    used: list[str] = []
    with _watch_svd(used):  # at run time: svdvals, norm(A, 2), cond, pinv, matrix_rank, a wrapper, ...
        _check_sv_cases(fn)
    if used:
        raise Wrong("your singular_values gives the right values, but it reaches NumPy's SVD (through np.linalg.svd, "
                    "svdvals, norm(A, 2), cond, pinv or matrix_rank); this exercise asks you to get them from "
                    "np.linalg.eigvalsh alone.")
    return "for a symmetric matrix the singular values are the absolute eigenvalues, largest first."


def _check_sv_cases(fn) -> None:
    check_function(fn, lambda A: np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1], _SYM_CASES,
                   name="your singular_values", output="your singular values", bugs={
        "those are the eigenvalues themselves; a negative eigenvalue lambda gives the singular value |lambda|.":
            lambda A: np.sort(np.linalg.eigvalsh(A))[::-1],
        "those are the eigenvalues in ascending order and with their signs; take |lambda| and sort from largest "
        "to smallest.":
            lambda A: np.linalg.eigvalsh(A),
        "you took |lambda| but kept eigvalsh's order, which sorts the SIGNED values: sort again after np.abs, "
        "from largest to smallest.":
            lambda A: np.abs(np.linalg.eigvalsh(A)),
        "you took |lambda| of the eigenvalues sorted by signed value (largest first); a large negative eigenvalue "
        "then ends up last: sort after np.abs.":
            lambda A: np.abs(np.linalg.eigvalsh(A))[::-1],
        "the values are right but in the wrong order: singular values are listed from largest to smallest.":
            lambda A: np.sort(np.abs(np.linalg.eigvalsh(A))),
        "you squared them: |lambda|^2 are the eigenvalues of A.T @ A; the singular values are |lambda|.":
            lambda A: np.sort(np.linalg.eigvalsh(A) ** 2)[::-1],
        "you took the square root: sqrt is needed for the eigenvalues of A.T @ A (which are sigma^2); for A "
        "itself the singular values are |lambda|, no root.":
            lambda A: np.sort(np.sqrt(np.abs(np.linalg.eigvalsh(A))))[::-1],
    })


ex3 = Exercise(
    "svd-symmetric-singular-values",
    _check_sv_from_eigs,
    ["For symmetric A = Q diag(lambda) Q.T, move the sign of each lambda into one copy of Q: what is left on the "
     "diagonal?",
     "np.linalg.eigvalsh sorts the eigenvalues by their signed value, ascending; singular values are sorted "
     "another way."],
    "def singular_values(A):\n    lam = np.linalg.eigvalsh(A)            # ascending, with signs\n"
    "    return np.sort(np.abs(lam))[::-1]       # |lambda|, largest first",
    why="lambda q q^T = |lambda| (sign(lambda) q) q^T is a singular triplet, so the singular values are the "
        "|lambda|; np.linalg.svd lists them from largest to smallest, which needs a new sort after np.abs.",
    formerly="svd-ex3",
)


# ---------------------------------------------------------------- ex4: y = x W, the most amplified input
def _weight(D_in: int, D_out: int, rng: np.random.Generator) -> tuple[np.ndarray]:
    return (rng.normal(size=(D_in, D_out)),)


_W_CASES = cases(_weight, dict(D_in=4, D_out=4), dict(D_in=5, D_out=3), dict(D_in=3, D_out=6), seed=13)


def _check_most_amplified(fn) -> str:
    need_function(fn)
    passed: list[tuple[int, ...]] = []
    for case in _W_CASES:
        (W,) = case.make()
        U, S, Vt = np.linalg.svd(W)  # full: U (D_in, D_in), Vt (D_out, D_out)
        want = U[:, 0]
        got = call(fn, W, name="your most_amplified_input")
        try:
            aligned = _aligned(to_array(got, "your input"), want)
            if aligned.shape != want.shape and passed:
                raise Wrong(f"your input has shape {aligned.shape}, but x has length D_in = {W.shape[0]}; it worked "
                            f"for W of shape {passed[0]}: is a size from that case hard-coded? Read it from W.shape.")
            if aligned.shape == want.shape:
                _unit(aligned, "your input")

            def like(v: np.ndarray, x: np.ndarray = aligned) -> np.ndarray | None:
                return _aligned(v, x) if v.shape == x.shape else None

            bugs = {
                "that is v1 = Vt[0], the answer for the textbook y = W x (an output direction, of length D_out); "
                "in y = x @ W the input directions are the COLUMNS of U, so take U[:, 0] (length D_in).":
                    like(Vt[0]),
                "that is a column of Vt; in y = x @ W the input directions are the columns of U: U[:, 0].":
                    like(Vt[:, 0]),
                "that is a row of U; the singular vectors are the COLUMNS of U: U[:, 0].": like(U[0]),
                "that is a ROW of the eigenvector matrix of W @ W.T; np.linalg.eigh returns the eigenvectors as "
                "its COLUMNS (ascending), so take the last column, vecs[:, -1].":
                    like(np.linalg.eigh(W @ W.T)[1][-1]),
                "that is the input the layer amplifies LEAST (or erases): singular values come largest first, so "
                "take the first column, U[:, 0].": like(U[:, -1]),
            }
            if len(S) < W.shape[0]:
                bugs["that is the input with the smallest non-zero gain; singular values come largest first, so "
                     "take the first column, U[:, 0]."] = like(U[:, len(S) - 1])
            compare(aligned, want, name="your input", rtol=1e-5,
                    bugs={k: v for k, v in bugs.items() if v is not None})
        except Wrong as wrong:
            raise Wrong(f"with W of shape {W.shape}: {wrong}") from None
        passed.append(W.shape)
    return ("for y = x @ W the most amplified input is u1 = U[:, 0], with gain sigma1: the roles of U and V are the "
            "transpose of the textbook's y = W x.")


ex4 = Exercise(
    "svd-most-amplified-input",
    _check_most_amplified,
    ["x @ W = x @ U diag(S) Vt: which factor does the row x meet first, and what is the length of its "
     "singular vectors?",
     "x has length D_in. Of the full U (D_in, D_in) and Vt (D_out, D_out), which holds singular vectors of that "
     "length, in its rows or in its columns?"],
    "def most_amplified_input(W):\n    U, S, Vt = np.linalg.svd(W)\n    return U[:, 0]                  # (D_in,)",
    why="x W = sum_i sigma_i (x . u_i) v_i^T, so a unit x along u1 comes out with length sigma1, the largest gain. "
        "It is the transpose of the textbook case: W.T has U and V swapped.",
    formerly="svd-ex4",
)


# ---------------------------------------------------------------- ex5: the smallest gain, compressing and expanding
#: a compressing layer's weight, (D_in, D_out) = (5, 3): 5 inputs, 3 outputs (a tall matrix, m > n)
W_COMPRESS = np.random.default_rng(0).normal(size=(5, 3)) / np.sqrt(5)


def _check_smallest_gain(answer) -> str:
    S = np.linalg.svd(W_COMPRESS, compute_uv=False)  # (3,)
    got = to_array(answer, "your answer")
    if got.shape != (2,):
        raise Wrong(f"answer with two numbers, (compressing, expanding); got shape {got.shape}.")
    lo = S[-1]
    compare(got, [0.0, lo], name="your (compressing, expanding)", rtol=5e-3, scale=S[-1], reveal=False, bugs={
        "for W_COMPRESS (5 inputs, at most 3 non-zero gains) some unit input lies in the null space and comes out "
        "as 0: sigma_min bounds the gain only for inputs in the span of u1, u2, u3.": [lo, lo],
        "the compressing one is right (0, the null space), but W_COMPRESS.T has 3 inputs and 3 non-zero singular "
        "values: its smallest gain is sigma_min, not 0.": [0.0, 0.0],
        "the two are swapped: the compressing layer (5 inputs -> 3 outputs) has a null space; the expanding one "
        "(3 -> 5) does not.": [lo, 0.0],
        "that is the largest gain, sigma_max; the smallest is 0 for the compressing layer and sigma_min for the "
        "expanding one.": [S[0], S[0]],
        "those are sigma_min and sigma_max, the range of gains of a square invertible layer; the question asks the "
        "smallest gain of each layer: 0 for the compressing one (a null space), sigma_min for the expanding one.":
            [lo, S[0]],
        "the compressing one is right (0), but for the expanding one that is the LARGEST gain, sigma_max; the "
        "smallest is sigma_min.": [0.0, S[0]],
        "the compressing one is right (0), but you squared sigma_min: a gain is ||x W|| itself, sigma_min, not its "
        "square.": [0.0, lo**2],
        "the compressing one is right (0), but that is the condition number sigma_max / sigma_min; the smallest "
        "gain of the expanding layer is sigma_min itself.": [0.0, S[0] / lo],
    })
    return (f"(0, {lo:.4f}): x @ W_COMPRESS maps 5 inputs to 3 outputs, so a 2-dimensional null space goes to 0, "
            "while the expanding W_COMPRESS.T gives each of its 3 input directions a gain of at least sigma_min.")


ex5 = Exercise(
    "svd-smallest-gain-predict",
    _check_smallest_gain,
    ["How many input directions does each layer have, and how many non-zero singular values?",
     "Count for x @ W_COMPRESS: 5 input directions, 3 singular values. What happens to the 2 directions that "
     "have no singular value of their own? Then count again for x @ W_COMPRESS.T."],
    "S = np.linalg.svd(W_COMPRESS, compute_uv=False)\nanswer = (0.0, S[-1])   # compressing: a null space; "
    "expanding: sigma_min",
    why="x @ W_COMPRESS has 5 input directions but at most 3 non-zero gains, so 2 directions are erased (gain 0). "
        "x @ W_COMPRESS.T has 3 input directions, each with a singular value, so every unit input has gain at "
        "least sigma_3.",
    formerly="svd-ex5",
)
