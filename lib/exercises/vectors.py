"""Exercises for the chapter `vectors`.

ex1 a cosine table between two batches with one matrix product; ex2 the nearest word; ex3 the
score shape of cross-attention; ex4 the spread of random cosines; ex5 the part of u perpendicular
to v. Letters: n, m numbers of vectors (rows), d their length, T queries, S keys, d_k key width.
"""

from __future__ import annotations

import numbers

import numpy as np

from lib import vectors
from lib.exercises import Exercise, Wrong, call, compare, to_number
from lib.vectors import EMBEDDINGS, WORDS

RTOL, ATOL = 1e-5, 1e-6  # loose enough for float32 answers


def _norms(M: np.ndarray, axis: int = 1) -> np.ndarray:
    return np.linalg.norm(M, axis=axis, keepdims=True)


# ---------------------------------------------------------------- ex1: a table of cosines
def _cosine_table(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A (n, d), B (m, d) -> (n, m): entry (i, j) is cos(A[i], B[j])."""
    return (A / _norms(A)) @ (B / _norms(B)).T  # (n, d) @ (d, m) -> (n, m)


_rng = np.random.default_rng(7)
TABLE_SIZES = [(3, 3, 4), (2, 4, 3), (5, 1, 2), (1, 3, 6)]  # (n, m, d): square first, so more bugs run
_TABLE_CASES = [(_rng.normal(size=(n, d)) * _rng.uniform(0.5, 3.0, size=(n, 1)),
                 _rng.normal(size=(m, d)) * _rng.uniform(0.5, 3.0, size=(m, 1))) for n, m, d in TABLE_SIZES]
_TABLE_CASES.append((np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[4.0, -3.0], [-2.0, 0.0], [4.0, 3.0]])))


_TABLE_CRASHES = {  # a fragment of NumPy's error -> what to change
    "matmul": "The inner sizes of a product must match: A is (n, d) and B is (m, d), so transpose B: A @ B.T.",
    "could not be broadcast": "To divide the n rows of A by their n lengths, the lengths must be a column: "
                              "np.linalg.norm(A, axis=1, keepdims=True) has shape (n, 1); for the table of "
                              "length products use np.outer(len_A, len_B).",
}


def call_explained(fn, *args: object, name: str, crashes: dict[str, str]) -> object:
    """`call`, adding what to change when the learner's code crashes with a known NumPy error."""
    try:
        return call(fn, *args, name=name)
    except Wrong as wrong:
        message = str(wrong)
        for fragment, sentence in crashes.items():
            if message.startswith(f"{name} raised") and fragment in message:
                raise Wrong(f"{message.rstrip('.')}. {sentence}") from None
        raise


def _table_bugs(A: np.ndarray, B: np.ndarray) -> dict[str, object]:
    dots = A @ B.T  # (n, m)
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)  # (n,), (m,)
    want = _cosine_table(A, B)
    return {
        "that is the table of plain dot products A @ B.T: divide entry (i, j) by |a_i| |b_j| "
        "(or scale every row to length 1 first).": dots,
        "you scaled only the rows of A to length 1; scale the rows of B too.": lambda: (A / _norms(A)) @ B.T,
        "you scaled only the rows of B to length 1; scale the rows of A too.": lambda: A @ (B / _norms(B)).T,
        "you divided by the lengths of the columns (axis=0); each vector is a row, so take one length "
        "per row: np.linalg.norm(A, axis=1, keepdims=True).":
            lambda: (A / _norms(A, 0)) @ (B / _norms(B, 0)).T,
        "np.linalg.norm(A) without an axis is one number, the length of the whole matrix; take one "
        "length per row with axis=1.": lambda: dots / (np.linalg.norm(A) * np.linalg.norm(B)),
        "you divided by squared lengths (a @ a); a length is the square root of that.":
            lambda: dots / np.outer(na**2, nb**2),
        "operator precedence: `x / a * b` divides by a and then multiplies by b; put the product of "
        "the lengths in parentheses, x / (a * b).": lambda: dots / na[:, None] * nb[None, :],
        "entry (i, j) is divided by |a_j| |b_i|, the lengths the other way round: the row lengths of "
        "A go along axis 0 (na[:, None]) and those of B along axis 1.": lambda: dots / np.outer(nb, na),
        "na * nb multiplies the two lists of lengths entry by entry; entry (i, j) needs |a_i| |b_j|, "
        "every pair: np.outer(na, nb), or na[:, None] * nb.": lambda: dots / (na * nb),
        "those are angles (np.arccos of the cosines); return the cosines themselves.":
            lambda: np.arccos(np.clip(want, -1, 1)),
        "those are angles in degrees; return the cosines themselves.":
            lambda: np.degrees(np.arccos(np.clip(want, -1, 1))),
        "that is 1 - cosine, the cosine distance; return the cosine itself.": lambda: 1 - want,
        "you took the absolute value; a cosine keeps its sign (negative when the vectors point apart).":
            lambda: np.abs(want),
        "rows and columns are swapped: entry (i, j) pairs row i of A with row j of B, so the table "
        "is (n, m), A_unit @ B_unit.T.": want.T,
    }


def _check_table(fn) -> str:
    for A, B in _TABLE_CASES:
        shapes = f"for A {A.shape} and B {B.shape}"
        try:
            got = call_explained(fn, A, B, name="your cosine_table", crashes=_TABLE_CRASHES)
        except Wrong as wrong:
            raise Wrong(f"{shapes}: {wrong}") from None
        d = A.shape[1]
        try:
            shape = np.shape(got)
        except ValueError:  # a ragged list; compare() explains it
            shape = None
        if shape == (d, d) and (len(A), len(B)) != (d, d):
            raise Wrong(f"{shapes}: your table is (d, d) = ({d}, {d}): A.T @ B contracts the vectors instead of "
                        "their coordinates. The vectors are rows, so the product is A @ B.T, (n, m).")
        try:
            compare(got, _cosine_table(A, B), name="your table", bugs=_table_bugs(A, B), rtol=RTOL, atol=ATOL)
        except Wrong as wrong:
            raise Wrong(f"{shapes}: {wrong}") from None
    return ("one product of unit rows gives all n * m cosines at once; the (n, n) table of a vocabulary "
            "with itself is the special case B = A.")


ex1 = Exercise(
    "vectors-ex1",
    _check_table,
    ["Scale every row of A and every row of B to length 1 first; then one matrix product gives "
     "every dot product at once, and a dot product of unit vectors is their cosine.",
     "np.linalg.norm(A, axis=1, keepdims=True) has shape (n, 1): one length per row, ready to "
     "divide A by. Then work out which product of (n, d) and (m, d) matrices gives (n, m)."],
    "def cosine_table(A, B):\n"
    "    A_unit = A / np.linalg.norm(A, axis=1, keepdims=True)  # (n, d), rows of length 1\n"
    "    B_unit = B / np.linalg.norm(B, axis=1, keepdims=True)  # (m, d)\n"
    "    return A_unit @ B_unit.T                               # (n, d) @ (d, m) -> (n, m)",
    solution_text="The cosine of two vectors is the dot product of their unit vectors, so normalise "
    "the rows once and let the transpose line up the shared d.",
)


# ---------------------------------------------------------------- ex2: the nearest word
def _check_nearest(answer) -> str:
    if not isinstance(answer, str):
        raise Wrong(f"answer with a word (a string such as 'apple'), got {type(answer).__name__}.")
    word = answer.strip().strip("'\".!").strip().lower()
    if word not in WORDS:
        raise Wrong(f"{answer!r} is not one of the words {WORDS}.")
    if word == "king":
        raise Wrong("every vector is most similar to itself; leave 'king' out and take the best of the rest.")
    if word == "emperor":
        raise Wrong("'emperor' has the largest dot product with 'king', but only because its vector is long; "
                    "the cosine divides the length out.")
    sims = vectors.cosine_matrix(EMBEDDINGS)[0]
    best = WORDS[1 + int(np.argmax(sims[1:]))]
    if word != best:
        raise Wrong(f"cosine(king, {word}) = {sims[WORDS.index(word)]:.3f}; another word scores higher.")
    return f"'{best}' points almost exactly the way 'king' does (cosine {sims[1]:.3f})."


ex2 = Exercise(
    "vectors-ex2",
    _check_nearest,
    ["Compare directions, not lengths: compute the cosine between the 'king' row and every other row.",
     "Row 0 of vectors.cosine_matrix(E) holds king's cosine with every word (entry 0 is king itself)."],
    "S = vectors.cosine_matrix(vectors.EMBEDDINGS)   # (n, n) cosines, E in the chapter\n"
    "answer = WORDS[1 + int(np.argmax(S[0, 1:]))]    # best of row 0, king itself skipped",
    solution_text="Row 0 of the cosine table compares king with every word; skip king itself and take "
    "the largest. 'emperor' wins by dot product only because its vector is long.",
)


# ---------------------------------------------------------------- ex3: cross-attention scores
T_Q, S_K, D_K = 5, 7, 16  # queries from a sequence of T tokens, keys from another of S tokens


def _as_shape(value: object, what: str) -> tuple[int, ...]:
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
        value = tuple(value.tolist())
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        raise Wrong(f"answer with {what}, a tuple of integers such as (3, 4); got {value!r}.")
    return tuple(int(v) for v in value)


def _check_cross(answer) -> str:
    got = _as_shape(answer, "the shape of the score matrix")
    want = (T_Q, S_K)
    if got == want:
        return ("one score per (query, key) pair: T rows, one per query of the first sequence, and S "
                "columns, one per key of the other. Self-attention is the case S = T.")
    known = {
        (S_K, T_Q): "that is the shape of K @ Q.T. Each query gets a row of scores, one per key: rows "
                    "are the T queries, columns the S keys.",
        (T_Q, T_Q): "(T, T) is self-attention's shape, where queries and keys come from the same T "
                    "tokens; here the keys come from the other sequence, which has S tokens.",
        (S_K, S_K): "(S, S) would pair keys with keys; the scores pair each of the T queries with each of "
                    "the S keys.",
        (T_Q, D_K): "(T, d_k) is the shape of Q itself; the product with K.T cancels d_k and leaves one "
                    "score per (query, key) pair.",
        (S_K, D_K): "(S, d_k) is the shape of K itself; the scores pair each query with each key.",
        (D_K, D_K): "Q.T @ K cancels the tokens and keeps d_k; the scores are Q @ K.T, which cancels d_k.",
        (T_Q, S_K, D_K): "the dot product sums over d_k, so d_k disappears: the scores are 2-D.",
    }
    raise Wrong(known.get(got, f"{got} is not the shape: write (T, d_k) @ (d_k, S) and cancel the "
                               "shared dimension."))


ex3 = Exercise(
    "vectors-ex3",
    _check_cross,
    ["Each score is one query dotted with one key. How many queries are there, and how many keys?",
     "Write the product with its shapes: Q (T, d_k) @ K.T (d_k, S) -> ?, then put in the numbers."],
    "answer = (5, 7)   # Q (T, d_k) @ K.T (d_k, S) -> (T, S) = (5, 7)",
    solution_text="The inner d_k = 16 cancels; one row per query (T = 5) and one column per key "
    "(S = 7) remain.",
)


# ---------------------------------------------------------------- ex4: the spread of random cosines
D_SPREAD = 3072
_SPREAD = 1 / np.sqrt(D_SPREAD)  # 0.01804...


def _check_spread(answer) -> str:
    if isinstance(answer, np.ndarray) and answer.shape == ():
        answer = answer[()]  # a 0-d array is a number
    value = to_number(answer, "your spread", what="a number (the standard deviation of the cosine)")
    if abs(value - _SPREAD) <= 0.06 * _SPREAD:
        return (f"1 / sqrt({D_SPREAD}) = {_SPREAD:.4f}: four times the width of the space, half the "
                f"spread of d = 768 (0.036). Two unrelated 3072-dimensional vectors lie within about "
                f"{np.degrees(_SPREAD):.0f} degree of perpendicular, typically.")
    near = {
        1 / D_SPREAD: "that is 1/d, the variance of the cosine; the spread (standard deviation) is its square "
                      "root, 1/sqrt(d).",
        np.sqrt(D_SPREAD): "that is sqrt(d); the spread is its inverse, 1/sqrt(d).",
        np.degrees(_SPREAD): "that is the spread of the angle in degrees; the question asks for the spread "
                             "of the cosine itself, a number near 0.",
        1 / np.sqrt(768): "that is the spread for d = 768 from the histogram; redo it for d = 3072.",
        1 / np.sqrt(16): "that is the spread for d = 16 from the histogram; redo it for d = 3072.",
        1 / np.sqrt(2): "that is the spread for d = 2 from the histogram; redo it for d = 3072.",
        0.02: "close, but that is one significant digit; give two.",
    }
    for bug_value, sentence in near.items():
        if abs(value - bug_value) <= 0.02 * abs(bug_value):
            raise Wrong(sentence)
    if value == 0:
        raise Wrong("0 is the mean of the cosine (as often positive as negative); the question asks for its "
                    "spread, the standard deviation.")
    raise Wrong(f"{value:g} is not the spread: look at how the printed spread changes from d = 16 to d = 768.")


ex4 = Exercise(
    "vectors-ex4",
    _check_spread,
    ["The histogram cell printed the spread of the cosine next to a simple formula in d for three "
     "values of d. Which formula matched?",
     "Going from d = 16 to d = 768 multiplies d by 48; the spread went from 0.25 to 0.036, down by "
     "about 7 = sqrt(48). Apply the same rule to d = 3072."],
    "answer = 1 / np.sqrt(3072)   # about 0.018",
    solution_text="The cosine of two random directions has a spread of about 1/sqrt(d). Four times the "
    "width of d = 768 gives half its spread: 0.036 / 2 = 0.018.",
)


# ---------------------------------------------------------------- ex5: the perpendicular part
_PERP_PAIRS = [(_rng.normal(size=d), _rng.normal(size=d) * 2.5) for d in (3, 5, 2)] + [
    (np.array([3.0, 4.0]), np.array([4.0, -3.0])),  # already perpendicular: u itself
    (np.array([1.0, 2.0, 2.0]), np.array([-2.0, -4.0, -4.0])),  # parallel: the zero vector
]


def _perp(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u - (u @ v) / (v @ v) * v


def _perp_bugs(u: np.ndarray, v: np.ndarray) -> dict[str, object]:
    uv, vv = u @ v, v @ v
    proj = uv / vv * v
    return {
        "that is the projection itself, the part of u along v; subtract it from u to keep the part "
        "perpendicular to v.": proj,
        "the sign is flipped: the perpendicular part is u minus its projection, not the projection minus u.": -_perp(u, v),
        "you forgot to divide by v . v: the projection is (u . v / v . v) v.": u - uv * v,
        "you divided by |v| instead of v . v = |v|^2.": u - uv / np.sqrt(vv) * v,
        "the roles are swapped: that is v minus its projection on u; keep u and remove its part along v.":
            v - uv / (u @ u) * u,
        "you divided by u . u; the projection on v divides by v . v.": u - uv / (u @ u) * v,
        "you used the cosine as the coefficient; the coefficient of v is u . v / v . v.":
            u - uv / (np.linalg.norm(u) * np.sqrt(vv)) * v,
        "operator precedence: u @ v / v @ v * v is read ((u @ v) / v) @ v * v; write "
        "(u @ v) / (v @ v) * v with parentheses.": u - len(u) * uv * v,
    }


def _check_perp(fn) -> str:
    for u, v in _PERP_PAIRS:
        got = call(fn, u, v, name="your perpendicular")
        compare(got, _perp(u, v), name=f"perpendicular({u.round(2)}, {v.round(2)})", bugs=_perp_bugs(u, v),
                rtol=RTOL, atol=ATOL)
    return ("u = (its projection on v) + (a part perpendicular to v); the second part has a zero dot "
            "product with v, it is u itself when u is already perpendicular, and 0 when u is parallel.")


ex5 = Exercise(
    "vectors-ex5",
    _check_perp,
    ["Split u into two pieces: one along v (the shadow of the demo) and what is left over.",
     "The piece along v is the projection (u . v / v . v) v; the left-over piece is u minus that. "
     "Check your result r with r @ v: it should be 0."],
    "def perpendicular(u, v):\n"
    "    along_v = (u @ v) / (v @ v) * v   # the projection of u on the line through v\n"
    "    return u - along_v                # what is left has no part along v",
    solution_text="Removing the shadow leaves the part of u that v cannot see: its dot product with v is "
    "u . v - (u . v / v . v) v . v = 0.",
)
