"""Vectors, the dot product, cosine similarity and projection.

Shapes: d is the vector length (an embedding width); u, v are (d,); n is a number of vectors
(rows of E); the norm |u| is the Euclidean length sqrt(u . u).
"""

from __future__ import annotations

import numpy as np

from lib.shapes import as_array, as_number, as_positive_int, as_rng, check_shapes

# A tiny made-up vocabulary for the chapter `vectors`: one 4-dimensional embedding per word.
#: The five words of the chapter's made-up vocabulary, in the order of the rows of EMBEDDINGS.
WORDS = ("king", "queen", "emperor", "apple", "banana")
#: One made-up 4-dimensional embedding per word of WORDS, (n, d) = (5, 4).
EMBEDDINGS = np.array([  # (n, d) = (5, 4)
    [0.90, 0.80, 0.10, 0.00],
    [0.85, 0.75, 0.15, 0.05],
    [2.00, 1.20, 1.50, 0.60],
    [0.10, -0.20, 0.90, 0.70],
    [0.00, -0.10, 0.80, 0.90],
])


def _pair(u: np.ndarray, v: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    u, v = as_array(u, "u", where), as_array(v, "v", where)
    check_shapes(where, u=(u, "d"), v=(v, "d"))
    return u, v


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """Multiply pairwise, then sum.  u (d,), v (d,) -> scalar"""
    u, v = _pair(u, v, "dot")
    return float(sum(a * b for a, b in zip(u, v, strict=True)))


def norm(u: np.ndarray) -> float:
    """Euclidean length sqrt(u . u).  u (d,) -> scalar"""
    u = as_array(u, "u", "norm")
    check_shapes("norm", u=(u, "d"))
    return float(np.sqrt(u @ u))


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine of the angle between u and v: u . v / (|u| |v|), in [-1, 1].  u (d,), v (d,) -> scalar"""
    u, v = _pair(u, v, "cosine")
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("cosine: the angle to a zero vector is undefined (|u| or |v| is 0).")
    return float(np.clip(u @ v / (nu * nv), -1.0, 1.0))


def project(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The projection of u onto the line through v: (u . v / v . v) v.  u (d,), v (d,) -> (d,)"""
    u, v = _pair(u, v, "project")
    vv = v @ v
    if vv == 0:
        raise ValueError("project: cannot project onto the zero vector v.")
    return (u @ v / vv) * v


def unit(angle: float) -> np.ndarray:
    """The 2-D unit vector at `angle` radians from the x axis.  -> (2,)"""
    angle = as_number(angle, "angle", "unit")
    return np.array([np.cos(angle), np.sin(angle)])


def cosine_matrix(E: np.ndarray) -> np.ndarray:
    """Cosine similarity between every pair of rows.  E (n, d) -> (n, n)"""
    E = as_array(E, "E", "cosine_matrix")
    check_shapes("cosine_matrix", E=(E, "n d"))
    lengths = np.linalg.norm(E, axis=1, keepdims=True)  # (n, 1)
    if np.any(lengths == 0):
        raise ValueError("cosine_matrix: a row of E is all zeros, so its angle is undefined.")
    unit_rows = E / lengths  # (n, d)
    return np.clip(unit_rows @ unit_rows.T, -1.0, 1.0)  # (n, d) @ (d, n) -> (n, n); rounding can exceed 1


def random_pair_cosines(d: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Cosines between n_pairs pairs of independent random Gaussian vectors of length d.

    d, n_pairs -> (n_pairs,); for large d they cluster around 0 with a spread of about 1/sqrt(d).
    """
    d = as_positive_int(d, "d", "random_pair_cosines")
    n_pairs = as_positive_int(n_pairs, "n_pairs", "random_pair_cosines")
    rng = as_rng(rng, "random_pair_cosines")
    U = rng.standard_normal((n_pairs, d))  # (n_pairs, d): one u per row
    V = rng.standard_normal((n_pairs, d))  # (n_pairs, d): one v per row
    dots = np.einsum("pd,pd->p", U, V)  # row-wise u . v -> (n_pairs,)
    return np.clip(dots / (np.linalg.norm(U, axis=1) * np.linalg.norm(V, axis=1)), -1.0, 1.0)
