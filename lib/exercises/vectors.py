"""Exercises for the chapter `vectors`.

ex1 a cosine table between two batches with one matrix product; ex2 a similarity search with one
bug to find; ex3 the score shape of cross-attention; ex4 the spread of random cosines; ex5 the part
of u perpendicular to v; ex6 a prediction of apple's best match by dot product. Letters: n, m numbers of vectors (rows), d their length, T queries, S keys, d_k key width.
"""

from __future__ import annotations

import numpy as np

from lib import vectors
from lib.exercises import (
    Case,
    Exercise,
    Wrong,
    as_shape,
    cases,
    check_function,
    compare,
    compare_choice,
    explain_crashes,
    not_applicable,
)
from lib.vectors import EMBEDDINGS, WORDS


def _unit(M: np.ndarray, axis: int = 1) -> np.ndarray:
    return M / np.linalg.norm(M, axis=axis, keepdims=True)


def _lengths(M: np.ndarray) -> np.ndarray:
    return np.linalg.norm(M, axis=1)  # (rows,)


# ---------------------------------------------------------------- ex1: a table of cosines
def _cosine_table(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A (n, d), B (m, d) -> (n, m): entry (i, j) is cos(A[i], B[j])."""
    return _unit(A) @ _unit(B).T  # (n, d) @ (d, m) -> (n, m)


def _rows(rng: np.random.Generator, count: int, d: int) -> np.ndarray:
    return rng.normal(size=(count, d)) * rng.uniform(0.5, 3.0, size=(count, 1))  # rows of unequal lengths


TABLE_CASES = cases(lambda n, m, d, rng: (_rows(rng, n, d), _rows(rng, m, d)),
                    dict(n=3, m=3, d=4), dict(n=2, m=4, d=3), dict(n=5, m=1, d=2), dict(n=1, m=3, d=6), seed=7)
TABLE_CASES.append(Case("A = [[3, 4], [1, 0]], B = [[4, -3], [-2, 0], [4, 3]]",  # cosines 0, -1, 0.96 by hand
                        lambda: (np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[4.0, -3.0], [-2.0, 0.0], [4.0, 3.0]]))))

TABLE_CRASHES = {  # a fragment of NumPy's error -> what to change
    "matmul": "The inner sizes of a product must match: A is (n, d) and B is (m, d), so transpose B: A @ B.T.",
    "could not be broadcast": "To divide the n rows of A by their n lengths, the lengths must be a column: "
                              "np.linalg.norm(A, axis=1, keepdims=True) has shape (n, 1); for the table of "
                              "length products use np.outer(len_A, len_B).",
}

TABLE_BUGS = {
    "that is the table of plain dot products A @ B.T: divide entry (i, j) by |a_i| |b_j| (or scale every row "
    "to length 1 first).": lambda A, B: A @ B.T,
    "you scaled only the rows of A to length 1; scale the rows of B too.": lambda A, B: _unit(A) @ B.T,
    "you scaled only the rows of B to length 1; scale the rows of A too.": lambda A, B: A @ _unit(B).T,
    "you divided by the lengths of the columns (axis=0); each vector is a row, so take one length per row: "
    "np.linalg.norm(A, axis=1, keepdims=True).": lambda A, B: _unit(A, 0) @ _unit(B, 0).T,
    "np.linalg.norm(A) without an axis is one number, the length of the whole matrix; take one length per row "
    "with axis=1.": lambda A, B: A @ B.T / (np.linalg.norm(A) * np.linalg.norm(B)),
    "you divided by squared lengths (a @ a); a length is the square root of that.":
        lambda A, B: A @ B.T / np.outer(_lengths(A) ** 2, _lengths(B) ** 2),
    "operator precedence: `x / a * b` divides by a and then multiplies by b; put the product of the lengths in "
    "parentheses, x / (a * b).": lambda A, B: A @ B.T / _lengths(A)[:, None] * _lengths(B)[None, :],
    "entry (i, j) is divided by |a_j| |b_i|, the lengths the other way round: the row lengths of A go along "
    "axis 0 (len_A[:, None]) and those of B along axis 1.": lambda A, B: A @ B.T / np.outer(_lengths(B), _lengths(A)),
    "len_A * len_B multiplies the two lists of lengths entry by entry; entry (i, j) needs |a_i| |b_j|, every "
    "pair: np.outer(len_A, len_B), or len_A[:, None] * len_B.": lambda A, B: A @ B.T / (_lengths(A) * _lengths(B)),
    "both lists of lengths are columns, (n, 1) and (m, 1), so their product pairs |a_i| with |b_i|; the lengths "
    "of B must run along axis 1, as a row: len_A[:, None] * len_B.":
        lambda A, B: A @ B.T / (_lengths(A) * _lengths(B))[:, None],
    "that table compares A with itself; its columns should be the rows of B.": lambda A, B: _cosine_table(A, A),
    "A.T @ B contracts the vectors instead of their coordinates and gives (d, d); the vectors are rows, so the "
    "product is A @ B.T, (n, m).": lambda A, B: _unit(A).T @ _unit(B),
    "those are angles (np.arccos of the cosines); return the cosines themselves.":
        lambda A, B: np.arccos(np.clip(_cosine_table(A, B), -1, 1)),
    "those are angles in degrees; return the cosines themselves.":
        lambda A, B: np.degrees(np.arccos(np.clip(_cosine_table(A, B), -1, 1))),
    "that is 1 - cosine, the cosine distance; return the cosine itself.": lambda A, B: 1 - _cosine_table(A, B),
    "you took the absolute value; a cosine keeps its sign (negative when the vectors point apart).":
        lambda A, B: np.abs(_cosine_table(A, B)),
    "rows and columns are swapped: entry (i, j) pairs row i of A with row j of B, so the table is (n, m), "
    "A_unit @ B_unit.T.": lambda A, B: _cosine_table(A, B).T,
    "you added the lengths; the cosine divides by their product, |a_i| |b_j|: np.outer(len_A, len_B).":
        lambda A, B: A @ B.T / np.add.outer(_lengths(A), _lengths(B)),
    "np.abs(A).sum(axis=1) is the L1 length (the sum of |entries|); the cosine divides by the Euclidean "
    "length, np.linalg.norm(A, axis=1, keepdims=True).":
        lambda A, B: (A / np.abs(A).sum(axis=1, keepdims=True)) @ (B / np.abs(B).sum(axis=1, keepdims=True)).T,
    "you subtracted each row's mean first, which gives the correlation; the cosine divides the rows as they "
    "are by their lengths.": lambda A, B: _cosine_table(A - A.mean(axis=1, keepdims=True),
                                                         B - B.mean(axis=1, keepdims=True)),
    "np.cos of a dot product is not the cosine similarity: divide each dot product by the two lengths instead.":
        lambda A, B: np.cos(A @ B.T),
    "you divided the table by its own length, one number; entry (i, j) is divided by |a_i| |b_j|, the lengths "
    "of row i of A and row j of B.": lambda A, B: A @ B.T / np.linalg.norm(A @ B.T),
}


def _check_table(fn) -> str:
    check_function(explain_crashes(fn, TABLE_CRASHES), _cosine_table, TABLE_CASES, name="your cosine_table",
                   output="your table", bugs=TABLE_BUGS)
    return ("one product of unit rows gives all n * m cosines at once; the (n, n) table of a vocabulary with "
            "itself is the special case B = A.")


ex1 = Exercise(
    "vectors-cosine-table",
    _check_table,
    ["Scale every row of A and every row of B to length 1 first; then one matrix product gives every dot "
     "product at once, and a dot product of unit vectors is their cosine.",
     "np.linalg.norm(A, axis=1, keepdims=True) has shape (n, 1): one length per row, ready to divide A by. "
     "Then work out which product of an (n, d) and an (m, d) matrix gives (n, m)."],
    "def cosine_table(A, B):\n"
    "    A_unit = A / np.linalg.norm(A, axis=1, keepdims=True)  # (n, d), rows of length 1\n"
    "    B_unit = B / np.linalg.norm(B, axis=1, keepdims=True)  # (m, d)\n"
    "    return A_unit @ B_unit.T                               # (n, d) @ (d, m) -> (n, m)",
    why="The cosine of two vectors is the dot product of their unit vectors, so normalise the rows once and "
    "let the transpose line up the shared d.",
    formerly="vectors-ex1",
)


# ---------------------------------------------------------------- ex2: find the bug in a similarity search
def _similarities(E: np.ndarray, q: np.ndarray) -> np.ndarray:
    """E (n, d), one vector per row, q (d,) -> (n,): entry i is cos(q, E[i])."""
    return (E @ q) / (_lengths(E) * np.linalg.norm(q))  # (n,) / ((n,) * scalar)


def _square_rows(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    return _rows(rng, n, d), rng.normal(size=d) * 2.0


SIM_CASES = cases(_square_rows,  # a square case first, where the axis=0 mistakes still run and can be named
                  dict(n=3, d=3), dict(n=5, d=4), dict(n=2, d=6), dict(n=6, d=2), seed=5)
SIM_CASES.append(Case("E = [[3, 4], [1, 0], [0, -2]], q = [4, 3]",  # cosines 24/25, 4/5, -3/5 by hand
                      lambda: (np.array([[3.0, 4.0], [1.0, 0.0], [0.0, -2.0]]), np.array([4.0, 3.0]))))

SIM_CRASHES = {
    "could not be broadcast": "E @ q has one score per row, shape (n,); divide it by one length per row: "
                              "np.linalg.norm(E, axis=1), shape (n,) (axis=0 gives one length per column, (d,)).",
    "matmul": "E is (n, d) and q is (d,): E @ q contracts the shared d and gives one dot product per row.",
}

SIM_BUGS = {
    "that is the function as given: np.linalg.norm(E) without an axis is one number, the length of the whole "
    "matrix, so every score is a dot product times one constant (long rows still win); divide each score by "
    "the length of its own row, np.linalg.norm(E, axis=1).":
        lambda E, q: (E @ q) / (np.linalg.norm(E) * np.linalg.norm(q)),
    "those are plain dot products: divide entry i by |q| |E[i]|.": lambda E, q: E @ q,
    "you divided by |q| only; each score also needs the length of its own row, np.linalg.norm(E, axis=1).":
        lambda E, q: (E @ q) / np.linalg.norm(q),
    "you divided by the row lengths only; divide by |q| too (it does not change the order, but a cosine does "
    "need it).": lambda E, q: (E @ q) / _lengths(E),
    "np.linalg.norm(E, axis=0) is one length per column (per coordinate); each vector is a row, so take one "
    "length per row with axis=1.":
        lambda E, q: (E @ q) / (np.linalg.norm(E, axis=0) * np.linalg.norm(q)) if E.shape[0] == E.shape[1]
        else not_applicable(),
    "you scaled the columns of E to length 1 (axis=0); each vector is a row, so scale every row to length 1: "
    "np.linalg.norm(E, axis=1, keepdims=True).":
        lambda E, q: _unit(E, 0) @ q / np.linalg.norm(q),
    "your scores form an (n, n) table: norm(E, axis=1, keepdims=True) is a column (n, 1), and dividing the (n,) "
    "scores by it broadcasts; without keepdims the lengths are (n,), one per score.":
        lambda E, q: (E @ q) / (np.linalg.norm(E, axis=1, keepdims=True) * np.linalg.norm(q)),
    "you divided by squared lengths (E[i] @ E[i] and q @ q); a length is the square root of that.":
        lambda E, q: (E @ q) / (_lengths(E) ** 2 * (q @ q)),
    "operator precedence: `x / a * b` divides by a and then multiplies by b; put the product of the lengths in "
    "parentheses, (E @ q) / (len_E * len_q).": lambda E, q: (E @ q) / _lengths(E) * np.linalg.norm(q),
}


def _check_similarities(fn) -> str:
    check_function(explain_crashes(fn, SIM_CRASHES), _similarities, SIM_CASES, name="your similarities",
                   output="your scores", bugs=SIM_BUGS)
    return ("each score is divided by the length of its own row: with one length for the whole matrix the "
            "'cosines' are dot products in disguise, and a long vector such as 'emperor' outranks a closer "
            "direction.")


ex2 = Exercise(
    "vectors-similarity-bug",
    _check_similarities,
    ["The cosine of q with row i divides by |q| and by |E[i]|. How many numbers does np.linalg.norm(E) return, "
     "and how many lengths does the search need?",
     "Print np.linalg.norm(E) and np.linalg.norm(E, axis=1) side by side: the second has shape (n,), one "
     "length per row, the shape of E @ q."],
    "def similarities(E, q):\n"
    "    row_lengths = np.linalg.norm(E, axis=1)                 # (n,): one length per row\n"
    "    return (E @ q) / (row_lengths * np.linalg.norm(q))      # (n,) / (n,)",
    why="One length for the whole matrix scales every score by the same constant, so the order is that of the "
    "dot products; one length per row makes each score the cosine of its own pair.",
)


# ---------------------------------------------------------------- ex3: cross-attention scores
T_Q, S_K, D_K = 5, 7, 16  # queries from a sequence of T tokens, keys from another of S tokens


CROSS_SHAPES = {  # a wrong shape -> what it is
    (S_K, T_Q): "that is the shape of K @ Q.T. Each query gets a row of scores, one per key: rows are the T "
                "queries, columns the S keys.",
    (T_Q, T_Q): "(T, T) is self-attention's shape, where queries and keys come from the same T tokens; here the "
                "keys come from the other sequence, which has S tokens.",
    (S_K, S_K): "(S, S) would pair keys with keys; the scores pair each of the T queries with each of the S keys.",
    (T_Q, D_K): "(T, d_k) is the shape of Q itself; the product with K.T cancels d_k and leaves one score per "
                "(query, key) pair.",
    (S_K, D_K): "(S, d_k) is the shape of K itself; the scores pair each query with each key.",
    (D_K, D_K): "Q.T @ K cancels the tokens and keeps d_k; the scores are Q @ K.T, which cancels d_k.",
    (T_Q, S_K, D_K): "the dot product sums over d_k, so d_k disappears: the scores are 2-D.",
    (T_Q * S_K,): "one score per (query, key) pair, yes, but arranged as a table: one row per query.",
    (D_K, S_K): "(d_k, S) is the shape of K.T alone; in Q @ K.T the shared d_k cancels and (T, S) is left.",
    (D_K, T_Q): "(d_k, T) is the shape of Q.T alone; in Q @ K.T the shared d_k cancels and (T, S) is left.",
    (6, 6): "(6, 6) is the score shape of the chapter's example, where T = 6 tokens attend to themselves; here "
            "T = 5 queries meet S = 7 keys.",
    (T_Q + S_K, T_Q + S_K): "the two sequences are not concatenated: the rows are the T queries and the "
                            "columns the S keys.",
}


def _check_cross(answer) -> str:
    got = as_shape(answer, "the shape of the score matrix")
    if got == (T_Q, S_K):
        return ("one score per (query, key) pair: T rows, one per query of the first sequence, and S columns, "
                "one per key of the other. Self-attention is the case S = T.")
    raise Wrong(CROSS_SHAPES.get(got, f"{got} is not the shape: write (T, d_k) @ (d_k, S) and cancel the shared "
                                      "dimension."))


ex3 = Exercise(
    "vectors-cross-attention-shape",
    _check_cross,
    ["Each score is one query dotted with one key. How many queries are there, and how many keys?",
     "Write the product with its shapes: Q (T, d_k) @ K.T (d_k, S) -> ?, then put in the numbers."],
    "answer = (5, 7)   # Q (T, d_k) @ K.T (d_k, S) -> (T, S) = (5, 7)",
    why="The inner d_k = 16 cancels; one row per query (T = 5) and one column per key (S = 7) remain.",
    formerly="vectors-ex3",
)


# ---------------------------------------------------------------- ex4: the spread of random cosines
D_SPREAD = 3072
_SPREAD = 1 / np.sqrt(D_SPREAD)  # 0.01804...
#: Relative tolerance of the spread at d = 3072: two significant digits (0.018 is 0.01804 rounded, 0.2 % off;
#: 0.017 and 0.019 are 6 % and 5 % off and rejected); a sample of a few thousand pairs lands within it.
SPREAD_RTOL = 0.03


def _check_spread(answer) -> str:
    compare(answer, _SPREAD, name="your spread", rtol=SPREAD_RTOL, bugs={
        "that is 1/d, the variance of the cosine; the spread (standard deviation) is its square root, 1/sqrt(d).":
            1 / D_SPREAD,
        "that is sqrt(d); the spread is its inverse, 1/sqrt(d).": np.sqrt(D_SPREAD),
        "that is the spread of the angle in degrees; the question asks for the spread of the cosine itself, a "
        "number near 0.": np.degrees(_SPREAD),
        "that is the spread for d = 768 from the histogram; redo it for d = 3072.": 1 / np.sqrt(768),
        "that is 1/768, without the square root; the spread is 1/sqrt(d), here with d = 3072.": 1 / 768,
        "that is the spread for d = 16 from the histogram; redo it for d = 3072.": 1 / np.sqrt(16),
        "that is the spread for d = 2 from the histogram; redo it for d = 3072.": 1 / np.sqrt(2),
        "close, but that is one significant digit; give two.": 0.02,
        "0 is the mean of the cosine (as often positive as negative); the question asks for its spread, the "
        "standard deviation.": 0.0,
        "that divides the spread of d = 768 by 4, as if it fell like 1/d; it falls like 1/sqrt(d), so four times "
        "the width halves it.": 1 / np.sqrt(768) / 4,
        "90 degrees is the typical angle; the question asks for the spread (standard deviation) of the cosine.":
            90.0,
        "that is the spread in percent; give it as a plain number (about 0.018).": 100 * _SPREAD,
        "that is sqrt(2/d); the spread of the cosine is 1/sqrt(d), without the 2.": np.sqrt(2 / D_SPREAD),
    })
    return (f"1 / sqrt({D_SPREAD}) = {_SPREAD:.4f}: four times the width of the space, half the spread of "
            f"d = 768 (0.036). Two unrelated 3072-dimensional vectors lie within about "
            f"{np.degrees(_SPREAD):.0f} degree of perpendicular, typically.")


ex4 = Exercise(
    "vectors-cosine-spread",
    _check_spread,
    ["The histogram cell printed the spread of the cosine next to a simple formula in d for three values of "
     "d. Which formula matched?",
     "Going from d = 16 to d = 768 multiplies d by 48; the spread went from 0.25 to 0.036, down by about "
     "7 = sqrt(48). Apply the same rule to d = 3072."],
    "answer = 1 / np.sqrt(3072)   # about 0.018",
    why="The cosine of two random directions has a spread of about 1/sqrt(d). Four times the width of "
    "d = 768 gives half its spread: 0.036 / 2 = 0.018.",
    formerly="vectors-ex4",
)


# ---------------------------------------------------------------- ex5: the perpendicular part
def _perp(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """u (d,), v (d,) -> (d,): u minus its projection on the line through v."""
    return u - (u @ v) / (v @ v) * v


PERP_CASES = cases(lambda d, rng: (rng.normal(size=d), 2.5 * rng.normal(size=d)), dict(d=3), dict(d=5), dict(d=2),
                   seed=11)
PERP_CASES += [
    Case("u = [3, 4], v = [4, -3] (already perpendicular)", lambda: (np.array([3.0, 4.0]), np.array([4.0, -3.0]))),
    Case("u = [1, 2, 2], v = [-2, -4, -4] (parallel)",
         lambda: (np.array([1.0, 2.0, 2.0]), np.array([-2.0, -4.0, -4.0]))),
]

PERP_BUGS = {
    "that is the projection itself, the part of u along v; subtract it from u to keep the part perpendicular "
    "to v.": lambda u, v: (u @ v) / (v @ v) * v,
    "the sign is flipped: the perpendicular part is u minus the projection, not the projection minus u.":
        lambda u, v: -_perp(u, v),
    "you forgot to divide by v . v: the projection is (u . v / v . v) v.": lambda u, v: u - (u @ v) * v,
    "you divided by |v| instead of v . v = |v|^2.": lambda u, v: u - (u @ v) / np.linalg.norm(v) * v,
    "the roles are swapped: that is v minus its projection on u; keep u and remove its part along v.":
        lambda u, v: v - (u @ v) / (u @ u) * u,
    "you divided by u . u; the projection on v divides by v . v.": lambda u, v: u - (u @ v) / (u @ u) * v,
    "you used the cosine as the coefficient; the coefficient of v is u . v / v . v.":
        lambda u, v: u - (u @ v) / (np.linalg.norm(u) * np.linalg.norm(v)) * v,
    "operator precedence: u @ v / v @ v * v is read ((u @ v) / v) @ v * v; write (u @ v) / (v @ v) * v with "
    "parentheses.": lambda u, v: u - len(u) * (u @ v) * v,
    "operator precedence: u @ v / (v @ v * v) divides by the vector (v . v) v entry by entry; write "
    "(u @ v) / (v @ v) * v.": lambda u, v: u - (u @ v) / ((v @ v) * v),
    "(u . v) / (v . v) is only the coefficient, a number; the projection is that number times v.":
        lambda u, v: u - (u @ v) / (v @ v),
    "you scaled u instead of v: the projection on v is a multiple of v, (u . v / v . v) v.":
        lambda u, v: u - (u @ v) / (u @ u) * u,
    "np.cross gives a vector perpendicular to both u and v (and only in 3-D); the part of u perpendicular to v "
    "is u minus its projection on v.": lambda u, v: np.cross(u, v) if len(u) == 3 else None,
    "that is only the coefficient (u . v) / (v . v), a number; return u minus that number times v.":
        lambda u, v: (u @ v) / (v @ v),
}


def _check_perp(fn) -> str:
    check_function(fn, _perp, PERP_CASES, name="your perpendicular", output="your vector", bugs=PERP_BUGS,
                   scale=1.0)  # the parallel case's answer is 0: judge rounding against |u| ~ 1, not against 0
    return ("u = (its projection on v) + (a part perpendicular to v); the second part has a zero dot product "
            "with v, it is u itself when u is already perpendicular, and 0 when u is parallel.")


ex5 = Exercise(
    "vectors-perpendicular-part",
    _check_perp,
    ["Split u into two pieces: one along v (the shadow of the demo) and what is left over.",
     "The piece along v is the projection of the chapter, proj_v u. Whatever you compute, test it: your result "
     "r should satisfy r @ v == 0 (up to rounding), and r + proj_v u should give u back."],
    "def perpendicular(u, v):\n"
    "    along_v = (u @ v) / (v @ v) * v   # the projection of u on the line through v\n"
    "    return u - along_v                # what is left has no part along v",
    why="Removing the shadow leaves the part of u that v cannot see: its dot product with v is "
    "u . v - (u . v / v . v) v . v = 0.",
    formerly="vectors-ex5",
)


# ---------------------------------------------------------------- ex6: predict apple's best match by dot product
def _check_apple_dot(answer) -> str:
    i = WORDS.index("apple")
    dots = EMBEDDINGS @ EMBEDDINGS[i]  # (n,): apple's dot product with every word, itself included
    best = WORDS[int(np.argmax(dots))]
    if isinstance(answer, str):
        answer = answer.strip().rstrip(".!").strip()
    order = sorted(range(len(WORDS)), key=lambda k: -dots[k])
    compare_choice(answer, WORDS, best, bugs={
        "apple": f"a word's dot product with itself is its squared length, |apple|^2 = {dots[i]:.2f}; a longer "
                 "vector can beat it, even one pointing elsewhere.",
        "banana": f"'banana' is the closest *direction* (the largest cosine), and its dot product "
                  f"{dots[WORDS.index('banana')]:.2f} "
                  "beats apple's own; but one word's vector is long enough to beat both.",
        **{w: f"apple . {w} = {dots[k]:.2f}; that is rank {order.index(k) + 1} of {len(WORDS)}."
           for k, w in enumerate(WORDS) if w not in ("apple", "banana", best)},
    })
    return (f"apple . {best} = {dots[WORDS.index(best)]:.2f} beats banana ({dots[WORDS.index('banana')]:.2f}) and "
            f"apple itself "
            f"({dots[i]:.2f}): by dot product a long vector wins even with an angle of "
            f"{np.degrees(np.arccos(vectors.cosine(EMBEDDINGS[i], EMBEDDINGS[WORDS.index(best)]))):.0f} degrees.")


ex6 = Exercise(
    "vectors-apple-dot",
    _check_apple_dot,
    ["A dot product is length times length times cosine. Which word has a long vector, and how long is apple's "
     "own?",
     "Estimate the three candidates from the rows of E: apple . apple is the sum of apple's squares; compare "
     "it with apple . banana and apple . emperor, term by term."],
    'answer = "emperor"   # E @ E[3] = [0.02, 0.105, 1.73, 1.35, 1.37]: emperor\'s long vector wins',
    why="The dot product rewards length as well as direction; only the cosine compares directions alone.",
)
